//! The guide's other way to share work: one copy of the dataset per labeler, each in the
//! labeler's own workspace, holding only that labeler's share; and the way back, which brings
//! every labeler's answers home to the original records.
//!
//! A copied record's `external_id` is the id of the original record, so answers find their way
//! back whatever happens to the copies.

use std::collections::HashMap;

use juror_core::dataset::Distribution;
use juror_core::distribution::balanced_assignment;
use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::record::{NewResponse, RecordWrite};
use juror_core::response::NewSuggestion;
use juror_core::user::User;
use juror_store::RecordInclude;

use crate::auth::Caller;
use crate::datasets::NewDataset;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::settings::{NewField, NewMetadataProperty, NewQuestion, NewVectorSettings};
use crate::App;

/// Records copied per write.
const COPY_BATCH: usize = 500;

/// One labeler's copy of a dataset.
#[derive(Debug, Clone)]
pub struct LabelerCopy {
    pub user: UserId,
    pub dataset: DatasetId,
    pub records: usize,
}

impl App {
    /// Copies the dataset into each labeler's own workspace (named after them, created when
    /// missing), each copy holding the labeler's balanced share: every record goes to `overlap`
    /// labelers.
    pub async fn split_into_workspaces(&self, caller: &Caller, dataset_id: DatasetId, labelers: &[User], overlap: usize) -> AppResult<Vec<LabelerCopy>> {
        Self::require_owner(caller)?;
        let schema = self.get_schema(caller, dataset_id).await?;
        let page = self.store.list_records(dataset_id, 0, u64::MAX >> 1, &RecordInclude { suggestions: true, vectors: Some(Vec::new()), ..RecordInclude::default() }).await?;
        let plan = balanced_assignment(page.items.len(), labelers.len(), overlap)?;
        let mut shares: Vec<Vec<usize>> = vec![Vec::new(); labelers.len()];
        for (record, slots) in plan.iter().enumerate() {
            for slot in slots {
                shares[*slot].push(record);
            }
        }
        let mut copies = Vec::with_capacity(labelers.len());
        for (labeler, share) in labelers.iter().zip(shares) {
            let workspace = match self.store.find_workspace_by_name(&labeler.username).await? {
                Some(workspace) => workspace,
                None => self.insert_workspace(None, labeler.username.clone()).await?,
            };
            if !self.store.is_workspace_member(workspace.id, labeler.id).await? {
                self.add_workspace_member(caller, workspace.id, labeler.id).await?;
            }
            let copy = self
                .create_dataset(
                    caller,
                    NewDataset {
                        id: None,
                        name: schema.dataset.name.clone(),
                        workspace_id: workspace.id,
                        guidelines: schema.dataset.guidelines.clone(),
                        allow_extra_metadata: schema.dataset.allow_extra_metadata,
                        distribution: Distribution::default(),
                        metadata: schema.dataset.metadata.clone(),
                    },
                )
                .await?;
            for field in &schema.fields {
                let new = NewField { name: field.name.clone(), title: field.title.clone(), required: field.required, settings: field.settings.to_json() };
                self.create_field(caller, copy.id, new).await?;
            }
            let mut question_ids = HashMap::new();
            for question in &schema.questions {
                let new = NewQuestion {
                    name: question.name.clone(),
                    title: question.title.clone(),
                    description: question.description.clone(),
                    required: question.required,
                    settings: question.settings.to_json(),
                };
                question_ids.insert(question.id, self.create_question(caller, copy.id, new).await?.id);
            }
            for property in &schema.metadata_properties {
                let new = NewMetadataProperty { name: property.name.clone(), title: property.title.clone(), settings: property.settings.to_json(), visible_for_annotators: property.visible_for_annotators };
                self.create_metadata_property(caller, copy.id, new).await?;
            }
            for vector in &schema.vector_settings {
                let new = NewVectorSettings { name: vector.name.clone(), title: vector.title.clone(), dimensions: i64::from(vector.dimensions) };
                self.create_vector_settings(caller, copy.id, new).await?;
            }
            self.publish_dataset(caller, copy.id).await?;
            for chunk in share.chunks(COPY_BATCH) {
                let writes = chunk
                    .iter()
                    .map(|index| {
                        let (record, relations) = &page.items[*index];
                        let suggestions = relations.suggestions.iter().flatten().map(|suggestion| NewSuggestion {
                            question_id: question_ids[&suggestion.question_id],
                            kind: suggestion.kind,
                            value: suggestion.value.clone(),
                            agent: suggestion.agent.clone(),
                            score: suggestion.score.clone(),
                        });
                        let vectors = relations.vectors.iter().flatten().map(|(name, vector)| (name.clone(), serde_json::json!(vector))).collect();
                        RecordWrite {
                            id: None,
                            external_id: Some(record.id.to_string()),
                            fields: Some(record.fields.clone()),
                            metadata: record.metadata.clone(),
                            vectors: Some(vectors),
                            responses: None,
                            suggestions: Some(suggestions.collect()),
                        }
                    })
                    .collect();
                self.create_records(caller, copy.id, writes).await?;
            }
            copies.push(LabelerCopy { user: labeler.id, dataset: copy.id, records: chunk_count(&plan, copies.len()) });
        }
        Ok(copies)
    }

    /// Brings each labeler's answers from their copy (the dataset of the same name in their
    /// workspace) back onto the original records, as that labeler's responses. Returns how many
    /// responses came home per labeler.
    pub async fn consolidate_from_workspaces(&self, caller: &Caller, dataset_id: DatasetId, labelers: &[User]) -> AppResult<Vec<(UserId, usize)>> {
        Self::require_owner(caller)?;
        let original = self.dataset_for(caller, dataset_id, Action::Manage).await?;
        let mut brought = Vec::with_capacity(labelers.len());
        for labeler in labelers {
            let workspace = self
                .store
                .find_workspace_by_name(&labeler.username)
                .await?
                .ok_or_else(|| AppError::Invalid(format!("no workspace named `{}`", labeler.username)))?;
            let copy = self
                .store
                .list_datasets(Some(&[workspace.id]))
                .await?
                .into_iter()
                .find(|dataset| dataset.name == original.name)
                .ok_or_else(|| AppError::Invalid(format!("no dataset `{}` in workspace `{}`", original.name, workspace.name)))?;
            let include = RecordInclude { responses: true, responses_of: Some(labeler.id), ..RecordInclude::default() };
            let page = self.store.list_records(copy.id, 0, u64::MAX >> 1, &include).await?;
            let mut writes = Vec::new();
            for (record, relations) in page.items {
                let Some(original_id) = record.external_id.as_deref().and_then(|id| id.parse::<RecordId>().ok()) else { continue };
                for response in relations.responses.into_iter().flatten() {
                    writes.push(RecordWrite {
                        id: Some(original_id),
                        responses: Some(vec![NewResponse { user_id: labeler.id, values: response.values, status: response.status }]),
                        ..RecordWrite::default()
                    });
                }
            }
            let count = writes.len();
            for chunk in writes.chunks(COPY_BATCH) {
                self.upsert_records(caller, dataset_id, chunk.to_vec()).await?;
            }
            brought.push((labeler.id, count));
        }
        Ok(brought)
    }
}

fn chunk_count(plan: &[Vec<usize>], labeler: usize) -> usize {
    plan.iter().filter(|slots| slots.contains(&labeler)).count()
}
