//! Records: `/api/v1/datasets/{id}/records` (list, bulk create/upsert, delete) and
//! `/api/v1/records/{id}` (read, update, delete).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use juror_app::{App, Caller, RecordInclude, RecordView, RecordsQuery};
use juror_core::ids::{DatasetId, QuestionId, RecordId};
use juror_core::record::RecordWrite;


use super::body::{Items, RecordBody};
use super::search::legacy_filters;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, PathId, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/datasets/{dataset_id}/records",
            get(list_records).post(create_records_deprecated).patch(update_records_deprecated).delete(delete_records),
        )
        .route("/api/v1/datasets/{dataset_id}/records/bulk", post(create_records).put(upsert_records))
        .route("/api/v1/records/{record_id}", get(get_record).patch(update_record).delete(delete_record))
}

/// Most records per `/records/bulk` request.
const MAX_BULK_ITEMS: usize = 500;

/// Reads `include=responses&include=suggestions,vectors:a,b` into what to load.
pub(super) fn parse_include(query: &QueryParams) -> ApiResult<RecordInclude> {
    let mut include = RecordInclude::default();
    let mut all_vectors = false;
    let mut named_vectors: Vec<String> = Vec::new();
    let mut in_vector_names = false;
    for token in query.all("include").flat_map(|value| value.split(',')).map(str::trim).filter(|token| !token.is_empty()) {
        match token {
            "responses" => include.responses = true,
            "suggestions" => include.suggestions = true,
            "vectors" => all_vectors = true,
            _ => {
                if let Some(name) = token.strip_prefix("vectors:") {
                    named_vectors.push(name.to_owned());
                    in_vector_names = true;
                    continue;
                }
                if in_vector_names {
                    named_vectors.push(token.to_owned());
                    continue;
                }
                return Err(ApiError::request(vec!["query".into(), "include".into()], "enum", format!("`{token}` cannot be included")));
            }
        }
        in_vector_names = false;
    }
    if all_vectors && !named_vectors.is_empty() {
        return Err(ApiError::request(vec!["query".into(), "include".into()], "value_error", "cannot include `vectors` and `vectors:<names>` together"));
    }
    if all_vectors || !named_vectors.is_empty() {
        include.vectors = Some(named_vectors);
    }
    Ok(include)
}

async fn question_lookup(app: &App, caller: &Caller, dataset: DatasetId) -> ApiResult<Vec<(String, QuestionId)>> {
    Ok(app.list_questions(caller, dataset).await?.into_iter().map(|question| (question.name, question.id)).collect())
}

async fn record_writes(app: &App, caller: &Caller, dataset: DatasetId, items: Vec<RecordBody>) -> ApiResult<Vec<RecordWrite>> {
    let questions = question_lookup(app, caller, dataset).await?;
    let by_name = |name: &str| questions.iter().find(|(candidate, _)| candidate == name).map(|(_, id)| *id);
    items.into_iter().map(|item| item.into_write(caller.user.id, &by_name)).collect()
}

fn check_count(count: usize, max: usize) -> ApiResult<()> {
    if count == 0 || count > max {
        return Err(ApiError::request(vec!["body".into(), "items".into()], "too_long", format!("items must have between 1 and {max} records, got {count}")));
    }
    Ok(())
}

/// A page of the dataset's records with everyone's answers (owners and admins).
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/records", tag = "records", params(("offset" = Option<u64>, Query), ("limit" = Option<u64>, Query), ("include" = Option<String>, Query, description = "`responses`, `suggestions`, `vectors` or `vectors:name,...`; repeated or comma-separated")), responses((status = 200, body = wire::RecordList)))]
pub(super) async fn list_records(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams) -> ApiResult<Response> {
    let records_query = RecordsQuery {
        offset: query.integer("offset", 0, 0, u64::MAX >> 1)?,
        limit: query.integer("limit", 50, 1, 1000)?,
        include: parse_include(&query)?,
        search: legacy_filters(&query)?,
    };
    let result = state.app.list_records(&caller, id, records_query).await?;
    let items = result.hits.iter().map(|hit| wire::record(&hit.view)).collect();
    Ok(Json(wire::RecordList { items, total: Some(result.total) }).into_response())
}

