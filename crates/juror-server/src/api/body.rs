//! Request bodies shared by several resources, and the helpers that read PATCH objects.
//!
//! PATCH bodies are read as JSON objects: an absent key leaves a value alone, a present one sets
//! it, and `null` is refused for keys that cannot be empty.

use juror_core::ids::{QuestionId, UserId};
use juror_core::record::{NewResponse, RecordWrite};
use juror_core::response::{NewSuggestion, ResponseStatus, SuggestionType};
use serde::Deserialize;
use utoipa::ToSchema;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;

/// A PATCH body.
pub type Patch = Map<String, Value>;

fn patch_error(key: &str, message: impl Into<String>) -> ApiError {
    ApiError::request(vec!["body".into(), key.into()], "value_error", message)
}

/// A non-nullable key: absent is `None`; null is an error.
pub fn required_key<'a>(patch: &'a Patch, key: &str) -> ApiResult<Option<&'a Value>> {
    match patch.get(key) {
        None => Ok(None),
        Some(Value::Null) => Err(patch_error(key, format!("{key} cannot be null"))),
        Some(value) => Ok(Some(value)),
    }
}

/// A non-nullable string key.
pub fn string_key(patch: &Patch, key: &str) -> ApiResult<Option<String>> {
    required_key(patch, key)?
        .map(|value| value.as_str().map(str::to_owned).ok_or_else(|| patch_error(key, format!("{key} must be a string"))))
        .transpose()
}

/// A nullable string key: absent is `None`, null is `Some(None)`.
pub fn nullable_string_key(patch: &Patch, key: &str) -> ApiResult<Option<Option<String>>> {
    match patch.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(text)) => Ok(Some(Some(text.clone()))),
        Some(_) => Err(patch_error(key, format!("{key} must be a string or null"))),
    }
}

/// A non-nullable boolean key.
pub fn bool_key(patch: &Patch, key: &str) -> ApiResult<Option<bool>> {
    required_key(patch, key)?
        .map(|value| value.as_bool().ok_or_else(|| patch_error(key, format!("{key} must be a boolean"))))
        .transpose()
}

/// A response inside a record write.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = RecordResponseBody)]
pub struct ResponseBody {
    pub user_id: Option<String>,
    pub values: Option<Map<String, Value>>,
    pub status: String,
}

/// A suggestion inside a record write or on its own.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SuggestionBody {
    pub question_id: Option<String>,
    pub question_name: Option<String>,
    pub value: Value,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub score: Option<Value>,
    pub agent: Option<String>,
}

impl SuggestionBody {
    /// The domain suggestion; `question_by_name` resolves a question given only by name.
    pub fn into_new(self, question_by_name: &dyn Fn(&str) -> Option<QuestionId>) -> ApiResult<NewSuggestion> {
        let question_id = match (&self.question_id, &self.question_name) {
            (Some(id), _) => parse_id("question_id", id)?,
            (None, Some(name)) => question_by_name(name).ok_or_else(|| ApiError::invalid(format!("question with name `{name}` does not exist")))?,
            (None, None) => return Err(ApiError::request(vec!["body".into(), "question_id".into()], "missing", "Field required")),
        };
        let kind = self.kind.as_deref().map(SuggestionType::parse).transpose().map_err(|error| ApiError::invalid(error.message()))?;
        Ok(NewSuggestion { question_id, kind, value: self.value, agent: self.agent, score: self.score })
    }
}

/// A record as both SDKs send it, for create, upsert and update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordBody {
    pub id: Option<String>,
    pub fields: Option<Map<String, Value>>,
    pub metadata: Option<Value>,
    pub external_id: Option<Value>,
    pub responses: Option<Vec<ResponseBody>>,
    pub suggestions: Option<Vec<SuggestionBody>>,
    pub vectors: Option<Map<String, Value>>,
}

/// `{"items": [...]}` request bodies: the same envelope as the answers'.
pub use crate::wire::Items;

impl RecordBody {
    /// The domain write. Responses without a user are the caller's.
    pub fn into_write(self, caller: UserId, question_by_name: &dyn Fn(&str) -> Option<QuestionId>) -> ApiResult<RecordWrite> {
        let id = self.id.as_deref().map(|id| parse_id("id", id)).transpose()?;
        let external_id = match self.external_id {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text),
            Some(Value::Number(number)) => Some(number.to_string()),
            Some(_) => return Err(ApiError::request(vec!["body".into(), "external_id".into()], "string_type", "external_id must be a string")),
        };
        let metadata = match self.metadata {
            None | Some(Value::Null) => None,
            Some(Value::Object(object)) => Some(object),
            Some(_) => return Err(ApiError::request(vec!["body".into(), "metadata".into()], "dict_type", "metadata must be an object")),
        };
        let responses = self
            .responses
            .map(|responses| {
                responses
                    .into_iter()
                    .map(|response| {
                        let user_id = response.user_id.as_deref().map(|id| parse_id("user_id", id)).transpose()?.unwrap_or(caller);
                        let status = ResponseStatus::parse(&response.status).map_err(|error| ApiError::invalid(error.message()))?;
                        Ok(NewResponse { user_id, values: response.values, status })
                    })
                    .collect::<ApiResult<Vec<_>>>()
            })
            .transpose()?;
        let suggestions = self
            .suggestions
            .map(|suggestions| suggestions.into_iter().map(|suggestion| suggestion.into_new(question_by_name)).collect::<ApiResult<Vec<_>>>())
            .transpose()?;
        Ok(RecordWrite { id, external_id, fields: self.fields, metadata, vectors: self.vectors, responses, suggestions })
    }
}
