//! Responses (a labeler's answers to a record) and suggestions (pre-filled answers from a model).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::{ensure, ValidationError};
use crate::ids::{QuestionId, RecordId, ResponseId, SuggestionId, UserId};
use crate::presentation::Presentation;
use crate::question::Question;
use crate::time::Timestamp;
use crate::value::{check_value, ValueContext};

/// Where a response stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseStatus {
    Draft,
    Submitted,
    Discarded,
}

impl ResponseStatus {
    /// Reads `draft`, `submitted` or `discarded`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match text {
            "draft" => Ok(Self::Draft),
            "submitted" => Ok(Self::Submitted),
            "discarded" => Ok(Self::Discarded),
            other => Err(ValidationError::new(format!("unknown response status `{other}`"))),
        }
    }

    /// The status name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Discarded => "discarded",
        }
    }
}

/// A labeler's answers to one record: `values` maps question names to `{"value": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub id: ResponseId,
    pub record_id: RecordId,
    pub user_id: UserId,
    pub values: Option<Map<String, Value>>,
    pub status: ResponseStatus,
    /// How the web UI showed the record when this answer was given; `None` for API answers.
    pub presentation: Option<Presentation>,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Who made a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionType {
    Model,
    Human,
}

impl SuggestionType {
    /// Reads `model` or `human`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match text {
            "model" => Ok(Self::Model),
            "human" => Ok(Self::Human),
            other => Err(ValidationError::new(format!("suggestion type must be `model` or `human`, got `{other}`"))),
        }
    }

    /// The type name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Human => "human",
        }
    }
}

/// A suggested answer to one question of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub id: SuggestionId,
    pub record_id: RecordId,
    pub question_id: QuestionId,
    pub kind: Option<SuggestionType>,
    pub value: Value,
    pub agent: Option<String>,
    /// A number in [0, 1], or a list of them for list values.
    pub score: Option<Value>,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A suggestion as given by a client, before it has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSuggestion {
    pub question_id: QuestionId,
    pub kind: Option<SuggestionType>,
    pub value: Value,
    pub agent: Option<String>,
    pub score: Option<Value>,
}

/// Checks a response's values against the dataset's questions for the given status.
///
/// Submitted responses need non-empty values covering every required question; drafts need the
/// values key (possibly empty); discarded responses may omit it.
pub fn check_response_values(
    questions: &[Question],
    values: Option<&Map<String, Value>>,
    status: ResponseStatus,
    record_fields: Option<&Map<String, Value>>,
) -> Result<(), ValidationError> {
    let values = match (status, values) {
        (ResponseStatus::Discarded, None) => return Ok(()),
        (_, None) => {
            return Err(ValidationError::new(format!("missing response values for {} response", status.as_str())));
        }
        (_, Some(values)) => values,
    };
    let size = encoded_len(values);
    ensure(size <= MAX_RESPONSE_VALUES_BYTES, || format!("response values may take at most {MAX_RESPONSE_VALUES_BYTES} bytes as JSON, got {size}"))?;
    let by_name: HashMap<&str, &Question> = questions.iter().map(|question| (question.name.as_str(), question)).collect();
    if status == ResponseStatus::Submitted {
        ensure(!values.is_empty(), || "missing response values for submitted response".into())?;
        for question in questions.iter().filter(|question| question.required) {
            ensure(values.contains_key(&question.name), || format!("missing response value for required question with name={}", question.name))?;
        }
    }
    let context = ValueContext { submitted: status == ResponseStatus::Submitted, record_fields };
    for (name, entry) in values {
        let question = by_name
            .get(name.as_str())
            .ok_or_else(|| ValidationError::new(format!("found responses for non configured questions: ['{name}']")))?;
        let value = entry
            .as_object()
            .and_then(|entry| entry.get("value"))
            .ok_or_else(|| ValidationError::new(format!("response value for question `{name}` must be an object with a `value`")))?;
        check_value(&question.settings, value, context).map_err(|error| error.prefixed(format!("question `{name}`: ")))?;
    }
    Ok(())
}

/// Most bytes one response's values may take as JSON: room for every question of a large form
/// (a text answer is at most 20,000 characters), none for padding in keys nobody reads.
pub const MAX_RESPONSE_VALUES_BYTES: usize = 256 * 1024;

