//! `/api/v1/datasets`: create, list, read, change, publish and delete datasets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use juror_app::{DatasetPatch, NewDataset};
use juror_core::dataset::Distribution;
use juror_core::ids::{DatasetId, WorkspaceId};
use serde::Deserialize;
use utoipa::ToSchema;
use serde_json::{Map, Value};

use super::body::{bool_key, nullable_string_key, required_key, string_key, Patch};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Auth, PathId, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/datasets", get(list_my_datasets))
        .route("/api/v1/datasets", post(create_dataset))
        .route("/api/v1/datasets/{dataset_id}", get(get_dataset).patch(update_dataset).delete(delete_dataset))
        .route("/api/v1/datasets/{dataset_id}/publish", put(publish_dataset))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewDatasetBody {
    name: String,
    workspace_id: String,
    guidelines: Option<String>,
    allow_extra_metadata: Option<bool>,
    distribution: Option<Value>,
    metadata: Option<Map<String, Value>>,
}

/// The keys `PATCH /api/v1/datasets/{id}` reads; absent keys are left as they are.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct DatasetPatchBody {
    name: Option<String>,
    /// `null` clears them.
    guidelines: Option<String>,
    allow_extra_metadata: Option<bool>,
    /// `{"strategy": "overlap", "min_submitted": N}`.
    distribution: Option<Value>,
    /// `null` clears it.
    metadata: Option<Map<String, Value>>,
}

fn parse_distribution(value: &Value) -> ApiResult<Distribution> {
    let loc = || vec![Value::from("body"), Value::from("distribution")];
    let strategy = value.get("strategy").and_then(Value::as_str).unwrap_or("overlap");
    if strategy != "overlap" {
        return Err(ApiError::request(loc(), "literal_error", format!("distribution strategy must be `overlap`, got `{strategy}`")));
    }
    let min_submitted = match value.get("min_submitted") {
        None | Some(Value::Null) => 1,
        Some(number) => number.as_i64().ok_or_else(|| ApiError::request(loc(), "int_type", "min_submitted must be an integer"))?,
    };
    Distribution::overlap(min_submitted).map_err(|error| ApiError::request(loc(), "greater_than_equal", error.message()))
}

/// The datasets the caller sees, optionally by `workspace_id`, `name` and `status`.
#[utoipa::path(get, path = "/api/v1/me/datasets", tag = "datasets", params(("workspace_id" = Option<String>, Query), ("name" = Option<String>, Query), ("status" = Option<String>, Query, description = "`draft` or `ready`")), responses((status = 200, body = wire::Items<wire::DatasetJson>)))]
pub(super) async fn list_my_datasets(State(state): State<AppState>, Auth(caller): Auth, query: QueryParams) -> ApiResult<Json<wire::Items<wire::DatasetJson>>> {
    let workspace: Option<WorkspaceId> = query.first("workspace_id").map(|id| parse_id("workspace_id", id)).transpose()?;
    let mut datasets = state.app.my_datasets(&caller).await?;
    datasets.retain(|dataset| {
        workspace.is_none_or(|workspace| dataset.workspace_id == workspace)
            && query.first("name").is_none_or(|name| dataset.name == name)
            && query.first("status").is_none_or(|status| dataset.status.as_str() == status)
    });
    Ok(Json(wire::items(&datasets, wire::dataset)))
}

/// Creates a draft dataset (owners, and admins of the workspace).
#[utoipa::path(post, path = "/api/v1/datasets", tag = "datasets", request_body = NewDatasetBody, responses((status = 201, body = wire::DatasetJson)))]
pub(super) async fn create_dataset(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<NewDatasetBody>) -> ApiResult<(StatusCode, Json<wire::DatasetJson>)> {
    // A client-sent `id` is ignored: the v2 SDK's copy flow resends the source dataset's id.
    let new = NewDataset {
        id: None,
        name: body.name,
        workspace_id: parse_id("workspace_id", &body.workspace_id)?,
        guidelines: body.guidelines,
        allow_extra_metadata: body.allow_extra_metadata.unwrap_or(true),
        distribution: body.distribution.as_ref().map(parse_distribution).transpose()?.unwrap_or_default(),
        metadata: body.metadata,
    };
    let dataset = state.app.create_dataset(&caller, new).await?;
    Ok((StatusCode::CREATED, Json(wire::dataset(&dataset))))
}

#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}", tag = "datasets", responses((status = 200, body = wire::DatasetJson)))]
pub(super) async fn get_dataset(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::DatasetJson>> {
    Ok(Json(wire::dataset(&state.app.get_dataset(&caller, id).await?)))
}

#[utoipa::path(patch, path = "/api/v1/datasets/{dataset_id}", tag = "datasets", request_body = DatasetPatchBody, responses((status = 200, body = wire::DatasetJson)))]
pub(super) async fn update_dataset(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(patch): ApiJson<Patch>) -> ApiResult<Json<wire::DatasetJson>> {
    let metadata = match patch.get("metadata") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::Object(object)) => Some(Some(object.clone())),
        Some(_) => return Err(ApiError::request(vec!["body".into(), "metadata".into()], "dict_type", "metadata must be an object or null")),
    };
    let patch = DatasetPatch {
        name: string_key(&patch, "name")?,
        guidelines: nullable_string_key(&patch, "guidelines")?,
        allow_extra_metadata: bool_key(&patch, "allow_extra_metadata")?,
        distribution: required_key(&patch, "distribution")?.map(parse_distribution).transpose()?,
        metadata,
    };
    Ok(Json(wire::dataset(&state.app.update_dataset(&caller, id, patch).await?)))
}

/// Publishes a draft dataset: it needs fields and a required question.
#[utoipa::path(put, path = "/api/v1/datasets/{dataset_id}/publish", tag = "datasets", responses((status = 200, body = wire::DatasetJson)))]
pub(super) async fn publish_dataset(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::DatasetJson>> {
    Ok(Json(wire::dataset(&state.app.publish_dataset(&caller, id).await?)))
}

/// Deletes a dataset and everything in it.
#[utoipa::path(delete, path = "/api/v1/datasets/{dataset_id}", tag = "datasets", responses((status = 200, body = wire::DatasetJson)))]
pub(super) async fn delete_dataset(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>) -> ApiResult<Json<wire::DatasetJson>> {
    Ok(Json(wire::dataset(&state.app.delete_dataset(&caller, id).await?)))
}
