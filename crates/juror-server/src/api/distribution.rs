//! Juror's workload-distribution routes, beside Argilla's in the same style:
//! the next record for a labeler (leased), releasing and skipping, assignments, splits, quotas.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use juror_app::Lease;
use juror_core::ids::{DatasetId, RecordId, UserId};
use serde::Deserialize;
use serde_json::{json, Value};

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

#[derive(Deserialize)]
struct AssignmentBody {
    record_id: String,
    user_ids: Vec<String>,
}

#[derive(Deserialize)]
struct SplitBody {
    user_ids: Vec<String>,
    overlap: Option<usize>,
}

#[derive(Deserialize)]
struct QuotaBody {
    max_records: Option<u32>,
}

fn lease_json(lease: &Lease) -> Value {
    json!({"record_id": lease.record_id.to_string(), "user_id": lease.user_id.to_string(), "expires_at": lease.expires_at.to_naive_iso()})
}

/// `{"record": Record|null, "lease": {...}|null}`; the record carries the caller's own responses.
async fn next_record(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Response> {
    let next = state.app.next_record(&caller, id).await?;
    let body = match &next {
        Some(next) => json!({"record": wire::record(&next.view), "lease": lease_json(&next.lease)}),
        None => json!({"record": null, "lease": null}),
    };
    Ok(Json(body).into_response())
}

async fn release_lease(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Json<Value>> {
    let released = state.app.release_record(&caller, id, false).await?;
    Ok(Json(json!({"released": released})))
}

async fn skip_record(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Json<Value>> {
    let released = state.app.release_record(&caller, id, true).await?;
    Ok(Json(json!({"released": released, "skipped": true})))
}

async fn list_leases(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::items(&state.app.list_leases(&caller, id).await?, lease_json)))
}

async fn list_assignments(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    let pairs = state.app.list_assignments(&caller, id).await?;
    Ok(Json(wire::items(&pairs, |(record, user)| json!({"record_id": record.to_string(), "user_id": user.to_string()}))))
}

async fn replace_assignments(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<Items<AssignmentBody>>) -> ApiResult<StatusCode> {
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

async fn split_records(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<SplitBody>) -> ApiResult<Json<Value>> {
    let users = body.user_ids.iter().map(|user| parse_id::<UserId>("user_ids", user)).collect::<ApiResult<Vec<_>>>()?;
    if users.is_empty() {
        return Err(ApiError::request(vec!["body".into(), "user_ids".into()], "too_short", "at least one user is needed"));
    }
    let counts = state.app.split_records(&caller, id, users, body.overlap.unwrap_or(1)).await?;
    Ok(Json(wire::items(&counts, |(user, records)| json!({"user_id": user.to_string(), "records": records}))))
}

async fn list_quotas(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<Value>> {
    let quotas = state.app.list_quotas(&caller, id).await?;
    Ok(Json(wire::items(&quotas, |(user, max)| json!({"user_id": user.to_string(), "max_records": max}))))
}

async fn set_quota(State(state): State<AppState>, Auth(caller): Auth, PathIds(id, user): PathIds<DatasetId, UserId>, ApiJson(body): ApiJson<QuotaBody>) -> ApiResult<Json<Value>> {
    state.app.set_quota(&caller, id, user, body.max_records).await?;
    Ok(Json(json!({"user_id": user.to_string(), "max_records": body.max_records})))
}
