//! Users: create, read, update and delete accounts (owners only, except for oneself).

use juror_core::audit::AuditAction;
use juror_core::ids::{UserId, WorkspaceId};
use juror_core::time::Timestamp;
use juror_core::user::{validate_name, validate_password, validate_username, Role, User, Workspace};
use juror_store::UserChanges;
use serde_json::json;

use crate::auth::{api_key_digest, generate_api_key, hash_password, Caller};
use crate::error::{not_found, on_unique, AppError, AppResult};
use crate::App;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// A client-chosen id, honoured when given.
    pub id: Option<UserId>,
    pub username: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub role: Role,
    pub password: String,
    /// A fixed API key (for the default owner); random when `None`.
    pub api_key: Option<String>,
    /// Workspaces to join, by id.
    pub workspaces: Vec<WorkspaceId>,
}

/// Changes to a user; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<Option<String>>,
    pub role: Option<Role>,
    pub password: Option<String>,
}

impl App {
    /// Creates a user (owners only).
    pub async fn create_user(&self, caller: &Caller, new_user: NewUser) -> AppResult<User> {
        Self::require_owner(caller)?;
        self.add_user(Some(caller), new_user).await
    }

    /// Creates a user without a caller: for start-up and the CLI.
    pub async fn insert_user(&self, new_user: NewUser) -> AppResult<User> {
        self.add_user(None, new_user).await
    }

    async fn add_user(&self, actor: Option<&Caller>, new_user: NewUser) -> AppResult<User> {
        validate_username(&new_user.username)?;
        validate_name("first_name", &new_user.first_name)?;
        if let Some(last_name) = &new_user.last_name {
            validate_name("last_name", last_name)?;
        }
        validate_password(&new_user.password)?;
        for workspace in &new_user.workspaces {
            self.store.get_workspace(*workspace).await?.ok_or_else(|| AppError::Invalid(format!("Workspace with id `{workspace}` not found")))?;
        }
        let now = Timestamp::now();
        let api_key = new_user.api_key.unwrap_or_else(generate_api_key);
        let user = User {
            id: new_user.id.unwrap_or_default(),
            username: new_user.username,
            first_name: new_user.first_name,
            last_name: new_user.last_name,
            role: new_user.role,
            password_hash: hash_password(&new_user.password)?,
            api_key,
            inserted_at: now,
            updated_at: now,
        };
        if self.store.get_user(user.id).await?.is_some() {
            return Err(AppError::Conflict(format!("User with id `{}` already exists", user.id)));
        }
        self.store
            .create_user(&user, &api_key_digest(&user.api_key))
            .await
            .map_err(|error| on_unique(error, || format!("User username `{}` is not unique", user.username)))?;
        for workspace in &new_user.workspaces {
            self.store.add_workspace_member(*workspace, user.id).await?;
        }
        self.people_changed();
        let workspaces: Vec<String> = new_user.workspaces.iter().map(ToString::to_string).collect();
        self.audit(actor, AuditAction::UserCreated, "user", user.id, json!({"username": user.username, "role": user.role.as_str(), "workspaces": workspaces})).await;
        Ok(user)
    }

    /// Every user (owners only).
    pub async fn list_users(&self, caller: &Caller) -> AppResult<Vec<User>> {
        Self::require_owner(caller)?;
        Ok(self.store.list_users().await?)
    }

    /// One user (owners only).
    pub async fn get_user(&self, caller: &Caller, id: UserId) -> AppResult<User> {
        Self::require_owner(caller)?;
        self.store.get_user(id).await?.ok_or_else(|| not_found("User", id))
    }

    /// One user by username (owners, or the user themself).
    pub async fn find_user_by_username(&self, caller: &Caller, username: &str) -> AppResult<Option<User>> {
        if caller.user.username != username {
            Self::require_owner(caller)?;
        }
        Ok(self.store.find_user_by_username(username).await?)
    }

