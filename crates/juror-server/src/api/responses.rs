//! Answers: `/records/{id}/responses`, `/responses/{id}`, `/me/responses/bulk`, and suggestions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use juror_app::{AppError, ResponseWrite};
use juror_core::ids::{RecordId, ResponseId, SuggestionId};
use juror_core::response::ResponseStatus;
use serde::Deserialize;
use serde_json::{json, Map, Value};

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

#[derive(Deserialize)]
struct ResponseBody {
    values: Option<Map<String, Value>>,
    status: String,
}

#[derive(Deserialize)]
struct BulkResponseBody {
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

async fn create_response(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>, ApiJson(body): ApiJson<ResponseBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let response = state.app.create_response(&caller, id, body.into_write()?).await?;
    Ok((StatusCode::CREATED, Json(wire::response(&response))))
}

async fn update_response(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<ResponseId>, ApiJson(body): ApiJson<ResponseBody>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::response(&state.app.update_response(&caller, id, body.into_write()?).await?)))
}

async fn delete_response(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<ResponseId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::response(&state.app.delete_response(&caller, id).await?)))
}

async fn upsert_my_responses(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<Items<BulkResponseBody>>) -> ApiResult<Json<Value>> {
    let items = body
        .items
        .into_iter()
        .map(|item| {
            let record_id: RecordId = parse_id("record_id", &item.record_id)?;
            Ok((record_id, ResponseBody { values: item.values, status: item.status }.into_write()?))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let results = state.app.upsert_my_responses(&caller, items).await?;
    let items: Vec<Value> = results
        .into_iter()
        .map(|item| match item.result {
            Ok(response) => json!({"item": wire::response(&response), "error": null}),
            Err(AppError::Internal(error)) => {
                tracing::error!(error = format!("{error:#}"), "bulk response item failed: {error:#}");
                json!({"item": null, "error": {"detail": "Something went wrong"}})
            }
            Err(error) => json!({"item": null, "error": {"detail": error.to_string()}}),
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

async fn list_suggestions(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::items(&state.app.list_suggestions(&caller, id).await?, wire::suggestion)))
}

async fn upsert_suggestion(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>, ApiJson(body): ApiJson<SuggestionBody>) -> ApiResult<(StatusCode, Json<Value>)> {
    let by_name = body.question_name.clone();
    let question_id = match (&body.question_id, by_name) {
        (None, Some(name)) => state.app.question_id_by_name(id, &name).await?,
        _ => None,
    };
    let suggestion = body.into_new(&|_| question_id)?;
    let (suggestion, created) = state.app.upsert_suggestion(&caller, id, suggestion).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(wire::suggestion(&suggestion))))
}

async fn delete_record_suggestions(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>, query: QueryParams) -> ApiResult<StatusCode> {
    let ids: Vec<SuggestionId> = query.ids("ids")?;
    state.app.delete_record_suggestions(&caller, id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_suggestion(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<SuggestionId>) -> ApiResult<Json<Value>> {
    Ok(Json(wire::suggestion(&state.app.delete_suggestion(&caller, id).await?)))
}
