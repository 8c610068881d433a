//! Answer values: what a response or a suggestion says for one question, checked against it.
//!
//! A value keeps its canonical JSON form (`"a"`, `3`, `[{"value": "a", "rank": 1}]`, ...), so the
//! store and the exports read back exactly what a labeler gave; `Ranking` is the typed view of a
//! ranking answer for code that reasons about orders.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::{ensure, ValidationError};
use crate::question::QuestionSettings;

/// What a value is checked for.
#[derive(Debug, Clone, Copy)]
pub struct ValueContext<'a> {
    /// Submitted answers must be complete (e.g. a ranking must rank every option).
    pub submitted: bool,
    /// The record's field values, for span offsets.
    pub record_fields: Option<&'a Map<String, Value>>,
}

/// One ranked option; `rank` 1 is best and equal ranks are ties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedOption {
    pub value: String,
    pub rank: Option<u32>,
}

/// A labeler's order over a ranking question's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking {
    entries: Vec<RankedOption>,
}

impl Ranking {
    /// Reads a ranking value, `[{"value": str, "rank": int|null}]`, with unique values.
    pub fn parse(value: &Value) -> Result<Self, ValidationError> {
        let items = value.as_array().ok_or_else(|| ValidationError::new("ranking value must be a list"))?;
        let mut entries = Vec::with_capacity(items.len());
        let mut seen = HashSet::new();
        for item in items {
            let option = item
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| ValidationError::new("each ranking item needs a string `value`"))?;
            ensure(seen.insert(option), || format!("ranking values must be unique, `{option}` appears twice"))?;
            let rank = match item.get("rank") {
                None | Some(Value::Null) => None,
                Some(rank) => Some(
                    rank.as_u64()
                        .and_then(|rank| u32::try_from(rank).ok())
                        .ok_or_else(|| ValidationError::new("ranking ranks must be positive integers"))?,
                ),
            };
            entries.push(RankedOption { value: option.to_owned(), rank });
        }
        Ok(Self { entries })
    }

    /// The ranked options in the order given.
    pub fn entries(&self) -> &[RankedOption] {
        &self.entries
    }
}

/// Longest answer to a text question, in characters.
pub const MAX_TEXT_ANSWER_CHARS: usize = 20_000;

/// Checks `value` as an answer to a question with `settings`.
pub fn check_value(settings: &QuestionSettings, value: &Value, context: ValueContext<'_>) -> Result<(), ValidationError> {
    match settings {
        QuestionSettings::Text { .. } => {
            let text = value.as_str().ok_or_else(|| ValidationError::new(format!("text question expects a text value, found {value}")))?;
            let chars = text.chars().count();
            ensure(chars <= MAX_TEXT_ANSWER_CHARS, || format!("a text answer may have at most {MAX_TEXT_ANSWER_CHARS} characters, got {chars}"))
        }
        QuestionSettings::Rating { values } => {
            let rating = value
                .as_i64()
                .filter(|_| value.is_i64() || value.is_u64())
                .ok_or_else(|| ValidationError::new(format!("rating question expects an integer value, found {value}")))?;
            ensure(values.contains(&rating), || format!("{rating} is not a valid rating for rating question. valid ratings are {values:?}"))
        }
        QuestionSettings::LabelSelection { .. } => {
            let label = value
                .as_str()
                .ok_or_else(|| ValidationError::new(format!("label selection question expects a string value, found {value}")))?;
            check_options(settings, [label])
        }
        QuestionSettings::MultiLabelSelection { .. } => {
            let items = value.as_array().ok_or_else(|| {
                ValidationError::new(format!("multi label selection question expects a list of values, found {value}"))
            })?;
            ensure(!items.is_empty(), || "multi label selection questions expects a list of values, found empty list".into())?;
            let labels: Vec<&str> = items
                .iter()
                .map(|item| item.as_str().ok_or_else(|| ValidationError::new("multi label selection values must be strings")))
                .collect::<Result<_, _>>()?;
            let unique: HashSet<&str> = labels.iter().copied().collect();
            ensure(unique.len() == labels.len(), || "multi label selection question expects a list of unique values, but duplicates were found".into())?;
            check_options(settings, labels)
        }
        QuestionSettings::Ranking { options } => {
            let ranking = Ranking::parse(value)?;
            check_options(settings, ranking.entries().iter().map(|entry| entry.value.as_str()))?;
            if context.submitted {
                ensure(ranking.entries().len() == options.len(), || {
                    format!("ranking question expects a list containing all the values, got {} of {}", ranking.entries().len(), options.len())
                })?;
                let invalid: Vec<Option<u32>> = ranking
                    .entries()
                    .iter()
                    .map(|entry| entry.rank)
                    .filter(|rank| !rank.is_some_and(|rank| rank >= 1 && rank as usize <= options.len()))
                    .collect();
                ensure(invalid.is_empty(), || {
                    let shown: Vec<String> =
                        invalid.iter().map(|rank| rank.map_or("None".to_owned(), |rank| rank.to_string())).collect();
                    format!("[{}] are not valid ranks for ranking question. valid ranks are 1 to {}", shown.join(", "), options.len())
                })?;
            }
            Ok(())
        }
        QuestionSettings::Span { field, allow_overlapping, .. } => check_spans(settings, field, *allow_overlapping, value, context),
    }
}

fn check_options<'a>(settings: &QuestionSettings, given: impl IntoIterator<Item = &'a str>) -> Result<(), ValidationError> {
    let allowed = settings.option_values();
    let unknown: Vec<&str> = given.into_iter().filter(|value| !allowed.contains(value)).collect();
    ensure(unknown.is_empty(), || {
        format!("{} {unknown:?} are not valid options for this question. valid options are {allowed:?}", settings.type_name())
    })
}

