//! Juror's adjudication routes, beside Argilla's in the same style: who may review a dataset
//! (managers name reviewers), the queue of disputed records, and a record's final verdict.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use juror_core::ids::{DatasetId, RecordId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, PathId, PathIds, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/datasets/{dataset_id}/reviewers", get(list_reviewers))
        .route("/api/v1/datasets/{dataset_id}/reviewers/{user_id}", axum::routing::put(add_reviewer).delete(remove_reviewer))
        .route("/api/v1/datasets/{dataset_id}/review-queue", get(review_queue))
        .route("/api/v1/records/{record_id}/adjudication", get(get_adjudication).put(adjudicate))
}

/// A final verdict: the preference question's answer `value` (a complete ranking), and a note.
#[derive(Deserialize, ToSchema)]
pub(super) struct AdjudicationBody {
    #[schema(value_type = Object)]
    value: serde_json::Value,
    note: Option<String>,
}

/// The dataset's reviewers (managers).
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/reviewers", tag = "quality", responses((status = 200, body = wire::Items<wire::ReviewerJson>)))]
pub(super) async fn list_reviewers(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::ReviewerJson>>> {
    let reviewers = state.app.list_reviewers(&caller, id).await?;
    Ok(Json(wire::items(&reviewers, |user| wire::ReviewerJson { user_id: user.to_string() })))
}

/// Gives a member of the dataset's workspace the reviewer right.
#[utoipa::path(put, path = "/api/v1/datasets/{dataset_id}/reviewers/{user_id}", tag = "quality", responses((status = 204)))]
pub(super) async fn add_reviewer(State(state): State<AppState>, Auth(caller): Auth, PathIds(id, user): PathIds<DatasetId, UserId>) -> ApiResult<StatusCode> {
    state.app.set_reviewer(&caller, id, user, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes the reviewer right back.
#[utoipa::path(delete, path = "/api/v1/datasets/{dataset_id}/reviewers/{user_id}", tag = "quality", responses((status = 204)))]
pub(super) async fn remove_reviewer(State(state): State<AppState>, Auth(caller): Auth, PathIds(id, user): PathIds<DatasetId, UserId>) -> ApiResult<StatusCode> {
    state.app.set_reviewer(&caller, id, user, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The records in dispute, in record order; `settled=true` lists those with a verdict too.
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/review-queue", tag = "quality", params(("settled" = Option<bool>, Query, description = "also the records already given a verdict (false)")), responses((status = 200, body = wire::Items<wire::DisputedRecordJson>)))]
pub(super) async fn review_queue(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams) -> ApiResult<Json<wire::Items<wire::DisputedRecordJson>>> {
    let settled = query.boolean("settled", false)?;
    Ok(Json(wire::items(&state.app.review_queue(&caller, id, settled).await?, wire::disputed_record)))
}

/// The record's final verdict (404 when it has none).
#[utoipa::path(get, path = "/api/v1/records/{record_id}/adjudication", tag = "quality", responses((status = 200, body = wire::AdjudicationJson)))]
pub(super) async fn get_adjudication(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Json<wire::AdjudicationJson>> {
    let found = state.app.adjudication_of(&caller, id).await?;
    found.map(|adjudication| Json(wire::adjudication(&adjudication))).ok_or_else(|| ApiError::from(juror_app::AppError::NotFound(format!("Record `{id}` has no verdict"))))
}

/// Records the caller's final verdict on the record (reviewers); a later one replaces it.
#[utoipa::path(put, path = "/api/v1/records/{record_id}/adjudication", tag = "quality", request_body = AdjudicationBody, responses((status = 200, body = wire::AdjudicationJson)))]
pub(super) async fn adjudicate(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>, ApiJson(body): ApiJson<AdjudicationBody>) -> ApiResult<Json<wire::AdjudicationJson>> {
    let adjudication = state.app.adjudicate(&caller, id, body.value, body.note).await?;
    Ok(Json(wire::adjudication(&adjudication)))
}
