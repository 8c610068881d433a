//! `/api/v1/me` and `/api/v1/users`: accounts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use juror_app::{NewUser, UserPatch};
use juror_core::ids::UserId;
use juror_core::user::Role;
use serde::Deserialize;
use serde_json::Value;

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

#[derive(Deserialize)]
struct NewUserBody {
    id: Option<String>,
    first_name: String,
    last_name: Option<String>,
    username: String,
    role: Option<String>,
    password: String,
}

pub(super) fn parse_role(text: &str) -> ApiResult<Role> {
    Role::parse(text).map_err(|error| ApiError::request(vec!["body".into(), "role".into()], "enum", error.message()))
}

async fn get_me(Auth(caller): Auth) -> Json<Value> {
    Json(wire::user(&caller.user, &caller))
}

async fn list_users(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<Value>> {
    let users = state.app.list_users(&caller).await?;
    Ok(Json(wire::items(&users, |user| wire::user(user, &caller))))
}

async fn create_user(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<NewUserBody>) -> ApiResult<(StatusCode, Json<Value>)> {
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

async fn get_user(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::user(&state.app.get_user(&caller, id).await?, &caller)))
}

async fn update_user(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<Value>> {
    let patch = UserPatch {
        username: string_key(&patch, "username")?,
        first_name: string_key(&patch, "first_name")?,
        last_name: nullable_string_key(&patch, "last_name")?,
        role: string_key(&patch, "role")?.as_deref().map(parse_role).transpose()?,
        password: string_key(&patch, "password")?,
    };
    Ok(Json(wire::user(&state.app.update_user(&caller, id, patch).await?, &caller)))
}

async fn delete_user(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::user(&state.app.delete_user(&caller, id).await?, &caller)))
}

async fn list_user_workspaces(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<Value>> {
    let workspaces = state.app.user_workspaces(&caller, id).await?;
    Ok(Json(wire::items(&workspaces, wire::workspace)))
}

async fn rotate_api_key(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<UserId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::user(&state.app.rotate_api_key(&caller, id).await?, &caller)))
}
