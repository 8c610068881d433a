//! Records, responses, suggestions, and the lists and search results they come in.
//!
//! Records and responses borrow their texts and values, so large records are written out
//! without copies.

use std::collections::BTreeMap;

use juror_app::RecordView;
use juror_core::response::{Response, Suggestion};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One labeler's answer to a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseJson<'a> {
    pub id: String,
    /// By question name: `{"value": ...}`.
    pub values: Option<&'a Map<String, Value>>,
    /// `submitted`, `draft` or `discarded`.
    pub status: &'static str,
    pub record_id: String,
    pub user_id: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn response(response: &Response) -> ResponseJson<'_> {
    ResponseJson {
        id: response.id.to_string(),
        values: response.values.as_ref(),
        status: response.status.as_str(),
        record_id: response.record_id.to_string(),
        user_id: response.user_id.to_string(),
        inserted_at: response.inserted_at.to_naive_iso(),
        updated_at: response.updated_at.to_naive_iso(),
    }
}

/// A model's (or a person's) suggested answer to one question of a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionJson<'a> {
    pub id: String,
    pub question_id: String,
    /// `model`, `human`, or `null`.
    #[serde(rename = "type")]
    pub kind: Option<&'static str>,
    pub value: &'a Value,
    pub agent: Option<&'a str>,
    pub score: Option<&'a Value>,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn suggestion(suggestion: &Suggestion) -> SuggestionJson<'_> {
    SuggestionJson {
        id: suggestion.id.to_string(),
        question_id: suggestion.question_id.to_string(),
        kind: suggestion.kind.map(|kind| kind.as_str()),
        value: &suggestion.value,
        agent: suggestion.agent.as_deref(),
        score: suggestion.score.as_ref(),
        inserted_at: suggestion.inserted_at.to_naive_iso(),
        updated_at: suggestion.updated_at.to_naive_iso(),
    }
}

/// A record, with the relationship keys that were loaded and none of the others.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordJson<'a> {
    pub id: String,
    /// `pending` or `completed`.
    pub status: &'static str,
    pub fields: &'a Map<String, Value>,
    pub metadata: Option<&'a Map<String, Value>>,
    pub external_id: Option<&'a str>,
    /// With `include=responses` (a labeler sees only their own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responses: Option<Vec<ResponseJson<'a>>>,
    /// With `include=suggestions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Vec<SuggestionJson<'a>>>,
    /// With `include=vectors` (or `vectors:name,...`): by vector name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vectors: Option<BTreeMap<&'a str, &'a [f64]>>,
    pub dataset_id: String,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn record(view: &RecordView) -> RecordJson<'_> {
    let record = &view.record;
    let relations = &view.relations;
    RecordJson {
        id: record.id.to_string(),
        status: record.status.as_str(),
        fields: &record.fields,
        metadata: record.metadata.as_ref(),
        external_id: record.external_id.as_deref(),
        responses: relations.responses.as_ref().map(|responses| responses.iter().map(response).collect()),
        suggestions: relations.suggestions.as_ref().map(|suggestions| suggestions.iter().map(suggestion).collect()),
        vectors: relations.vectors.as_ref().map(|vectors| vectors.iter().map(|(name, vector)| (name.as_str(), vector.as_slice())).collect()),
        dataset_id: record.dataset_id.to_string(),
        inserted_at: record.inserted_at.to_naive_iso(),
        updated_at: record.updated_at.to_naive_iso(),
    }
}

/// `{"items": [Record], "total"?}`, the record list shapes.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordList<'a> {
    pub items: Vec<RecordJson<'a>>,
    /// The dataset's (or the search's) total, where the route counts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// One search hit: the record and its score.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchItem<'a> {
    pub record: RecordJson<'a>,
    /// A relevance count for text queries, the cosine similarity for vector queries.
    pub query_score: Option<f64>,
}

/// `{"items": [{"record", "query_score"}], "total"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchList<'a> {
    pub items: Vec<SearchItem<'a>>,
    pub total: u64,
}

/// The outcome of one item of a bulk response write: the response, or why it failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponseItem<'a> {
    pub item: Option<ResponseJson<'a>>,
    pub error: Option<ErrorDetail>,
}

/// `{"detail": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub detail: String,
}