/// The length of `values` written as JSON, counted without writing it anywhere.
fn encoded_len(values: &Map<String, Value>) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Map` of `Value`s into a counter cannot fail.
    let _ = serde_json::to_writer(&mut counter, values);
    counter.0
}

const AGENT_MAX_CHARS: usize = 200;

/// Checks a suggestion against its question: value, score and agent.
pub fn check_suggestion(question: &Question, suggestion: &NewSuggestion, record_fields: Option<&Map<String, Value>>) -> Result<(), ValidationError> {
    let context = ValueContext { submitted: false, record_fields };
    check_value(&question.settings, &suggestion.value, context)
        .map_err(|error| error.prefixed(format!("suggestion for question `{}`: ", question.name)))?;
    if let Some(score) = &suggestion.score {
        check_score(score, &suggestion.value)?;
    }
    if let Some(agent) = &suggestion.agent {
        let length = agent.chars().count();
        ensure((1..=AGENT_MAX_CHARS).contains(&length), || format!("agent must have between 1 and {AGENT_MAX_CHARS} characters"))?;
        ensure(agent.chars().any(char::is_alphanumeric), || "agent must contain at least one letter or digit".into())?;
    }
    Ok(())
}

fn check_score(score: &Value, value: &Value) -> Result<(), ValidationError> {
    let in_unit_range = |score: &Value| score.as_f64().is_some_and(|score| (0.0..=1.0).contains(&score));
    match score {
        Value::Array(scores) => {
            ensure(!scores.is_empty(), || "suggestion score list must not be empty".into())?;
            ensure(scores.iter().all(in_unit_range), || "suggestion scores must be numbers between 0 and 1".into())?;
            let value_length = value.as_array().map(Vec::len);
            ensure(value_length == Some(scores.len()), || "a list score needs a list value of the same length".into())
        }
        Value::Null => Ok(()),
        single => {
            ensure(in_unit_range(single), || "suggestion score must be a number between 0 and 1".into())?;
            ensure(!value.is_array(), || "a list value needs a list of scores, one per item".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::DatasetId;
    use crate::question::QuestionSettings;

    fn question(name: &str, required: bool, settings: Value) -> Question {
        Question {
            id: QuestionId::new(),
            name: name.into(),
            title: name.into(),
            description: None,
            required,
            settings: QuestionSettings::from_json(&settings).unwrap(),
            dataset_id: DatasetId::new(),
            inserted_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    fn questions() -> Vec<Question> {
        vec![
            question("rank", true, json!({"type": "ranking", "options": [{"value": "a"}, {"value": "b"}]})),
            question("note", false, json!({"type": "text"})),
        ]
    }

    fn check(values: Value, status: ResponseStatus) -> Result<(), ValidationError> {
        check_response_values(&questions(), values.as_object(), status, None)
    }

    #[test]
    fn text_answers_and_values_have_a_size_cap() {
        let rank = json!([{"value": "a", "rank": 1}, {"value": "b", "rank": 2}]);
        let note = |chars: usize| json!({"rank": {"value": rank}, "note": {"value": "é".repeat(chars)}});
        assert!(check(note(crate::value::MAX_TEXT_ANSWER_CHARS), ResponseStatus::Submitted).is_ok());
        let error = check(note(crate::value::MAX_TEXT_ANSWER_CHARS + 1), ResponseStatus::Submitted).unwrap_err();
        assert!(error.message().contains("at most 20000 characters"), "{}", error.message());
        // Keys nobody reads cannot carry megabytes either.
        let padded = json!({"rank": {"value": rank, "padding": "x".repeat(MAX_RESPONSE_VALUES_BYTES)}});
        let error = check(padded, ResponseStatus::Draft).unwrap_err();
        assert!(error.message().contains("at most 262144 bytes"), "{}", error.message());
    }

    #[test]
    fn submitted_responses_answer_required_questions() {
        assert!(check(json!({"rank": {"value": [{"value": "a", "rank": 1}, {"value": "b", "rank": 2}]}}), ResponseStatus::Submitted).is_ok());
        assert!(check(json!({"note": {"value": "hm"}}), ResponseStatus::Submitted).is_err());
        assert!(check(json!({}), ResponseStatus::Submitted).is_err());
    }

    #[test]
    fn drafts_need_values_and_discards_do_not() {
        assert!(check(json!({}), ResponseStatus::Draft).is_ok());
        assert!(check_response_values(&questions(), None, ResponseStatus::Draft, None).is_err());
        assert!(check_response_values(&questions(), None, ResponseStatus::Discarded, None).is_ok());
    }

    #[test]
    fn unknown_questions_and_bare_values_are_rejected() {
        let unknown = check(json!({"other": {"value": "x"}}), ResponseStatus::Draft).unwrap_err();
        assert!(unknown.message().contains("non configured questions"));
        assert!(check(json!({"note": "x"}), ResponseStatus::Draft).is_err());
    }

    #[test]
    fn suggestion_scores_match_the_value_shape() {
        let text = question("note", false, json!({"type": "text"}));
        let suggestion = |score: Value| NewSuggestion { question_id: text.id, kind: None, value: json!("x"), agent: Some("gpt-4".into()), score: Some(score) };
        assert!(check_suggestion(&text, &suggestion(json!(0.5)), None).is_ok());
        assert!(check_suggestion(&text, &suggestion(json!(1.5)), None).is_err());
        assert!(check_suggestion(&text, &suggestion(json!([0.5])), None).is_err());
    }
}
