//! First start: the default owner and workspace, so a fresh install is usable at once.

use juror_core::user::Role;

use crate::error::AppResult;
use crate::users::NewUser;
use crate::App;

/// The account created when a server starts with no users.
#[derive(Debug, Clone)]
pub struct DefaultOwner {
    pub username: String,
    pub password: String,
    pub api_key: String,
    pub workspace: String,
}

impl App {
    /// Creates the default owner and its workspace when there are no users; true when it did.
    pub async fn ensure_default_owner(&self, owner: &DefaultOwner) -> AppResult<bool> {
        if self.store.count_users().await? > 0 {
            return Ok(false);
        }
        let workspace = match self.store.find_workspace_by_name(&owner.workspace).await? {
            Some(workspace) => workspace,
            None => self.insert_workspace(None, owner.workspace.clone()).await?,
        };
        self.insert_user(NewUser {
            id: None,
            username: owner.username.clone(),
            first_name: owner.username.clone(),
            last_name: None,
            role: Role::Owner,
            password: owner.password.clone(),
            api_key: Some(owner.api_key.clone()),
            workspaces: vec![workspace.id],
        })
        .await?;
        Ok(true)
    }
}
