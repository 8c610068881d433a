//! Juror's quality-control routes (owners and admins), beside Argilla's in the same style: a
//! dataset's settings (adaptive overlap, gold records), its gold records and their verdicts, and
//! each labeler's standing by their gold answers, with the resume of a paused labeler.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use juror_core::ids::{DatasetId, RecordId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::Items;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Auth, PathId, PathIds, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/datasets/{dataset_id}/quality", get(get_quality).put(set_quality))
        .route("/api/v1/datasets/{dataset_id}/quality/labelers", get(list_labelers))
        .route("/api/v1/datasets/{dataset_id}/quality/labelers/{user_id}/resume", post(resume_labeler))
        .route("/api/v1/datasets/{dataset_id}/gold", get(list_gold).put(set_gold).delete(unset_gold))
}

/// A gold record to mark, by id or external id, with the verdict its answers must give.
#[derive(Deserialize, ToSchema)]
pub(super) struct GoldItemBody {
    record_id: Option<String>,
    external_id: Option<String>,
    verdict: wire::VerdictJson,
}

/// The dataset's quality settings.
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/quality", tag = "quality", responses((status = 200, body = wire::QualityJson)))]
pub(super) async fn get_quality(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::QualityJson>> {
    Ok(Json(wire::quality(&state.app.dataset_quality(&caller, id).await?)))
}

/// Replaces the dataset's quality settings; records' targets follow at once.
#[utoipa::path(put, path = "/api/v1/datasets/{dataset_id}/quality", tag = "quality", request_body = wire::QualityJson, responses((status = 200, body = wire::QualityJson)))]
pub(super) async fn set_quality(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<serde_json::Value>) -> ApiResult<Json<wire::QualityJson>> {
    Ok(Json(wire::quality(&state.app.set_dataset_quality(&caller, id, &body).await?)))
}

/// Each labeler who answered a gold record, with their standing.
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/quality/labelers", tag = "quality", responses((status = 200, body = wire::Items<wire::LabelerQualityJson>)))]
pub(super) async fn list_labelers(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::LabelerQualityJson>>> {
    Ok(Json(wire::items(&state.app.labeler_quality(&caller, id).await?, wire::labeler_quality)))
}

/// Lets a labeler paused by their gold answers go on; only later gold answers can pause them again.
#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/quality/labelers/{user_id}/resume", tag = "quality", responses((status = 200, body = wire::Items<wire::LabelerQualityJson>)))]
pub(super) async fn resume_labeler(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathIds(id, user): PathIds<DatasetId, UserId>,
) -> ApiResult<Json<wire::Items<wire::LabelerQualityJson>>> {
    state.app.resume_labeler(&caller, id, user).await?;
    Ok(Json(wire::items(&state.app.labeler_quality(&caller, id).await?, wire::labeler_quality)))
}

/// The dataset's gold records and their verdicts.
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/gold", tag = "quality", responses((status = 200, body = wire::Items<wire::GoldRecordJson>)))]
pub(super) async fn list_gold(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::Items<wire::GoldRecordJson>>> {
    Ok(Json(wire::items(&state.app.list_gold(&caller, id).await?, wire::gold_record)))
}

/// Makes records gold with their verdicts (a gold record takes the new verdict); all or nothing.
#[utoipa::path(put, path = "/api/v1/datasets/{dataset_id}/gold", tag = "quality", request_body = Items<GoldItemBody>, responses((status = 200, body = wire::CountJson)))]
pub(super) async fn set_gold(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<Items<GoldItemBody>>) -> ApiResult<Json<wire::CountJson>> {
    let items = body
        .items
        .into_iter()
        .map(|item| {
            let record = item.record_id.as_deref().map(|id| parse_id::<RecordId>("record_id", id)).transpose()?;
            if record.is_none() && item.external_id.is_none() {
                return Err(ApiError::request(vec!["body".into(), "items".into()], "missing", "each item needs a `record_id` or an `external_id`"));
            }
            Ok((item.external_id, record, serde_json::to_value(item.verdict).unwrap_or_default()))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let count = state.app.set_gold(&caller, id, items).await?;
    Ok(Json(wire::CountJson { count: count as u64 }))
}

/// Makes records ordinary again.
#[utoipa::path(delete, path = "/api/v1/datasets/{dataset_id}/gold", tag = "quality", params(("ids" = String, Query, description = "up to 100 record ids, comma-separated")), responses((status = 200, body = wire::CountJson)))]
pub(super) async fn unset_gold(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams) -> ApiResult<Json<wire::CountJson>> {
    let ids: Vec<RecordId> = query.ids("ids")?;
    Ok(Json(wire::CountJson { count: state.app.unset_gold(&caller, id, ids).await? }))
}
