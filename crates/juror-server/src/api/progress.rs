//! Progress: `/datasets/{id}/progress`, `/datasets/{id}/users/progress` and `/me/datasets/{id}/metrics`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use juror_core::ids::DatasetId;

use crate::error::ApiResult;
use crate::extract::{Auth, PathId};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/datasets/{dataset_id}/progress", get(dataset_progress))
        .route("/api/v1/datasets/{dataset_id}/users/progress", get(users_progress))
        .route("/api/v1/me/datasets/{dataset_id}/metrics", get(my_metrics))
}

/// Records by status, and who answered.
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/progress", tag = "progress", responses((status = 200, body = wire::ProgressJson)))]
pub(super) async fn dataset_progress(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::ProgressJson>> {
    Ok(Json(wire::progress(&state.app.dataset_progress(&caller, id).await?)))
}

/// Each labeler's answers on completed and pending records.
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/users/progress", tag = "progress", responses((status = 200, body = wire::UsersProgressJson)))]
pub(super) async fn users_progress(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::UsersProgressJson>> {
    Ok(Json(wire::users_progress(&state.app.users_progress(&caller, id).await?)))
}

/// A superset of the 1.29 shape (`records.count`, `responses.count`) and the 2.8 one.
/// The caller's answers in a dataset.
#[utoipa::path(get, path = "/api/v1/me/datasets/{dataset_id}/metrics", tag = "progress", responses((status = 200, body = wire::MyMetricsJson)))]
pub(super) async fn my_metrics(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::MyMetricsJson>> {
    Ok(Json(wire::my_metrics(&state.app.my_dataset_metrics(&caller, id).await?)))
}
