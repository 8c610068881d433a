//! Authorization: who may do what, as pure rules plus the one lookup they need (membership).
//!
//! Owners may do everything. Admins may do everything inside the workspaces they belong to.
//! Annotators may read their workspaces' datasets and answer their records.

use juror_core::dataset::Dataset;
use juror_core::ids::{DatasetId, WorkspaceId};
use juror_core::user::Role;

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::App;

/// What a caller wants to do inside a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Read the workspace, its datasets and their settings.
    Read,
    /// Answer records (create and edit one's own responses).
    Answer,
    /// Create, change and delete datasets, settings, records and suggestions; manage members.
    Manage,
}

/// Whether a caller with `role`, member of the workspace or not, may take `action` there.
pub(crate) fn allows(role: Role, is_member: bool, action: Action) -> bool {
    match role {
        Role::Owner => true,
        Role::Admin => is_member,
        Role::Annotator => is_member && matches!(action, Action::Read | Action::Answer),
    }
}

impl App {
    /// Fails with `Forbidden` unless the caller may take `action` in the workspace.
    pub(crate) async fn authorize(&self, caller: &Caller, workspace: WorkspaceId, action: Action) -> AppResult<()> {
        let is_member = match caller.user.role {
            Role::Owner => true,
            _ => self.is_member(workspace, caller.user.id).await?,
        };
        if allows(caller.user.role, is_member, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether the user belongs to the workspace (cached for a moment).
    pub(crate) async fn is_member(&self, workspace: WorkspaceId, user: juror_core::ids::UserId) -> AppResult<bool> {
        if let Some(member) = self.membership_cache.get(&(workspace, user)) {
            return Ok(member);
        }
        let member = self.store.is_workspace_member(workspace, user).await?;
        self.membership_cache.put((workspace, user), member);
        Ok(member)
    }

    /// Forgets cached credentials and memberships after a change to users or workspaces.
    pub(crate) fn people_changed(&self) {
        self.auth_cache.clear();
        self.membership_cache.clear();
    }

    /// Fails with `Forbidden` unless the caller is an owner.
    pub(crate) fn require_owner(caller: &Caller) -> AppResult<()> {
        if caller.is_owner() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The dataset, once the caller is allowed `action` on it (404 before 403). It comes from the
    /// schema cache, so its activity timestamps may be a moment old.
    pub(crate) async fn dataset_for(&self, caller: &Caller, id: DatasetId, action: Action) -> AppResult<Dataset> {
        let dataset = self.schema(id).await?.dataset.clone();
        self.authorize(caller, dataset.workspace_id, action).await?;
        Ok(dataset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(role: Role, is_member: bool, expect: [bool; 3]) {
        let got = [Action::Read, Action::Answer, Action::Manage].map(|action| allows(role, is_member, action));
        assert_eq!(got, expect, "{role:?}, member: {is_member}");
    }

    #[test]
    fn owners_may_do_everything_anywhere() {
        check(Role::Owner, false, [true, true, true]);
    }

    #[test]
    fn admins_manage_only_their_workspaces() {
        check(Role::Admin, true, [true, true, true]);
        check(Role::Admin, false, [false, false, false]);
    }

    #[test]
    fn annotators_read_and_answer_only_in_their_workspaces() {
        check(Role::Annotator, true, [true, true, false]);
        check(Role::Annotator, false, [false, false, false]);
    }
}
