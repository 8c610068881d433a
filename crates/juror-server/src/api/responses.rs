//! Answers: `/records/{id}/responses`, `/responses/{id}`, `/me/responses/bulk`, and suggestions.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use juror_app::{AppError, ResponseWrite};
use juror_core::ids::{RecordId, ResponseId, SuggestionId};
use juror_core::response::ResponseStatus;
use serde::Deserialize;
use utoipa::ToSchema;
use serde_json::{Map, Value};

use super::body::{Items, SuggestionBody};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Auth, PathId, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/records/{record_id}/responses", post(create_response))
        .route("/api/v1/responses/{response_id}", put(update_response).delete(delete_response))
        .route("/api/v1/me/responses/bulk", post(upsert_my_responses))
        .route("/api/v1/records/{record_id}/suggestions", get(list_suggestions).put(upsert_suggestion).delete(delete_record_suggestions))
        .route("/api/v1/suggestions/{suggestion_id}", delete(delete_suggestion))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct ResponseBody {
    values: Option<Map<String, Value>>,
    status: String,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct BulkResponseBody {
    values: Option<Map<String, Value>>,
    status: String,
    record_id: String,
}

impl ResponseBody {
    fn into_write(self) -> ApiResult<ResponseWrite> {
        let status = ResponseStatus::parse(&self.status)
            .map_err(|error| ApiError::request(vec!["body".into(), "status".into()], "enum", error.message()))?;
        Ok(ResponseWrite { values: self.values, status, presentation: None })
    }
}

/// Answers a record as the caller (one answer per labeler); a submitted ranking ranks every option.
#[utoipa::path(post, path = "/api/v1/records/{record_id}/responses", tag = "responses", request_body = ResponseBody, responses((status = 201, body = wire::ResponseJson)))]
pub(super) async fn create_response(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>, ApiJson(body): ApiJson<ResponseBody>) -> ApiResult<Response> {
    let response = state.app.create_response(&caller, id, body.into_write()?).await?;
    Ok((StatusCode::CREATED, Json(wire::response(&response))).into_response())
}

#[utoipa::path(put, path = "/api/v1/responses/{response_id}", tag = "responses", request_body = ResponseBody, responses((status = 200, body = wire::ResponseJson)))]
pub(super) async fn update_response(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<ResponseId>, ApiJson(body): ApiJson<ResponseBody>) -> ApiResult<Response> {
    Ok(Json(wire::response(&state.app.update_response(&caller, id, body.into_write()?).await?)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/responses/{response_id}", tag = "responses", responses((status = 200, body = wire::ResponseJson)))]
pub(super) async fn delete_response(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<ResponseId>) -> ApiResult<Response> {
    Ok(Json(wire::response(&state.app.delete_response(&caller, id).await?)).into_response())
}

/// Creates or replaces the caller's answers to up to 100 records; each item succeeds or fails alone.
#[utoipa::path(post, path = "/api/v1/me/responses/bulk", tag = "responses", request_body = Items<BulkResponseBody>, responses((status = 200, body = wire::Items<wire::BulkResponseItem>)))]
pub(super) async fn upsert_my_responses(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<Items<BulkResponseBody>>) -> ApiResult<Response> {
    let items = body
        .items
        .into_iter()
        .map(|item| {
            let record_id: RecordId = parse_id("record_id", &item.record_id)?;
            Ok((record_id, ResponseBody { values: item.values, status: item.status }.into_write()?))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let results = state.app.upsert_my_responses(&caller, items).await?;
    let items: Vec<wire::BulkResponseItem> = results
        .iter()
        .map(|item| match &item.result {
            Ok(response) => wire::BulkResponseItem { item: Some(wire::response(response)), error: None },
            Err(AppError::Internal(error)) => {
                tracing::error!(error = format!("{error:#}"), "bulk response item failed: {error:#}");
                wire::BulkResponseItem { item: None, error: Some(wire::ErrorDetail { detail: "Something went wrong".into() }) }
            }
            Err(error) => wire::BulkResponseItem { item: None, error: Some(wire::ErrorDetail { detail: error.to_string() }) },
        })
        .collect();
    Ok(Json(wire::Items { items }).into_response())
}

#[utoipa::path(get, path = "/api/v1/records/{record_id}/suggestions", tag = "suggestions", responses((status = 200, body = wire::Items<wire::SuggestionJson>)))]
pub(super) async fn list_suggestions(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Response> {
    Ok(Json(wire::items(&state.app.list_suggestions(&caller, id).await?, wire::suggestion)).into_response())
}

/// Creates (201) or replaces (200) the record's suggestion for one question.
#[utoipa::path(put, path = "/api/v1/records/{record_id}/suggestions", tag = "suggestions", request_body = SuggestionBody, responses((status = 201, body = wire::SuggestionJson), (status = 200, body = wire::SuggestionJson)))]
pub(super) async fn upsert_suggestion(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>, ApiJson(body): ApiJson<SuggestionBody>) -> ApiResult<Response> {
    let by_name = body.question_name.clone();
    let question_id = match (&body.question_id, by_name) {
        (None, Some(name)) => state.app.question_id_by_name(id, &name).await?,
        _ => None,
    };
    let suggestion = body.into_new(&|_| question_id)?;
    let (suggestion, created) = state.app.upsert_suggestion(&caller, id, suggestion).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(wire::suggestion(&suggestion))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/records/{record_id}/suggestions", tag = "suggestions", params(("ids" = String, Query, description = "suggestion ids, comma-separated")), responses((status = 204)))]
pub(super) async fn delete_record_suggestions(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>, query: QueryParams) -> ApiResult<StatusCode> {
    let ids: Vec<SuggestionId> = query.ids("ids")?;
    state.app.delete_record_suggestions(&caller, id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/suggestions/{suggestion_id}", tag = "suggestions", responses((status = 200, body = wire::SuggestionJson)))]
pub(super) async fn delete_suggestion(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<SuggestionId>) -> ApiResult<Response> {
    Ok(Json(wire::suggestion(&state.app.delete_suggestion(&caller, id).await?)).into_response())
}
