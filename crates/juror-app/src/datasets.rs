//! Datasets: create, list, read, change, publish and delete.

use std::sync::Arc;

use juror_core::audit::AuditAction;
use juror_core::dataset::{validate_dataset_name, validate_guidelines, Dataset, DatasetStatus, Distribution};
use juror_core::ids::{DatasetId, WorkspaceId};
use juror_core::record::DatasetSchema;
use juror_core::time::Timestamp;
use juror_core::user::Role;
use juror_core::webhook::WebhookEvent;
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::error::{not_found, on_unique, AppError, AppResult};
use crate::policy::Action;
use crate::App;

/// A dataset to create.
#[derive(Debug, Clone)]
pub struct NewDataset {
    pub id: Option<DatasetId>,
    pub name: String,
    pub workspace_id: WorkspaceId,
    pub guidelines: Option<String>,
    pub allow_extra_metadata: bool,
    pub distribution: Distribution,
    pub metadata: Option<Map<String, Value>>,
}

/// Changes to a dataset; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct DatasetPatch {
    pub name: Option<String>,
    pub guidelines: Option<Option<String>>,
    pub allow_extra_metadata: Option<bool>,
    pub distribution: Option<Distribution>,
    pub metadata: Option<Option<Map<String, Value>>>,
}

impl App {
    /// Creates a draft dataset (owners, and admins of the workspace).
    pub async fn create_dataset(&self, caller: &Caller, new: NewDataset) -> AppResult<Dataset> {
        if caller.user.role == Role::Annotator {
            return Err(AppError::Forbidden);
        }
        let workspace = self
            .store
            .get_workspace(new.workspace_id)
            .await?
            .ok_or_else(|| AppError::Invalid(format!("Workspace with id `{}` not found", new.workspace_id)))?;
        self.authorize(caller, workspace.id, Action::Manage).await?;
        validate_dataset_name(&new.name)?;
        if let Some(guidelines) = &new.guidelines {
            validate_guidelines(guidelines)?;
        }
        let now = Timestamp::now();
        let dataset = Dataset {
            id: new.id.unwrap_or_default(),
            name: new.name,
            guidelines: new.guidelines,
            allow_extra_metadata: new.allow_extra_metadata,
            status: DatasetStatus::Draft,
            distribution: new.distribution,
            metadata: new.metadata,
            workspace_id: workspace.id,
            last_activity_at: now,
            inserted_at: now,
            updated_at: now,
        };
        if self.store.get_dataset(dataset.id).await?.is_some() {
            return Err(AppError::Conflict(format!("Dataset with id `{}` already exists", dataset.id)));
        }
        self.store.create_dataset(&dataset).await.map_err(|error| {
            on_unique(error, || format!("Dataset with name `{}` already exists for workspace with id `{}`", dataset.name, workspace.id))
        })?;
        self.audit(Some(caller), AuditAction::DatasetCreated, "dataset", dataset.id, json!({"name": dataset.name, "workspace_id": workspace.id.to_string()})).await;
        self.dataset_event(WebhookEvent::DatasetCreated, dataset.id).await;
        Ok(dataset)
    }

    /// The datasets the caller sees: all for owners, their workspaces' for others.
    pub async fn my_datasets(&self, caller: &Caller) -> AppResult<Vec<Dataset>> {
        if caller.is_owner() {
            return Ok(self.store.list_datasets(None).await?);
        }
        let workspaces: Vec<WorkspaceId> = self.store.list_user_workspaces(caller.user.id).await?.iter().map(|w| w.id).collect();
        Ok(self.store.list_datasets(Some(&workspaces)).await?)
    }

    /// One dataset, as stored now (owners and members).
    pub async fn get_dataset(&self, caller: &Caller, id: DatasetId) -> AppResult<Dataset> {
        self.dataset_for(caller, id, Action::Read).await?;
        self.store.get_dataset(id).await?.ok_or_else(|| not_found("Dataset", id))
    }

    /// A dataset with all its settings (owners and members).
    pub async fn get_schema(&self, caller: &Caller, id: DatasetId) -> AppResult<DatasetSchema> {
        self.dataset_for(caller, id, Action::Read).await?;
        Ok((*self.schema(id).await?).clone())
    }