/// Creates up to 1,000 records (argilla-v1).
#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/records", tag = "records", request_body = Items<RecordBody>, responses((status = 204)))]
pub(super) async fn create_records_deprecated(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<Items<RecordBody>>) -> ApiResult<StatusCode> {
    check_count(body.items.len(), 1000)?;
    let writes = record_writes(&state.app, &caller, id, body.items).await?;
    state.app.create_records(&caller, id, writes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Updates metadata, suggestions and vectors of up to 1,000 records (argilla-v1).
#[utoipa::path(patch, path = "/api/v1/datasets/{dataset_id}/records", tag = "records", request_body = Items<RecordBody>, responses((status = 204)))]
pub(super) async fn update_records_deprecated(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<Items<RecordBody>>) -> ApiResult<StatusCode> {
    check_count(body.items.len(), 1000)?;
    let mut writes = record_writes(&state.app, &caller, id, body.items).await?;
    for write in &mut writes {
        write.fields = None;
        write.responses = None;
        write.external_id = None;
    }
    state.app.update_records(&caller, id, writes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates up to 500 records: all or none.
#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/records/bulk", tag = "records", request_body = Items<RecordBody>, responses((status = 201, body = wire::RecordList)))]
pub(super) async fn create_records(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<Items<RecordBody>>) -> ApiResult<Response> {
    check_count(body.items.len(), MAX_BULK_ITEMS)?;
    let mut writes = record_writes(&state.app, &caller, id, body.items).await?;
    writes.iter_mut().for_each(|write| write.id = None);
    let records = state.app.create_records(&caller, id, writes).await?;
    let views = state.app.with_relations(records).await?;
    Ok((StatusCode::CREATED, Json(record_list(&views))).into_response())
}

/// Creates or updates up to 500 records (matched by `external_id`, then `id`): all or none.
#[utoipa::path(put, path = "/api/v1/datasets/{dataset_id}/records/bulk", tag = "records", request_body = Items<RecordBody>, responses((status = 200, body = wire::RecordList)))]
pub(super) async fn upsert_records(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, ApiJson(body): ApiJson<Items<RecordBody>>) -> ApiResult<Response> {
    check_count(body.items.len(), MAX_BULK_ITEMS)?;
    let writes = record_writes(&state.app, &caller, id, body.items).await?;
    let records = state.app.upsert_records(&caller, id, writes).await?;
    let views = state.app.with_relations(records).await?;
    Ok(Json(record_list(&views)).into_response())
}

fn record_list(views: &[RecordView]) -> wire::RecordList<'_> {
    wire::RecordList { items: views.iter().map(wire::record).collect(), total: None }
}

#[utoipa::path(delete, path = "/api/v1/datasets/{dataset_id}/records", tag = "records", params(("ids" = String, Query, description = "up to 100 record ids, comma-separated")), responses((status = 204)))]
pub(super) async fn delete_records(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams) -> ApiResult<StatusCode> {
    let ids: Vec<RecordId> = query.ids("ids")?;
    state.app.delete_records(&caller, id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A record with its relations (a labeler sees only their own answer).
#[utoipa::path(get, path = "/api/v1/records/{record_id}", tag = "records", responses((status = 200, body = wire::RecordJson)))]
pub(super) async fn get_record(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Response> {
    let view = state.app.get_record(&caller, id).await?;
    Ok(Json(wire::record(&view)).into_response())
}

#[utoipa::path(patch, path = "/api/v1/records/{record_id}", tag = "records", request_body = RecordBody, responses((status = 200, body = wire::RecordJson)))]
pub(super) async fn update_record(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>, ApiJson(body): ApiJson<RecordBody>) -> ApiResult<Response> {
    let record = state.app.get_record(&caller, id).await?;
    let questions = question_lookup(&state.app, &caller, record.record.dataset_id).await?;
    let by_name = |name: &str| questions.iter().find(|(candidate, _)| candidate == name).map(|(_, id)| *id);
    let write = body.into_write(caller.user.id, &by_name)?;
    let view = state.app.update_record(&caller, id, write).await?;
    Ok(Json(wire::record(&view)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/records/{record_id}", tag = "records", responses((status = 200, body = wire::RecordJson)))]
pub(super) async fn delete_record(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<RecordId>) -> ApiResult<Response> {
    let record = state.app.delete_record(&caller, id).await?;
    let view = RecordView { record, relations: Default::default() };
    Ok(Json(wire::record(&view)).into_response())
}

