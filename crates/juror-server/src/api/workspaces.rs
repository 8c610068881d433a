//! `/api/v1/workspaces`: workspaces and their members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use juror_core::ids::{UserId, WorkspaceId};
use serde::Deserialize;
use utoipa::ToSchema;

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

#[derive(Deserialize, ToSchema)]
pub(super) struct NewWorkspaceBody {
    id: Option<String>,
    name: String,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewMemberBody {
    user_id: String,
}

/// The workspaces the caller belongs to (every workspace for owners).
#[utoipa::path(get, path = "/api/v1/me/workspaces", tag = "workspaces", responses((status = 200, body = wire::Items<wire::WorkspaceJson>)))]
pub(super) async fn list_my_workspaces(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<wire::Items<wire::WorkspaceJson>>> {
    let workspaces = state.app.my_workspaces(&caller).await?;
    Ok(Json(wire::items(&workspaces, wire::workspace)))
}

/// Creates a workspace (owners).
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", request_body = NewWorkspaceBody, responses((status = 201, body = wire::WorkspaceJson)))]
pub(super) async fn create_workspace(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<NewWorkspaceBody>) -> ApiResult<(StatusCode, Json<wire::WorkspaceJson>)> {
    let id = body.id.as_deref().map(|id| parse_id("id", id)).transpose()?;
    let workspace = state.app.create_workspace(&caller, id, body.name).await?;
    Ok((StatusCode::CREATED, Json(wire::workspace(&workspace))))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}", tag = "workspaces", responses((status = 200, body = wire::WorkspaceJson)))]
pub(super) async fn get_workspace(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>) -> ApiResult<Json<wire::WorkspaceJson>> {
    Ok(Json(wire::workspace(&state.app.get_workspace(&caller, id).await?)))
}

/// Deletes an empty workspace (owners).
#[utoipa::path(delete, path = "/api/v1/workspaces/{workspace_id}", tag = "workspaces", responses((status = 200, body = wire::WorkspaceJson)))]
pub(super) async fn delete_workspace(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>) -> ApiResult<Json<wire::WorkspaceJson>> {
    Ok(Json(wire::workspace(&state.app.delete_workspace(&caller, id).await?)))
}

/// The workspace's members (owners and its admins).
#[utoipa::path(get, path = "/api/v1/workspaces/{workspace_id}/users", tag = "workspaces", responses((status = 200, body = wire::Items<wire::UserJson>)))]
pub(super) async fn list_members(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>) -> ApiResult<Json<wire::Items<wire::UserJson>>> {
    let users = state.app.workspace_members(&caller, id).await?;
    Ok(Json(wire::items(&users, |user| wire::user(user, &caller))))
}

/// Adds a user to the workspace (owners).
#[utoipa::path(post, path = "/api/v1/workspaces/{workspace_id}/users", tag = "workspaces", request_body = NewMemberBody, responses((status = 201, body = wire::UserJson)))]
pub(super) async fn add_member(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WorkspaceId>, ApiJson(body): ApiJson<NewMemberBody>) -> ApiResult<(StatusCode, Json<wire::UserJson>)> {
    let user_id: UserId = parse_id("user_id", &body.user_id)?;
    let user = state.app.add_workspace_member(&caller, id, user_id).await?;
    Ok((StatusCode::CREATED, Json(wire::user(&user, &caller))))
}

/// Removes a user from the workspace (owners).
#[utoipa::path(delete, path = "/api/v1/workspaces/{workspace_id}/users/{user_id}", tag = "workspaces", responses((status = 200, body = wire::UserJson)))]
pub(super) async fn remove_member(State(state): State<AppState>, Auth(caller): Auth, PathIds(id, user_id): PathIds<WorkspaceId, UserId>) -> ApiResult<Json<wire::UserJson>> {
    Ok(Json(wire::user(&state.app.remove_workspace_member(&caller, id, user_id).await?, &caller)))
}
