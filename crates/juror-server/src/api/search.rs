//! Record search: `POST .../records/search` bodies and the 1.29 list filters, read into a
//! `SearchRequest`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use juror_app::{ScopeRequest, SearchRequest, SearchResult, VectorQuery, MAX_FILTERS};
use juror_core::ids::DatasetId;
use juror_core::search::{Condition, RecordProperty, SimilarityOrder, SuggestionProperty, TextQuery};
use juror_core::time::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;
use serde_json::Value;

use super::records::parse_include;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, ApiJson, Auth, PathId, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/datasets/{dataset_id}/records/search", post(search_records))
        .route("/api/v1/me/datasets/{dataset_id}/records/search", post(search_my_records))
}

#[derive(Deserialize, Default, ToSchema)]
pub(super) struct SearchBody {
    query: Option<QueryBody>,
    filters: Option<FiltersBody>,
    sort: Option<Vec<SortBody>>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct QueryBody {
    text: Option<TextBody>,
    vector: Option<VectorBody>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct TextBody {
    q: String,
    field: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct VectorBody {
    name: String,
    value: Option<Vec<f64>>,
    record_id: Option<String>,
    order: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct FiltersBody {
    and: Vec<FilterBody>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct FilterBody {
    #[serde(rename = "type")]
    kind: String,
    scope: Value,
    values: Option<Vec<Value>>,
    ge: Option<Value>,
    le: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct SortBody {
    scope: Value,
    order: Option<String>,
}

fn invalid(loc: &str, message: impl Into<String>) -> ApiError {
    ApiError::request(vec!["body".into(), loc.into()], "value_error", message)
}

fn parse_scope(scope: &Value) -> ApiResult<ScopeRequest> {
    let text = |key: &str| scope.get(key).and_then(Value::as_str);
    match text("entity") {
        Some("record") => Ok(ScopeRequest::Record(match text("property") {
            Some("id") => RecordProperty::Id,
            Some("external_id") => RecordProperty::ExternalId,
            Some("inserted_at") => RecordProperty::InsertedAt,
            Some("updated_at") => RecordProperty::UpdatedAt,
            Some("status") => RecordProperty::Status,
            other => return Err(invalid("scope", format!("unknown record property {other:?}"))),
        })),
        Some("metadata") => {
            let name = text("metadata_property").ok_or_else(|| invalid("scope", "metadata scope needs `metadata_property`"))?;
            Ok(ScopeRequest::Metadata(name.to_owned()))
        }
        Some("suggestion") => {
            let question = text("question").ok_or_else(|| invalid("scope", "suggestion scope needs `question`"))?;
            let property = match text("property") {
                None | Some("value") => SuggestionProperty::Value,
                Some("score") => SuggestionProperty::Score,
                Some("agent") => SuggestionProperty::Agent,
                Some("type") => SuggestionProperty::Type,
                Some(other) => return Err(invalid("scope", format!("unknown suggestion property `{other}`"))),
            };
            Ok(ScopeRequest::Suggestion { question: question.to_owned(), property })
        }
        Some("response") => match text("property") {
            None if text("question").is_some() => Ok(ScopeRequest::Response { question: text("question").map(str::to_owned) }),
            None | Some("status") => Ok(ScopeRequest::Response { question: None }),
            Some(other) => Err(invalid("scope", format!("unknown response property `{other}`"))),
        },
        other => Err(invalid("scope", format!("unknown scope entity {other:?}"))),
    }
}

fn term(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Record dates are compared as instants; clients send ISO strings.
fn bound(scope: &ScopeRequest, value: Option<Value>) -> ApiResult<Option<Value>> {
    let is_date = matches!(scope, ScopeRequest::Record(RecordProperty::InsertedAt | RecordProperty::UpdatedAt));
    match value {
        Some(Value::Null) | None => Ok(None),
        Some(Value::String(text)) if is_date => {
            let instant = Timestamp::parse(&text).ok_or_else(|| invalid("filters", format!("`{text}` is not a date")))?;
            Ok(Some(Value::from(instant.micros())))
        }
        Some(value) => Ok(Some(value)),
    }
}

fn parse_filter(filter: FilterBody) -> ApiResult<(ScopeRequest, Condition)> {
    let scope = parse_scope(&filter.scope)?;
    let condition = match filter.kind.as_str() {
        "terms" => {
            let values = filter.values.unwrap_or_default();
            if values.is_empty() || values.len() > 250 {
                return Err(invalid("filters", "terms filters take between 1 and 250 values"));
            }
            Condition::Terms(values.iter().map(term).collect())
        }
        "range" => {
            let (ge, le) = (bound(&scope, filter.ge)?, bound(&scope, filter.le)?);
            if ge.is_none() && le.is_none() {
                return Err(invalid("filters", "a range filter needs `ge` or `le`"));
            }
            Condition::Range { ge, le }
        }
        other => return Err(invalid("filters", format!("unknown filter type `{other}`"))),
    };
    Ok((scope, condition))
}

fn parse_search(body: SearchBody) -> ApiResult<SearchRequest> {
    let mut request = SearchRequest::default();
    if let Some(query) = body.query {
        request.text = query.text.map(|text| TextQuery { q: text.q, field: text.field });
        if let Some(vector) = query.vector {
            let order = match vector.order.as_deref() {
                None | Some("most_similar") => SimilarityOrder::MostSimilar,
                Some("least_similar") => SimilarityOrder::LeastSimilar,
                Some(other) => return Err(invalid("query", format!("unknown order `{other}`"))),
            };
            let record_id = vector.record_id.as_deref().map(|id| parse_id("record_id", id)).transpose()?;
            request.vector = Some(VectorQuery { name: vector.name, value: vector.value, record_id, order });
        }
    }
    if let Some(filters) = body.filters {
        if filters.and.is_empty() || filters.and.len() > MAX_FILTERS {
            return Err(invalid("filters", format!("between 1 and {MAX_FILTERS} filters are allowed")));
        }
        request.filters = filters.and.into_iter().map(parse_filter).collect::<ApiResult<_>>()?;
    }
    for sort in body.sort.unwrap_or_default() {
        let descending = match sort.order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(invalid("sort", format!("unknown order `{other}`"))),
        };
        request.sorts.push((parse_scope(&sort.scope)?, descending));
    }
    Ok(request)
}

/// The 1.29 list filters (`response_status`, `metadata`, `sort_by`), when any is given.
pub(super) fn legacy_filters(query: &QueryParams) -> ApiResult<Option<SearchRequest>> {
    let mut request = SearchRequest::default();
    let statuses: Vec<String> = query.all("response_status").map(str::to_owned).collect();
    if !statuses.is_empty() {
        request.filters.push((ScopeRequest::Response { question: None }, Condition::Terms(statuses)));
    }
    for metadata in query.all("metadata") {
        let (name, rest) = metadata.split_once(':').ok_or_else(|| ApiError::request(vec!["query".into(), "metadata".into()], "value_error", "metadata filters look like `name:value`"))?;
        let scope = ScopeRequest::Metadata(name.to_owned());
        let condition = match serde_json::from_str::<Value>(rest) {
            Ok(Value::Object(range)) => Condition::Range { ge: range.get("ge").cloned(), le: range.get("le").cloned() },
            _ => Condition::Terms(rest.split(',').map(str::to_owned).collect()),
        };
        request.filters.push((scope, condition));
    }
    for sort in query.all("sort_by") {
        let (target, order) = sort.rsplit_once(':').unwrap_or((sort, "asc"));
        let scope = match target.strip_prefix("metadata.") {
            Some(name) => ScopeRequest::Metadata(name.to_owned()),
            None => ScopeRequest::Record(match target {
                "updated_at" => RecordProperty::UpdatedAt,
                "id" => RecordProperty::Id,
                "external_id" => RecordProperty::ExternalId,
                _ => RecordProperty::InsertedAt,
            }),
        };
        request.sorts.push((scope, order == "desc"));
    }
    Ok((!request.filters.is_empty() || !request.sorts.is_empty()).then_some(request))
}

/// A search result in the `{"items": [{"record", "query_score"}], "total"}` shape.
fn search_list(result: &SearchResult) -> wire::SearchList<'_> {
    let items = result.hits.iter().map(|hit| wire::SearchItem { record: wire::record(&hit.view), query_score: hit.score }).collect();
    wire::SearchList { items, total: result.total }
}

/// Text, filter, sort and vector search over a dataset's records (owners and admins).
#[utoipa::path(post, path = "/api/v1/datasets/{dataset_id}/records/search", tag = "records", params(("offset" = Option<u64>, Query), ("limit" = Option<u64>, Query), ("include" = Option<String>, Query, description = "`responses`, `suggestions`, `vectors` or `vectors:name,...`; repeated or comma-separated")), request_body = SearchBody, responses((status = 200, body = wire::SearchList)))]
pub(super) async fn search_records(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams, ApiJson(body): ApiJson<SearchBody>) -> ApiResult<Response> {
    let (offset, limit) = (query.integer("offset", 0, 0, u64::MAX >> 1)?, query.integer("limit", 50, 1, 1000)?);
    let include = parse_include(&query)?;
    let result = state.app.search_records(&caller, id, parse_search(body)?, offset, limit, &include).await?;
    Ok(Json(search_list(&result)).into_response())
}

/// The same search as the caller sees the records (a labeler: their own answers).
#[utoipa::path(post, path = "/api/v1/me/datasets/{dataset_id}/records/search", tag = "records", params(("offset" = Option<u64>, Query), ("limit" = Option<u64>, Query), ("include" = Option<String>, Query, description = "`responses`, `suggestions`, `vectors` or `vectors:name,...`; repeated or comma-separated")), request_body = SearchBody, responses((status = 200, body = wire::SearchList)))]
pub(super) async fn search_my_records(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams, ApiJson(body): ApiJson<SearchBody>) -> ApiResult<Response> {
    let (offset, limit) = (query.integer("offset", 0, 0, u64::MAX >> 1)?, query.integer("limit", 50, 1, 1000)?);
    let include = parse_include(&query)?;
    let result = state.app.search_my_records(&caller, id, parse_search(body)?, offset, limit, &include).await?;
    Ok(Json(search_list(&result)).into_response())
}
