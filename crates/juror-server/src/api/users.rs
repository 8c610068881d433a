//! `/api/v1/me` and `/api/v1/users`: accounts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use juror_app::{NewUser, UserPatch};
use juror_core::ids::UserId;
use juror_core::user::Role;
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::{nullable_string_key, string_key, Patch};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Auth, PathId};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(get_me))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{user_id}", get(get_user).patch(update_user).delete(delete_user))
        .route("/api/v1/users/{user_id}/workspaces", get(list_user_workspaces))
        // Juror's own: a new API key (owners, and each user for themself).
        .route("/api/v1/users/{user_id}/api-key", axum::routing::post(rotate_api_key))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewUserBody {
    id: Option<String>,
    first_name: String,
    last_name: Option<String>,
    username: String,
    role: Option<String>,
    password: String,
}

/// The keys `PATCH /api/v1/users/{id}` reads; absent keys are left as they are.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct UserPatchBody {
    username: Option<String>,
    first_name: Option<String>,
    /// `null` clears it.
    last_name: Option<String>,
    /// `owner`, `admin` or `annotator`.
    role: Option<String>,
    password: Option<String>,
}

pub(super) fn parse_role(text: &str) -> ApiResult<Role> {
    Role::parse(text).map_err(|error| ApiError::request(vec!["body".into(), "role".into()], "enum", error.message()))
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "users", responses((status = 200, body = wire::UserJson)))]
pub(super) async fn get_me(Auth(caller): Auth) -> Json<wire::UserJson> {
    Json(wire::user(&caller.user, &caller))
}

/// Every user (owners; admins see the members of their workspaces).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = wire::Items<wire::UserJson>)))]
pub(super) async fn list_users(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<wire::Items<wire::UserJson>>> {
    let users = state.app.list_users(&caller).await?;
    Ok(Json(wire::items(&users, |user| wire::user(user, &caller))))
}

/// Creates a user (owners).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserBody, responses((status = 201, body = wire::UserJson)))]
pub(super) async fn create_user(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<NewUserBody>) -> ApiResult<(StatusCode, Json<wire::UserJson>)> {
    let new_user = NewUser {
        id: body.id.as_deref().map(|id| parse_id("id", id)).transpose()?,
        username: body.username,
        first_name: body.first_name,
        last_name: body.last_name,
        role: body.role.as_deref().map(parse_role).transpose()?.unwrap_or(Role::Annotator),
        password: body.password,
        api_key: None,
        workspaces: Vec::new(),
    };
    let user = state.app.create_user(&caller, new_user).await?;
    Ok((StatusCode::CREATED, Json(wire::user(&user, &caller))))
}

#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "users", responses((status = 200, body = wire::UserJson)))]
pub(super) async fn get_user(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<wire::UserJson>> {
    Ok(Json(wire::user(&state.app.get_user(&caller, id).await?, &caller)))
}

/// Changes a user's names, role or password (owners; each user their own names and password).
#[utoipa::path(patch, path = "/api/v1/users/{user_id}", tag = "users", request_body = UserPatchBody, responses((status = 200, body = wire::UserJson)))]
pub(super) async fn update_user(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<wire::UserJson>> {
    let patch = UserPatch {
        username: string_key(&patch, "username")?,
        first_name: string_key(&patch, "first_name")?,
        last_name: nullable_string_key(&patch, "last_name")?,
        role: string_key(&patch, "role")?.as_deref().map(parse_role).transpose()?,
        password: string_key(&patch, "password")?,
    };
    Ok(Json(wire::user(&state.app.update_user(&caller, id, patch).await?, &caller)))
}

#[utoipa::path(delete, path = "/api/v1/users/{user_id}", tag = "users", responses((status = 200, body = wire::UserJson)))]
pub(super) async fn delete_user(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<wire::UserJson>> {
    Ok(Json(wire::user(&state.app.delete_user(&caller, id).await?, &caller)))
}

#[utoipa::path(get, path = "/api/v1/users/{user_id}/workspaces", tag = "users", responses((status = 200, body = wire::Items<wire::WorkspaceJson>)))]
pub(super) async fn list_user_workspaces(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<wire::Items<wire::WorkspaceJson>>> {
    let workspaces = state.app.user_workspaces(&caller, id).await?;
    Ok(Json(wire::items(&workspaces, wire::workspace)))
}

/// Juror's own: a new random API key; the old one stops working at once (owners, and each user for themself).
#[utoipa::path(post, path = "/api/v1/users/{user_id}/api-key", tag = "users", responses((status = 200, body = wire::UserJson)))]
pub(super) async fn rotate_api_key(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<wire::UserJson>> {
    Ok(Json(wire::user(&state.app.rotate_api_key(&caller, id).await?, &caller)))
}