const MAX_SPANS: usize = 10_000;

fn check_spans(
    settings: &QuestionSettings,
    field: &str,
    allow_overlapping: bool,
    value: &Value,
    context: ValueContext<'_>,
) -> Result<(), ValidationError> {
    let items = value.as_array().ok_or_else(|| ValidationError::new("span question expects a list of spans"))?;
    ensure(items.len() <= MAX_SPANS, || format!("span question accepts at most {MAX_SPANS} spans"))?;
    let text_length = context
        .record_fields
        .and_then(|fields| fields.get(field))
        .and_then(Value::as_str)
        .map(|text| text.chars().count());
    if context.record_fields.is_some() {
        ensure(text_length.is_some(), || format!("span question requires record to have field `{field}`"))?;
    }
    let mut spans = Vec::with_capacity(items.len());
    for item in items {
        let label = item.get("label").and_then(Value::as_str).ok_or_else(|| ValidationError::new("each span needs a string `label`"))?;
        let start = item.get("start").and_then(Value::as_u64).ok_or_else(|| ValidationError::new("span start must be greater or equal than 0"))?;
        let end = item.get("end").and_then(Value::as_u64).filter(|end| *end >= 1).ok_or_else(|| ValidationError::new("span end must be greater or equal than 1"))?;
        ensure(end > start, || "span question response value 'end' must have a value greater than 'start'".into())?;
        if let Some(length) = text_length {
            ensure((start as usize) < length.max(1), || format!("span question response value 'start' must have a value lower than {length}"))?;
            ensure(end as usize <= length, || format!("span question response value 'end' must have a value lower or equal than {length}"))?;
        }
        check_options(settings, [label])?;
        spans.push((start, end));
    }
    if !allow_overlapping {
        spans.sort_unstable();
        let overlaps = spans.windows(2).any(|pair| pair[1].0 < pair[0].1);
        ensure(!overlaps, || "overlapping values found between spans".into())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ranking_settings() -> QuestionSettings {
        QuestionSettings::from_json(&json!({"type": "ranking", "options": [{"value": "a"}, {"value": "b"}, {"value": "c"}]})).unwrap()
    }

    fn check(settings: &QuestionSettings, value: Value, submitted: bool) -> Result<(), String> {
        check_value(settings, &value, ValueContext { submitted, record_fields: None }).map_err(|error| error.message().to_owned())
    }

    #[test]
    fn submitted_rankings_rank_every_option_within_bounds_and_may_tie() {
        let settings = ranking_settings();
        assert_eq!(check(&settings, json!([{"value": "a", "rank": 1}, {"value": "b", "rank": 1}, {"value": "c", "rank": 3}]), true), Ok(()));
        assert!(check(&settings, json!([{"value": "a", "rank": 1}, {"value": "b", "rank": 2}]), true).is_err());
        assert!(check(&settings, json!([{"value": "a", "rank": 1}, {"value": "b", "rank": 2}, {"value": "c", "rank": 4}]), true).is_err());
        let missing_rank = check(&settings, json!([{"value": "a"}, {"value": "b"}, {"value": "c"}]), true).unwrap_err();
        assert!(missing_rank.starts_with("[None, None, None] are not valid ranks"), "{missing_rank}");
    }

    #[test]
    fn draft_rankings_may_be_partial_but_not_foreign() {
        let settings = ranking_settings();
        assert_eq!(check(&settings, json!([{"value": "a"}]), false), Ok(()));
        assert!(check(&settings, json!([{"value": "z", "rank": 1}]), false).is_err());
        assert!(check(&settings, json!([{"value": "a"}, {"value": "a"}]), false).is_err());
    }

    #[test]
    fn ratings_are_strict_integers_among_the_options() {
        let settings = QuestionSettings::Rating { values: vec![0, 1, 2] };
        assert_eq!(check(&settings, json!(2), true), Ok(()));
        assert!(check(&settings, json!("2"), true).is_err());
        assert!(check(&settings, json!(2.0), true).is_err());
        assert!(check(&settings, json!(3), true).is_err());
    }

    #[test]
    fn multi_labels_are_non_empty_unique_options() {
        let settings = QuestionSettings::from_json(&json!({"type": "multi_label_selection", "options": [{"value": "x"}, {"value": "y"}]})).unwrap();
        assert_eq!(check(&settings, json!(["x", "y"]), true), Ok(()));
        assert!(check(&settings, json!([]), true).is_err());
        assert!(check(&settings, json!(["x", "x"]), true).is_err());
        assert!(check(&settings, json!(["w"]), true).is_err());
    }

    #[test]
    fn spans_fit_the_text_and_do_not_overlap() {
        let settings = QuestionSettings::from_json(&json!({"type": "span", "field": "text", "options": [{"value": "name"}]})).unwrap();
        let fields = json!({"text": "Ada Lovelace"});
        let context = ValueContext { submitted: true, record_fields: fields.as_object() };
        assert!(check_value(&settings, &json!([{"label": "name", "start": 0, "end": 3}]), context).is_ok());
        assert!(check_value(&settings, &json!([{"label": "name", "start": 0, "end": 30}]), context).is_err());
        assert!(check_value(&settings, &json!([{"label": "name", "start": 0, "end": 5}, {"label": "name", "start": 4, "end": 8}]), context).is_err());
        assert!(check_value(&settings, &json!([{"label": "date", "start": 0, "end": 3}]), context).is_err());
    }
}
