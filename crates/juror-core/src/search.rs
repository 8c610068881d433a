//! Record search: text queries, filters and sorts, evaluated over records and their answers.
//!
//! Juror needs no search engine: the store streams a dataset's candidate records and these pure
//! functions decide which match, how they score and in what order they come back.

use std::cmp::Ordering;

use serde_json::Value;

use crate::ids::{QuestionId, UserId};
use crate::record::Record;
use crate::response::{Response, Suggestion};

/// A plain-words query: every token must occur in one of the fields (or in `field`).
#[derive(Debug, Clone, PartialEq)]
pub struct TextQuery {
    pub q: String,
    pub field: Option<String>,
}

/// Which end of the similarity order a vector query wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimilarityOrder {
    MostSimilar,
    LeastSimilar,
}

/// What a filter or a sort looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// A record column: id, external_id, inserted_at, updated_at or status.
    Record(RecordProperty),
    /// A metadata property by name.
    Metadata(String),
    /// The suggestion for a question; property value, score, agent or type.
    Suggestion { question: QuestionId, property: SuggestionProperty },
    /// Responses: the value given to `question`, or the response status when `question` is `None`.
    Response { question: Option<String> },
}

/// A record column that can be filtered or sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordProperty {
    Id,
    ExternalId,
    InsertedAt,
    UpdatedAt,
    Status,
}

/// A suggestion attribute that can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionProperty {
    Value,
    Score,
    Agent,
    Type,
}

/// One filter condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Any of the record's values for the scope is one of these (compared as strings).
    Terms(Vec<String>),
    /// The value lies within the inclusive bounds.
    Range { ge: Option<Value>, le: Option<Value> },
}

/// A filter: a scope and a condition on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub scope: Scope,
    pub condition: Condition,
}

/// A sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub scope: Scope,
    pub descending: bool,
}

/// A record with the answers that filters look at.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub record: &'a Record,
    pub responses: &'a [Response],
    pub suggestions: &'a [Suggestion],
}

/// Scores `record` against a text query: `None` when a token is missing, else the occurrence count.
pub fn text_score(query: &TextQuery, record: &Record) -> Option<f64> {
    let tokens = tokenize(&query.q);
    if tokens.is_empty() {
        return Some(1.0);
    }
    let texts: Vec<String> = record
        .fields
        .iter()
        .filter(|(name, _)| query.field.as_deref().is_none_or(|field| field == name.as_str()))
        .map(|(_, value)| searchable_text(value).to_lowercase())
        .collect();
    let words: Vec<&str> = texts.iter().flat_map(|text| split_words(text)).collect();
    let mut score = 0.0;
    for token in &tokens {
        let hits = words.iter().filter(|word| *word == token).count();
        if hits == 0 {
            return None;
        }
        score += 1.0 + (hits as f64).ln();
    }
    Some(score)
}

/// Whether the candidate passes the filter. `me` restricts response scopes to one user's answers.
pub fn matches(filter: &Filter, candidate: Candidate<'_>, me: Option<UserId>) -> bool {
    let responses = answers_of(candidate, me);
    if let (Scope::Response { question: None }, Condition::Terms(terms)) = (&filter.scope, &filter.condition) {
        let statuses: Vec<&str> = responses.iter().map(|response| response.status.as_str()).collect();
        return terms.iter().any(|term| match term.as_str() {
            "pending" => responses.is_empty(),
            status => statuses.contains(&status),
        });
    }
    let values = scope_values(&filter.scope, candidate, &responses);
    match &filter.condition {
        Condition::Terms(terms) => values.iter().any(|value| terms.iter().any(|term| term == &term_string(value))),
        Condition::Range { ge, le } => values.iter().any(|value| within(value, ge.as_ref(), le.as_ref())),
    }
}