    /// Updates a user (owners only); only the values given are written.
    pub async fn update_user(&self, caller: &Caller, id: UserId, patch: UserPatch) -> AppResult<User> {
        Self::require_owner(caller)?;
        self.store.get_user(id).await?.ok_or_else(|| not_found("User", id))?;
        let mut changes = UserChanges::at(Timestamp::now());
        if let Some(username) = patch.username {
            validate_username(&username)?;
            changes.username = Some(username);
        }
        if let Some(first_name) = patch.first_name {
            validate_name("first_name", &first_name)?;
            changes.first_name = Some(first_name);
        }
        if let Some(last_name) = patch.last_name {
            if let Some(last_name) = &last_name {
                validate_name("last_name", last_name)?;
            }
            changes.last_name = Some(last_name);
        }
        changes.role = patch.role;
        let password_changed = patch.password.is_some();
        let changed: Vec<&str> = [
            ("username", changes.username.is_some()),
            ("first_name", changes.first_name.is_some()),
            ("last_name", changes.last_name.is_some()),
            ("role", changes.role.is_some()),
            ("password", password_changed),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        if let Some(password) = patch.password {
            validate_password(&password)?;
            changes.password_hash = Some(hash_password(&password)?);
        }
        let username = changes.username.clone();
        self.store.update_user(id, &changes).await.map_err(|error| match on_unique(error, String::new) {
            AppError::Conflict(_) => AppError::Invalid(format!("User username `{}` is not unique", username.unwrap_or_default())),
            other => other,
        })?;
        if password_changed {
            // A password reset logs the user out of every browser.
            self.store.delete_user_sessions(id, None, changes.updated_at).await?;
        }
        self.people_changed();
        let user = self.store.get_user(id).await?.ok_or_else(|| not_found("User", id))?;
        let role = changes.role.map(|role| role.as_str());
        self.audit(Some(caller), AuditAction::UserUpdated, "user", id, json!({"username": user.username, "changed": changed, "role": role})).await;
        Ok(user)
    }

    /// Sets the caller's own password; the caller of this checks the current one first. Only the
    /// password is written: a role change made meanwhile stays.
    pub(crate) async fn set_own_password(&self, caller: &Caller, new_password: &str) -> AppResult<()> {
        validate_password(new_password)?;
        let changes = UserChanges { password_hash: Some(hash_password(new_password)?), ..UserChanges::at(Timestamp::now()) };
        self.store.update_user(caller.user.id, &changes).await?;
        self.people_changed();
        self.audit(Some(caller), AuditAction::PasswordChanged, "user", caller.user.id, json!({"username": caller.user.username})).await;
        Ok(())
    }

    /// Gives a user a new random API key; the old one stops working at once (owners, and every
    /// user for themself). Returns the user with the new key.
    pub async fn rotate_api_key(&self, caller: &Caller, id: UserId) -> AppResult<User> {
        if caller.user.id != id {
            Self::require_owner(caller)?;
        }
        self.store.get_user(id).await?.ok_or_else(|| not_found("User", id))?;
        let api_key = generate_api_key();
        let digest = api_key_digest(&api_key);
        let changes = UserChanges { api_key: Some((api_key, digest)), ..UserChanges::at(Timestamp::now()) };
        self.store.update_user(id, &changes).await?;
        self.people_changed();
        let user = self.store.get_user(id).await?.ok_or_else(|| not_found("User", id))?;
        self.audit(Some(caller), AuditAction::ApiKeyRotated, "user", id, json!({"username": user.username})).await;
        Ok(user)
    }

    /// Deletes a user and their responses and memberships (owners only).
    pub async fn delete_user(&self, caller: &Caller, id: UserId) -> AppResult<User> {
        Self::require_owner(caller)?;
        let user = self.store.get_user(id).await?.ok_or_else(|| not_found("User", id))?;
        self.store.delete_user(id).await?;
        self.people_changed();
        self.audit(Some(caller), AuditAction::UserDeleted, "user", id, json!({"username": user.username, "role": user.role.as_str()})).await;
        Ok(user)
    }

    /// The workspaces a user belongs to; every workspace for an owner (owners only).
    pub async fn user_workspaces(&self, caller: &Caller, id: UserId) -> AppResult<Vec<Workspace>> {
        Self::require_owner(caller)?;
        let user = self.store.get_user(id).await?.ok_or_else(|| not_found("User", id))?;
        self.workspaces_of(&user).await
    }

    /// The workspaces a user sees: all for owners, their memberships for others.
    pub async fn workspaces_of(&self, user: &User) -> AppResult<Vec<Workspace>> {
        Ok(match user.role {
            Role::Owner => self.store.list_workspaces().await?,
            _ => self.store.list_user_workspaces(user.id).await?,
        })
    }
}
