//! Juror's workload-distribution routes, beside Argilla's in the same style:
//! the next record for a labeler (leased), releasing and skipping, assignments, splits, quotas.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use juror_core::ids::{DatasetId, RecordId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::Items;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Auth, PathId, PathIds};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/datasets/{dataset_id}/records/next", post(next_record))
        .route("/api/v1/records/{record_id}/lease", axum::routing::delete(release_lease))
        .route("/api/v1/records/{record_id}/skip", post(skip_record))
        .route("/api/v1/datasets/{dataset_id}/leases", get(list_leases))
        .route("/api/v1/datasets/{dataset_id}/assignments", get(list_assignments).put(replace_assignments))
        .route("/api/v1/datasets/{dataset_id}/assignments/split", post(split_records))
        .route("/api/v1/datasets/{dataset_id}/quotas", get(list_quotas))
        .route("/api/v1/datasets/{dataset_id}/quotas/{user_id}", put(set_quota))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct AssignmentBody {
    record_id: String,
    user_ids: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct SplitBody {
    user_ids: Vec<String>,
    overlap: Option<usize>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct QuotaBody {
    max_records: Option<u32>,
}


/// `{"record": Record|null, "lease": {...}|null}`; the record carries the caller's own responses.
/// The caller's next record, leased to them; the same record again while the lease holds.
#[utoipa::path(post, path = "/api/v1/me/datasets/{dataset_id}/records/next", tag = "distribution", responses((status = 200, body = wire::NextRecordJson)))]
pub(super) async fn next_record(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Response> {
    let next = state.app.next_record(&caller, id).await?;
    Ok(Json(wire::next_record(next.as_ref())).into_response())
}

/// Gives the caller's lease on a record back.
#[utoipa::path(delete, path = "/api/v1/records/{record_id}/lease", tag = "distribution", responses((status = 200, body = wire::ReleasedJson)))]
pub(super) async fn release_lease(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Json<wire::ReleasedJson>> {
    let released = state.app.release_record(&caller, id, false).await?;
    Ok(Json(wire::ReleasedJson { released, skipped: None }))
}

/// Gives the lease back and puts the record behind the caller's other records.
#[utoipa::path(post, path = "/api/v1/records/{record_id}/skip", tag = "distribution", responses((status = 200, body = wire::ReleasedJson)))]
pub(super) async fn skip_record(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Json<wire::ReleasedJson>> {
    let released = state.app.release_record(&caller, id, true).await?;
    Ok(Json(wire::ReleasedJson { released, skipped: Some(true) }))
}

/// Unexpired leases (owners and admins).
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/leases", tag = "distribution", responses((status = 200, body = wire::Items<wire::LeaseJson>)))]
pub(super) async fn list_leases(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::LeaseJson>>> {
    Ok(Json(wire::items(&state.app.list_leases(&caller, id).await?, wire::lease)))
}

#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/assignments", tag = "distribution", responses((status = 200, body = wire::Items<wire::AssignmentJson>)))]
pub(super) async fn list_assignments(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::AssignmentJson>>> {
    let pairs = state.app.list_assignments(&caller, id).await?;
    Ok(Json(wire::items(&pairs, wire::assignment)))
}

/// Replaces every assignment: each record to the labelers named.
#[utoipa::path(put, path = "/api/v1/datasets/{dataset_id}/assignments", tag = "distribution", request_body = Items<AssignmentBody>, responses((status = 204)))]
pub(super) async fn replace_assignments(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<Items<AssignmentBody>>) -> ApiResult<StatusCode> {
    let assignments = body
        .items
        .into_iter()
        .map(|item| {
            let record: RecordId = parse_id("record_id", &item.record_id)?;
            let users = item.user_ids.iter().map(|user| parse_id::<UserId>("user_ids", user)).collect::<ApiResult<Vec<_>>>()?;
            Ok((record, users))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    state.app.assign_records(&caller, id, assignments).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assigns every record to `overlap` of the users, balanced.
#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/assignments/split", tag = "distribution", request_body = SplitBody, responses((status = 200, body = wire::Items<wire::SplitShareJson>)))]
pub(super) async fn split_records(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<SplitBody>) -> ApiResult<Json<wire::Items<wire::SplitShareJson>>> {
    let users = body.user_ids.iter().map(|user| parse_id::<UserId>("user_ids", user)).collect::<ApiResult<Vec<_>>>()?;
    if users.is_empty() {
        return Err(ApiError::request(vec!["body".into(), "user_ids".into()], "too_short", "at least one user is needed"));
    }
    let counts = state.app.split_records(&caller, id, users, body.overlap.unwrap_or(1)).await?;
    Ok(Json(wire::items(&counts, wire::split_share)))
}

#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/quotas", tag = "distribution", responses((status = 200, body = wire::Items<wire::QuotaJson>)))]
pub(super) async fn list_quotas(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::QuotaJson>>> {
    let quotas = state.app.list_quotas(&caller, id).await?;
    Ok(Json(wire::items(&quotas, |(user, max)| wire::quota(*user, Some(*max)))))
}

/// Caps how many records a labeler takes (`null` lifts it).
#[utoipa::path(put, path = "/api/v1/datasets/{dataset_id}/quotas/{user_id}", tag = "distribution", request_body = QuotaBody, responses((status = 200, body = wire::QuotaJson)))]
pub(super) async fn set_quota(State(state): State<AppState>, Auth(caller): Auth, PathIds(id, user): PathIds<DatasetId, UserId>, ApiJson(body): ApiJson<QuotaBody>) -> ApiResult<Json<wire::QuotaJson>> {
    state.app.set_quota(&caller, id, user, body.max_records).await?;
    Ok(Json(wire::quota(user, body.max_records)))
}
