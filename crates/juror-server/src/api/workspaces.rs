//! `/api/v1/workspaces`: workspaces and their members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use juror_core::ids::{UserId, WorkspaceId};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiResult;
use crate::extract::{parse_id, ApiJson, Auth, PathId, PathIds};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/workspaces", get(list_my_workspaces))
        .route("/api/v1/workspaces", post(create_workspace))
        .route("/api/v1/workspaces/{workspace_id}", get(get_workspace).delete(delete_workspace))
        .route("/api/v1/workspaces/{workspace_id}/users", get(list_members).post(add_member))
        .route("/api/v1/workspaces/{workspace_id}/users/{user_id}", delete(remove_member))
}

#[derive(Deserialize)]
struct NewWorkspaceBody {
    id: Option<String>,
    name: String,
}

#[derive(Deserialize)]
struct NewMemberBody {
    user_id: String,
}

async fn list_my_workspaces(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<Value>> {
    let workspaces = state.app.my_workspaces(&caller).await?;
    Ok(Json(wire::items(&workspaces, wire::workspace)))
}

async fn create_workspace(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<NewWorkspaceBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = body.id.as_deref().map(|id| parse_id("id", id)).transpose()?;
    let workspace = state.app.create_workspace(&caller, id, body.name).await?;
    Ok((StatusCode::CREATED, Json(wire::workspace(&workspace))))
}

async fn get_workspace(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::workspace(&state.app.get_workspace(&caller, id).await?)))
}

async fn delete_workspace(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::workspace(&state.app.delete_workspace(&caller, id).await?)))
}

async fn list_members(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>) -> ApiResult<Json<Value>> {
    let users = state.app.workspace_members(&caller, id).await?;
    Ok(Json(wire::items(&users, |user| wire::user(user, &caller))))
}

async fn add_member(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>, ApiJson(body): ApiJson<NewMemberBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let user_id: UserId = parse_id("user_id", &body.user_id)?;
    let user = state.app.add_workspace_member(&caller, id, user_id).await?;
    Ok((StatusCode::CREATED, Json(wire::user(&user, &caller))))
}

async fn remove_member(State(state): State<AppState>, Auth(caller): Auth, PathIds(id, user_id): PathIds<WorkspaceId, UserId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::user(&state.app.remove_workspace_member(&caller, id, user_id).await?, &caller)))
}
