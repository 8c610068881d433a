//! Users and workspaces.

use juror_app::Caller;
use juror_core::user::{User, Workspace};
use serde::Serialize;
use utoipa::ToSchema;

/// A user of `/api/v1`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub id: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: String,
    /// `owner`, `admin` or `annotator`.
    pub role: &'static str,
    /// Only for the user themself and owners; `null` for anyone else.
    pub api_key: Option<String>,
    pub inserted_at: String,
    pub updated_at: String,
}

/// A user; the API key only for the user and owners, `null` for anyone else.
pub fn user(user: &User, viewer: &Caller) -> UserJson {
    UserJson {
        id: user.id.to_string(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        username: user.username.clone(),
        role: user.role.as_str(),
        api_key: viewer.may_see_api_key_of(user).then(|| user.api_key.clone()),
        inserted_at: user.inserted_at.to_naive_iso(),
        updated_at: user.updated_at.to_naive_iso(),
    }
}

/// A user of the legacy `/api/*` routes: with `full_name` and workspace names, without null keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegacyUserJson {
    pub id: String,
    pub first_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub full_name: String,
    pub username: String,
    pub role: &'static str,
    /// Workspace names.
    pub workspaces: Vec<String>,
    /// Empty for viewers who may not see it (the argilla-v1 SDK requires a string).
    pub api_key: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn legacy_user(user: &User, workspaces: &[Workspace], viewer: &Caller) -> LegacyUserJson {
    LegacyUserJson {
        id: user.id.to_string(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        full_name: user.full_name(),
        username: user.username.clone(),
        role: user.role.as_str(),
        workspaces: workspaces.iter().map(|workspace| workspace.name.clone()).collect(),
        api_key: if viewer.may_see_api_key_of(user) { user.api_key.clone() } else { String::new() },
        inserted_at: user.inserted_at.to_naive_iso(),
        updated_at: user.updated_at.to_naive_iso(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceJson {
    pub id: String,
    pub name: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn workspace(workspace: &Workspace) -> WorkspaceJson {
    WorkspaceJson { id: workspace.id.to_string(), name: workspace.name.clone(), inserted_at: workspace.inserted_at.to_naive_iso(), updated_at: workspace.updated_at.to_naive_iso() }
}