    /// A dataset with all its settings, without an authorization check (cached briefly).
    pub(crate) async fn schema(&self, id: DatasetId) -> AppResult<Arc<DatasetSchema>> {
        if let Some(schema) = self.schema_cache.get(&id) {
            return Ok(schema);
        }
        let schema = Arc::new(self.store.load_schema(id).await?.ok_or_else(|| not_found("Dataset", id))?);
        self.schema_cache.put(id, schema.clone());
        Ok(schema)
    }

    /// Forgets the cached settings of a dataset that just changed.
    pub(crate) fn settings_changed(&self, id: DatasetId) {
        self.schema_cache.forget(&id);
        self.events.dataset_changed(id);
    }

    /// Changes a dataset (owners, and admins of its workspace).
    pub async fn update_dataset(&self, caller: &Caller, id: DatasetId, patch: DatasetPatch) -> AppResult<Dataset> {
        self.dataset_for(caller, id, Action::Manage).await?;
        // The row as stored now, not the schema cache's copy: writing a second-old copy back
        // would undo a change made meanwhile (by the CLI, or another server).
        let mut dataset = self.store.get_dataset(id).await?.ok_or_else(|| not_found("Dataset", id))?;
        let changed: Vec<&str> = [
            ("name", patch.name.is_some()),
            ("guidelines", patch.guidelines.is_some()),
            ("allow_extra_metadata", patch.allow_extra_metadata.is_some()),
            ("distribution", patch.distribution.is_some()),
            ("metadata", patch.metadata.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        if let Some(name) = patch.name {
            validate_dataset_name(&name)?;
            dataset.name = name;
        }
        if let Some(guidelines) = patch.guidelines {
            if let Some(guidelines) = &guidelines {
                validate_guidelines(guidelines)?;
            }
            dataset.guidelines = guidelines;
        }
        if let Some(allow) = patch.allow_extra_metadata {
            dataset.allow_extra_metadata = allow;
        }
        if let Some(distribution) = patch.distribution {
            dataset.distribution = distribution;
        }
        if let Some(metadata) = patch.metadata {
            dataset.metadata = metadata;
        }
        dataset.updated_at = Timestamp::now();
        let (name, workspace) = (dataset.name.clone(), dataset.workspace_id);
        self.store.update_dataset(&dataset).await.map_err(|error| {
            on_unique(error, || format!("Dataset with name `{name}` already exists for workspace with id `{workspace}`"))
        })?;
        self.settings_changed(id);
        self.audit(Some(caller), AuditAction::DatasetUpdated, "dataset", id, json!({"name": dataset.name, "changed": changed})).await;
        self.dataset_event(WebhookEvent::DatasetUpdated, id).await;
        Ok(dataset)
    }

    /// Publishes a draft dataset: it needs fields and at least one required question.
    pub async fn publish_dataset(&self, caller: &Caller, id: DatasetId) -> AppResult<Dataset> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let schema = self.schema(id).await?;
        let mut dataset = self.store.get_dataset(id).await?.ok_or_else(|| not_found("Dataset", id))?;
        if dataset.is_ready() {
            return Err(AppError::Invalid("Dataset has already been published".into()));
        }
        if schema.fields.is_empty() {
            return Err(AppError::Invalid("Dataset cannot be published without fields".into()));
        }
        if !schema.questions.iter().any(|question| question.required) {
            return Err(AppError::Invalid("Dataset cannot be published without required questions".into()));
        }
        dataset.status = DatasetStatus::Ready;
        dataset.updated_at = Timestamp::now();
        self.store.update_dataset(&dataset).await?;
        self.settings_changed(id);
        self.audit(Some(caller), AuditAction::DatasetPublished, "dataset", id, json!({"name": dataset.name})).await;
        self.dataset_event(WebhookEvent::DatasetPublished, id).await;
        Ok(dataset)
    }

    /// Deletes a dataset and everything in it (owners, and admins of its workspace).
    pub async fn delete_dataset(&self, caller: &Caller, id: DatasetId) -> AppResult<Dataset> {
        let dataset = self.dataset_for(caller, id, Action::Manage).await?;
        let report = self.dataset_to_report(WebhookEvent::DatasetDeleted, id).await;
        self.store.delete_dataset(id).await?;
        self.dataset_deleted_event(report).await;
        self.settings_changed(id);
        self.audit(Some(caller), AuditAction::DatasetDeleted, "dataset", id, json!({"name": dataset.name, "workspace_id": dataset.workspace_id.to_string()})).await;
        Ok(dataset)
    }
}
