//! The legacy `/api/*` routes that the argilla-v1 SDK still calls. They answer 200 where the
//! `/api/v1` equivalents answer 201, return bare lists, and name workspaces instead of ids.
//! Do not build new clients on them.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use juror_app::{App, AppError, Caller, NewUser};
use juror_core::ids::{UserId, WorkspaceId};
use juror_core::user::{Role, User};
use serde::Deserialize;
use utoipa::ToSchema;

use super::users::parse_role;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, PathId, PathIds};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(get_me))
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/users/{user_id}", axum::routing::delete(delete_user))
        .route("/api/workspaces", post(create_workspace))
        .route("/api/workspaces/{workspace_id}/users", get(list_members))
        .route("/api/workspaces/{workspace_id}/users/{user_id}", post(add_member).delete(remove_member))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct LegacyNewUser {
    first_name: Option<String>,
    last_name: Option<String>,
    username: String,
    role: Option<String>,
    password: String,
    workspaces: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct LegacyNewWorkspace {
    name: String,
}

async fn legacy_user(app: &App, viewer: &Caller, user: &User) -> ApiResult<wire::LegacyUserJson> {
    Ok(wire::legacy_user(user, &app.workspaces_of(user).await?, viewer))
}

fn is_legacy_name(name: &str, allow_upper: bool) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '_'])
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || (allow_upper && c.is_ascii_uppercase()))
}

/// The caller (argilla-v1).
#[utoipa::path(get, path = "/api/me", tag = "legacy", operation_id = "legacy_get_me", responses((status = 200, body = wire::LegacyUserJson)))]
pub(super) async fn get_me(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<wire::LegacyUserJson>> {
    Ok(Json(legacy_user(&state.app, &caller, &caller.user).await?))
}

/// Every user the caller sees (argilla-v1).
#[utoipa::path(get, path = "/api/users", tag = "legacy", operation_id = "legacy_list_users", responses((status = 200, body = Vec<wire::LegacyUserJson>)))]
pub(super) async fn list_users(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<Vec<wire::LegacyUserJson>>> {
    let users = state.app.list_users(&caller).await?;
    let mut listed = Vec::with_capacity(users.len());
    for user in &users {
        listed.push(legacy_user(&state.app, &caller, user).await?);
    }
    Ok(Json(listed))
}

/// Creates a user, with workspaces by name (owners; argilla-v1).
#[utoipa::path(post, path = "/api/users", tag = "legacy", operation_id = "legacy_create_user", request_body = LegacyNewUser, responses((status = 200, body = wire::LegacyUserJson)))]
pub(super) async fn create_user(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<LegacyNewUser>) -> ApiResult<Json<wire::LegacyUserJson>> {
    if !caller.is_owner() {
        return Err(AppError::Forbidden.into());
    }
    if !is_legacy_name(&body.username, true) {
        return Err(ApiError::invalid(format!("username `{}` must match ^(?!-|_)[A-za-z0-9-_]+$", body.username)));
    }
    let workspaces = resolve_workspaces(&state.app, &caller, body.workspaces.unwrap_or_default()).await?;
    let new_user = NewUser {
        id: None,
        first_name: body.first_name.filter(|name| !name.trim().is_empty()).unwrap_or_else(|| body.username.clone()),
        last_name: body.last_name,
        username: body.username,
        role: body.role.as_deref().map(parse_role).transpose()?.unwrap_or(Role::Annotator),
        password: body.password,
        api_key: None,
        workspaces,
    };
    let user = state.app.create_user(&caller, new_user).await?;
    Ok(Json(legacy_user(&state.app, &caller, &user).await?))
}

async fn resolve_workspaces(app: &App, caller: &Caller, names: Vec<String>) -> ApiResult<Vec<WorkspaceId>> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let workspace = app.find_workspace_by_name(caller, &name).await?.ok_or_else(|| ApiError::invalid(format!("Unknown workspace `{name}`")))?;
        ids.push(workspace.id);
    }
    Ok(ids)
}

#[utoipa::path(delete, path = "/api/users/{user_id}", tag = "legacy", operation_id = "legacy_delete_user", responses((status = 200, body = wire::LegacyUserJson)))]
pub(super) async fn delete_user(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<wire::LegacyUserJson>> {
    let user = state.app.get_user(&caller, id).await?;
    let shown = legacy_user(&state.app, &caller, &user).await?;
    state.app.delete_user(&caller, id).await?;
    Ok(Json(shown))
}

#[utoipa::path(post, path = "/api/workspaces", tag = "legacy", operation_id = "legacy_create_workspace", request_body = LegacyNewWorkspace, responses((status = 200, body = wire::WorkspaceJson)))]
pub(super) async fn create_workspace(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<LegacyNewWorkspace>) -> ApiResult<Json<wire::WorkspaceJson>> {
    if !is_legacy_name(&body.name, false) {
        return Err(ApiError::invalid(format!("workspace name `{}` must match ^(?!-|_)[a-z0-9-_]+$", body.name)));
    }
    let workspace = state.app.create_workspace(&caller, None, body.name).await?;
    Ok(Json(wire::workspace(&workspace)))
}

#[utoipa::path(get, path = "/api/workspaces/{workspace_id}/users", tag = "legacy", operation_id = "legacy_list_members", responses((status = 200, body = Vec<wire::LegacyUserJson>)))]
pub(super) async fn list_members(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>) -> ApiResult<Json<Vec<wire::LegacyUserJson>>> {
    let users = state.app.workspace_members(&caller, id).await?;
    let mut listed = Vec::with_capacity(users.len());
    for user in &users {
        listed.push(legacy_user(&state.app, &caller, user).await?);
    }
    Ok(Json(listed))
}

#[utoipa::path(post, path = "/api/workspaces/{workspace_id}/users/{user_id}", tag = "legacy", operation_id = "legacy_add_member", responses((status = 200, body = wire::LegacyUserJson)))]
pub(super) async fn add_member(State(state): State<AppState>, Auth(caller): Auth, PathIds(id, user_id): PathIds<WorkspaceId, UserId>) -> ApiResult<Json<wire::LegacyUserJson>> {
    let user = state.app.add_workspace_member(&caller, id, user_id).await?;
    Ok(Json(legacy_user(&state.app, &caller, &user).await?))
}

#[utoipa::path(delete, path = "/api/workspaces/{workspace_id}/users/{user_id}", tag = "legacy", operation_id = "legacy_remove_member", responses((status = 200, body = wire::LegacyUserJson)))]
pub(super) async fn remove_member(State(state): State<AppState>, Auth(caller): Auth, PathIds(id, user_id): PathIds<WorkspaceId, UserId>) -> ApiResult<Json<wire::LegacyUserJson>> {
    let user = state.app.remove_workspace_member(&caller, id, user_id).await?;
    Ok(Json(legacy_user(&state.app, &caller, &user).await?))
}
