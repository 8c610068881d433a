//! Workspaces and their members.

use juror_core::audit::AuditAction;
use juror_core::ids::{UserId, WorkspaceId};
use juror_core::time::Timestamp;
use juror_core::user::{validate_workspace_name, User, Workspace};
use juror_store::StoreError;
use serde_json::json;

use crate::auth::Caller;
use crate::error::{not_found, on_unique, AppError, AppResult};
use crate::policy::Action;
use crate::App;

impl App {
    /// Creates a workspace (owners only).
    pub async fn create_workspace(&self, caller: &Caller, id: Option<WorkspaceId>, name: String) -> AppResult<Workspace> {
        Self::require_owner(caller)?;
        self.add_workspace(Some(caller), id, name).await
    }

    /// Creates a workspace without a caller: for start-up and the CLI.
    pub async fn insert_workspace(&self, id: Option<WorkspaceId>, name: String) -> AppResult<Workspace> {
        self.add_workspace(None, id, name).await
    }

    async fn add_workspace(&self, actor: Option<&Caller>, id: Option<WorkspaceId>, name: String) -> AppResult<Workspace> {
        validate_workspace_name(&name)?;
        let now = Timestamp::now();
        let workspace = Workspace { id: id.unwrap_or_default(), name, inserted_at: now, updated_at: now };
        if self.store.get_workspace(workspace.id).await?.is_some() {
            return Err(AppError::Conflict(format!("Workspace with id `{}` already exists", workspace.id)));
        }
        self.store
            .create_workspace(&workspace)
            .await
            .map_err(|error| on_unique(error, || format!("Workspace name `{}` is not unique", workspace.name)))?;
        self.audit(actor, AuditAction::WorkspaceCreated, "workspace", workspace.id, json!({"name": workspace.name})).await;
        Ok(workspace)
    }

    /// The workspaces the caller sees, oldest first.
    pub async fn my_workspaces(&self, caller: &Caller) -> AppResult<Vec<Workspace>> {
        self.workspaces_of(&caller.user).await
    }

    /// One workspace (owners and members).
    pub async fn get_workspace(&self, caller: &Caller, id: WorkspaceId) -> AppResult<Workspace> {
        let workspace = self.store.get_workspace(id).await?.ok_or_else(|| not_found("Workspace", id))?;
        self.authorize(caller, id, Action::Read).await?;
        Ok(workspace)
    }

    /// A workspace by name, if the caller sees it.
    pub async fn find_workspace_by_name(&self, caller: &Caller, name: &str) -> AppResult<Option<Workspace>> {
        let Some(workspace) = self.store.find_workspace_by_name(name).await? else { return Ok(None) };
        match self.authorize(caller, workspace.id, Action::Read).await {
            Ok(()) => Ok(Some(workspace)),
            Err(AppError::Forbidden) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Deletes an empty workspace (owners only).
    pub async fn delete_workspace(&self, caller: &Caller, id: WorkspaceId) -> AppResult<Workspace> {
        Self::require_owner(caller)?;
        let workspace = self.store.get_workspace(id).await?.ok_or_else(|| not_found("Workspace", id))?;
        let linked = || AppError::Conflict(format!("Cannot delete the workspace {id}. This workspace has some datasets linked"));
        if self.store.count_datasets_in_workspace(id).await? > 0 {
            return Err(linked());
        }
        self.store.delete_workspace(id).await.map_err(|error| match error {
            StoreError::ForeignKeyViolation => linked(),
            other => other.into(),
        })?;
        self.people_changed();
        self.audit(Some(caller), AuditAction::WorkspaceDeleted, "workspace", id, json!({"name": workspace.name})).await;
        Ok(workspace)
    }

    /// The members of a workspace (owners, and admins who are members).
    pub async fn workspace_members(&self, caller: &Caller, id: WorkspaceId) -> AppResult<Vec<User>> {
        self.store.get_workspace(id).await?.ok_or_else(|| not_found("Workspace", id))?;
        self.authorize(caller, id, Action::Manage).await?;
        Ok(self.store.list_workspace_members(id).await?)
    }

    /// Adds a user to a workspace (owners only). An unknown user is invalid input, not a 404.
    pub async fn add_workspace_member(&self, caller: &Caller, id: WorkspaceId, user_id: UserId) -> AppResult<User> {
        Self::require_owner(caller)?;
        self.store.get_workspace(id).await?.ok_or_else(|| not_found("Workspace", id))?;
        let user = self.store.get_user(user_id).await?.ok_or_else(|| AppError::Invalid(format!("User with id `{user_id}` not found")))?;
        self.store.add_workspace_member(id, user_id).await.map_err(|error| {
            on_unique(error, || format!("User with id `{user_id}` already exists in workspace with id `{id}`"))
        })?;
        self.people_changed();
        self.audit(Some(caller), AuditAction::MemberAdded, "workspace", id, json!({"user_id": user_id.to_string(), "username": user.username})).await;
        Ok(user)
    }

    /// Removes a user from a workspace (owners, and admins who are members).
    pub async fn remove_workspace_member(&self, caller: &Caller, id: WorkspaceId, user_id: UserId) -> AppResult<User> {
        self.store.get_workspace(id).await?.ok_or_else(|| not_found("Workspace", id))?;
        self.authorize(caller, id, Action::Manage).await?;
        let user = self.store.get_user(user_id).await?.ok_or_else(|| not_found("User", user_id))?;
        if !self.store.remove_workspace_member(id, user_id).await? {
            return Err(AppError::NotFound(format!("User with id `{user_id}` not found in workspace with id `{id}`")));
        }
        self.people_changed();
        self.audit(Some(caller), AuditAction::MemberRemoved, "workspace", id, json!({"user_id": user_id.to_string(), "username": user.username})).await;
        Ok(user)
    }
}
