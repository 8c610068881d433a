//! Progress: `/datasets/{id}/progress`, `/datasets/{id}/users/progress` and `/me/datasets/{id}/metrics`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use juror_core::ids::DatasetId;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::extract::{Auth, PathId};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/datasets/{dataset_id}/progress", get(dataset_progress))
        .route("/api/v1/datasets/{dataset_id}/users/progress", get(users_progress))
        .route("/api/v1/me/datasets/{dataset_id}/metrics", get(my_metrics))
}

async fn dataset_progress(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    let progress = state.app.dataset_progress(&caller, id).await?;
    let users: Vec<Value> = progress.users.iter().map(|username| json!({"username": username})).collect();
    Ok(Json(json!({
        "total": progress.total,
        "completed": progress.completed,
        "pending": progress.total - progress.completed,
        "users": users,
    })))
}

async fn users_progress(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    let users = state.app.users_progress(&caller, id).await?;
    let users: Vec<Value> = users
        .iter()
        .map(|user| json!({"username": user.username, "completed": wire::counts(&user.completed), "pending": wire::counts(&user.pending)}))
        .collect();
    Ok(Json(json!({"users": users})))
}

/// A superset of the 1.29 shape (`records.count`, `responses.count`) and the 2.8 one.
async fn my_metrics(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    let metrics = state.app.my_dataset_metrics(&caller, id).await?;
    let mine = metrics.mine;
    let answered = mine.submitted + mine.discarded + mine.draft;
    Ok(Json(json!({
        "records": {"count": metrics.records},
        "responses": {
            "count": answered,
            "total": metrics.records,
            "submitted": mine.submitted,
            "discarded": mine.discarded,
            "draft": mine.draft,
            "pending": metrics.records.saturating_sub(answered),
        },
    })))
}
