//! First start: the default owner and workspace, so a fresh install is usable at once.

use juror_core::user::Role;

use crate::auth::{api_key_digest, verify_password};
use crate::error::{AppError, AppResult};
use crate::users::NewUser;
use crate::App;

/// The password of the default owner unless told otherwise: Argilla's, so known to everyone.
pub const WELL_KNOWN_PASSWORD: &str = "12345678";
/// The API key of the default owner unless told otherwise: Argilla's, so known to everyone.
pub const WELL_KNOWN_API_KEY: &str = "argilla.apikey";

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
        // Several replicas may start at once on an empty shared database: whoever loses a race
        // to create the workspace or the owner uses what the winner created.
        let workspace = match self.store.find_workspace_by_name(&owner.workspace).await? {
            Some(workspace) => workspace,
            None => match self.insert_workspace(None, owner.workspace.clone()).await {
                Ok(workspace) => workspace,
                Err(AppError::Conflict(_)) => self.store.find_workspace_by_name(&owner.workspace).await?.ok_or_else(|| AppError::Conflict(format!("workspace `{}` vanished while it was created", owner.workspace)))?,
                Err(error) => return Err(error),
            },
        };
        let created = self
            .insert_user(NewUser {
                id: None,
                username: owner.username.clone(),
                first_name: owner.username.clone(),
                last_name: None,
                role: Role::Owner,
                password: owner.password.clone(),
                api_key: Some(owner.api_key.clone()),
                workspaces: vec![workspace.id],
            })
            .await;
        match created {
            Ok(_) => Ok(true),
            Err(AppError::Conflict(_)) if self.store.find_user_by_username(&owner.username).await?.is_some() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The well-known credentials that still open an account, described for an operator: the
    /// default API key, and owners whose password is the default one. A server reachable from
    /// other machines must not start with any (argon2 checks: one per owner, tens of ms each).
    pub async fn well_known_credentials(&self) -> AppResult<Vec<String>> {
        let mut found = Vec::new();
        if let Some(user) = self.store.find_user_by_api_key_digest(&api_key_digest(WELL_KNOWN_API_KEY)).await? {
            found.push(format!("`{}` has the API key `{WELL_KNOWN_API_KEY}`", user.username));
        }
        for user in self.store.list_users().await?.into_iter().filter(|user| user.role == Role::Owner) {
            let hash = user.password_hash.clone();
            let matches = tokio::task::spawn_blocking(move || verify_password(WELL_KNOWN_PASSWORD, &hash)).await.unwrap_or(false);
            if matches {
                found.push(format!("`{}` has the password `{WELL_KNOWN_PASSWORD}`", user.username));
            }
        }
        Ok(found)
    }
}