/// Orders two candidates by the sort keys, then by insertion time. `me` restricts response scopes
/// to one user's answers, as in [`matches`]: sorting by others' answers would reveal them.
pub fn compare(sorts: &[Sort], left: Candidate<'_>, right: Candidate<'_>, me: Option<UserId>) -> Ordering {
    for sort in sorts {
        let left_value = scope_values(&sort.scope, left, &answers_of(left, me)).into_iter().next();
        let right_value = scope_values(&sort.scope, right, &answers_of(right, me)).into_iter().next();
        let ordering = match (left_value, right_value) {
            (Some(a), Some(b)) => compare_values(&a, &b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let ordering = if sort.descending { ordering.reverse() } else { ordering };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    left.record.inserted_at.cmp(&right.record.inserted_at).then(left.record.id.cmp(&right.record.id))
}

/// The candidate's responses that count: `me`'s alone, or everyone's.
fn answers_of(candidate: Candidate<'_>, me: Option<UserId>) -> Vec<&Response> {
    candidate.responses.iter().filter(|response| me.is_none_or(|user| response.user_id == user)).collect()
}

fn scope_values(scope: &Scope, candidate: Candidate<'_>, responses: &[&Response]) -> Vec<Value> {
    let record = candidate.record;
    match scope {
        Scope::Record(property) => vec![match property {
            RecordProperty::Id => Value::String(record.id.to_string()),
            RecordProperty::ExternalId => record.external_id.clone().map_or(Value::Null, Value::String),
            RecordProperty::InsertedAt => Value::from(record.inserted_at.micros()),
            RecordProperty::UpdatedAt => Value::from(record.updated_at.micros()),
            RecordProperty::Status => Value::String(record.status.as_str().to_owned()),
        }],
        Scope::Metadata(name) => match record.metadata.as_ref().and_then(|metadata| metadata.get(name)) {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(value) => vec![value.clone()],
        },
        Scope::Suggestion { question, property } => candidate
            .suggestions
            .iter()
            .filter(|suggestion| suggestion.question_id == *question)
            .flat_map(|suggestion| match property {
                SuggestionProperty::Value => flatten(&suggestion.value),
                SuggestionProperty::Score => suggestion.score.as_ref().map(flatten).unwrap_or_default(),
                SuggestionProperty::Agent => suggestion.agent.clone().map(Value::String).into_iter().collect(),
                SuggestionProperty::Type => suggestion.kind.map(|kind| Value::String(kind.as_str().into())).into_iter().collect(),
            })
            .collect(),
        Scope::Response { question: Some(name) } => responses
            .iter()
            .filter_map(|response| response.values.as_ref()?.get(name)?.get("value"))
            .flat_map(flatten)
            .collect(),
        Scope::Response { question: None } => {
            responses.iter().map(|response| Value::String(response.status.as_str().to_owned())).collect()
        }
    }
}

fn flatten(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| item.get("value").cloned().unwrap_or_else(|| item.clone()))
            .collect(),
        other => vec![other.clone()],
    }
}

fn term_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn within(value: &Value, ge: Option<&Value>, le: Option<&Value>) -> bool {
    let above = ge.is_none_or(|bound| compare_values(value, bound) != Ordering::Less);
    let below = le.is_none_or(|bound| compare_values(value, bound) != Ordering::Greater);
    above && below
}

fn compare_values(left: &Value, right: &Value) -> Ordering {
    match (left.as_f64(), right.as_f64()) {
        (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        _ => term_string(left).cmp(&term_string(right)),
    }
}

fn searchable_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(messages) => messages
            .iter()
            .filter_map(|message| message.get("content").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn tokenize(text: &str) -> Vec<String> {
    split_words(&text.to_lowercase()).map(str::to_owned).collect()
}

fn split_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::{DatasetId, RecordId, ResponseId};
    use crate::record::RecordStatus;
    use crate::response::ResponseStatus;
    use crate::time::Timestamp;

    fn record(fields: Value, metadata: Value) -> Record {
        Record {
            id: RecordId::new(),
            dataset_id: DatasetId::new(),
            external_id: Some("r1".into()),
            fields: fields.as_object().unwrap().clone(),
            metadata: metadata.as_object().cloned(),
            status: RecordStatus::Pending,
            inserted_at: Timestamp::from_micros(1),
            updated_at: Timestamp::from_micros(1),
        }
    }

    fn response(user: UserId, status: ResponseStatus, values: Value) -> Response {
        Response {
            id: ResponseId::new(),
            record_id: RecordId::new(),
            user_id: user,
            values: values.as_object().cloned(),
            status,
            presentation: None,
            inserted_at: Timestamp::from_micros(1),
            updated_at: Timestamp::from_micros(1),
        }
    }

    #[test]
    fn text_query_needs_every_token_case_insensitively() {
        let record = record(json!({"prompt": "Write a Haiku", "answer": "autumn leaves"}), json!(null));
        let query = |q: &str, field: Option<&str>| TextQuery { q: q.into(), field: field.map(str::to_owned) };
        assert!(text_score(&query("haiku autumn", None), &record).is_some());
        assert!(text_score(&query("haiku winter", None), &record).is_none());
        assert!(text_score(&query("autumn", Some("prompt")), &record).is_none());
    }

    #[test]
    fn metadata_terms_and_ranges() {
        let record = record(json!({"p": "x"}), json!({"source": "web", "length": 120}));
        let candidate = Candidate { record: &record, responses: &[], suggestions: &[] };
        let terms = Filter { scope: Scope::Metadata("source".into()), condition: Condition::Terms(vec!["web".into(), "book".into()]) };
        assert!(matches(&terms, candidate, None));
        let range = |ge: i64, le: i64| Filter { scope: Scope::Metadata("length".into()), condition: Condition::Range { ge: Some(json!(ge)), le: Some(json!(le)) } };
        assert!(matches(&range(100, 120), candidate, None));
        assert!(!matches(&range(121, 200), candidate, None));
    }

    #[test]
    fn response_status_pending_means_no_response_and_me_narrows_it() {
        let record = record(json!({"p": "x"}), json!(null));
        let (alice, bob) = (UserId::new(), UserId::new());
        let responses = vec![response(alice, ResponseStatus::Submitted, json!({"q": {"value": "yes"}}))];
        let candidate = Candidate { record: &record, responses: &responses, suggestions: &[] };
        let status = |term: &str| Filter { scope: Scope::Response { question: None }, condition: Condition::Terms(vec![term.into()]) };
        assert!(matches(&status("submitted"), candidate, None));
        assert!(!matches(&status("pending"), candidate, None));
        assert!(matches(&status("pending"), candidate, Some(bob)));
        let value = Filter { scope: Scope::Response { question: Some("q".into()) }, condition: Condition::Terms(vec!["yes".into()]) };
        assert!(matches(&value, candidate, None));
    }

    #[test]
    fn sorting_by_answers_reads_only_mine_when_me_is_given() {
        let (first, second) = (record(json!({"p": "x"}), json!(null)), record(json!({"p": "y"}), json!(null)));
        let (me, other) = (UserId::new(), UserId::new());
        // Only the other labeler answered: their ratings would order the records.
        let first_answers = vec![response(other, ResponseStatus::Submitted, json!({"q": {"value": 5}}))];
        let second_answers = vec![response(other, ResponseStatus::Submitted, json!({"q": {"value": 1}}))];
        let left = Candidate { record: &first, responses: &first_answers, suggestions: &[] };
        let right = Candidate { record: &second, responses: &second_answers, suggestions: &[] };
        let by_rating = [Sort { scope: Scope::Response { question: Some("q".into()) }, descending: false }];
        assert_eq!(compare(&by_rating, left, right, None), Ordering::Greater);
        // As seen by `me`, neither record has an answer: the insertion order decides, not the others' values.
        let by_insertion = compare(&[], left, right, None);
        assert_eq!(compare(&by_rating, left, right, Some(me)), by_insertion);
        assert_eq!(compare(&by_rating, right, left, Some(me)), by_insertion.reverse());
    }
}
