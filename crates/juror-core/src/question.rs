//! Questions: what a labeler answers (rank, rate, label, write, mark spans), and their settings.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::dataset::validate_title;
use crate::error::{check_length, ensure, ValidationError};
use crate::ids::{DatasetId, QuestionId};
use crate::time::Timestamp;

/// One choice of a label, multi-label, ranking or span question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionOption {
    pub value: String,
    pub text: String,
    pub description: Option<String>,
}

/// The order in which multi-label options are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionsOrder {
    Natural,
    Suggestion,
}

/// The kind of a question and its choices.
#[derive(Debug, Clone, PartialEq)]
pub enum QuestionSettings {
    /// Free text.
    Text { use_markdown: bool },
    /// One integer from a fixed set of 2 to 11 values between 0 and 10.
    Rating { values: Vec<i64> },
    /// One label.
    LabelSelection { options: Vec<QuestionOption>, visible_options: Option<u32> },
    /// One or more labels.
    MultiLabelSelection { options: Vec<QuestionOption>, visible_options: Option<u32>, options_order: OptionsOrder },
    /// An order over 2 to 50 options, ties allowed.
    Ranking { options: Vec<QuestionOption> },
    /// Labelled character spans of one text field.
    Span { field: String, options: Vec<QuestionOption>, visible_options: Option<u32>, allow_overlapping: bool },
}

/// A question of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: QuestionId,
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub required: bool,
    pub settings: QuestionSettings,
    pub dataset_id: DatasetId,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

impl QuestionSettings {
    /// Reads settings as clients send them on create; unknown keys are dropped.
    pub fn from_json(value: &Value) -> Result<Self, ValidationError> {
        let object = value.as_object().ok_or_else(|| ValidationError::new("question settings must be an object"))?;
        let kind = object.get("type").and_then(Value::as_str).ok_or_else(|| {
            ValidationError::new(
                "question settings need a `type`: one of text, rating, label_selection, multi_label_selection, ranking or span",
            )
        })?;
        match kind {
            "text" => Ok(Self::Text { use_markdown: optional_bool(object, "use_markdown")?.unwrap_or(false) }),
            "rating" => parse_rating(object),
            "label_selection" => {
                let options = parse_options(object, 2, 500)?;
                let visible_options = parse_visible_options(object, options.len())?;
                Ok(Self::LabelSelection { options, visible_options })
            }
            "multi_label_selection" => {
                let options = parse_options(object, 2, 500)?;
                let visible_options = parse_visible_options(object, options.len())?;
                let options_order = parse_options_order(object)?.unwrap_or(OptionsOrder::Natural);
                Ok(Self::MultiLabelSelection { options, visible_options, options_order })
            }
            "ranking" => Ok(Self::Ranking { options: parse_options(object, 2, 50)? }),
            "span" => {
                let field = object
                    .get("field")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ValidationError::new("span question settings need a `field`"))?
                    .to_owned();
                let options = parse_options(object, 1, 500)?;
                let visible_options = parse_visible_options(object, options.len())?;
                let allow_overlapping = optional_bool(object, "allow_overlapping")?.unwrap_or(false);
                Ok(Self::Span { field, options, visible_options, allow_overlapping })
            }
            other => Err(ValidationError::new(format!("unknown question type `{other}`"))),
        }
    }

    /// Applies an update: the type must stay, options may be re-texted but keep their values.
    pub fn updated(&self, value: &Value) -> Result<Self, ValidationError> {
        let object = value.as_object().ok_or_else(|| ValidationError::new("question settings must be an object"))?;
        if let Some(kind) = object.get("type").and_then(Value::as_str) {
            ensure(kind == self.type_name(), || {
                format!("question type cannot be changed. expected '{}' but got '{kind}'", self.type_name())
            })?;
        }
        let mut updated = self.clone();
        match &mut updated {
            Self::Text { use_markdown } => {
                *use_markdown = optional_bool(object, "use_markdown")?.unwrap_or(*use_markdown);
            }
            Self::Rating { .. } => {}
            Self::Ranking { options } => retext_options(options, object)?,
            Self::LabelSelection { options, visible_options } => {
                retext_options(options, object)?;
                update_visible_options(visible_options, object, options.len())?;
            }
            Self::MultiLabelSelection { options, visible_options, options_order } => {
                retext_options(options, object)?;
                update_visible_options(visible_options, object, options.len())?;
                if let Some(order) = parse_options_order(object)? {
                    *options_order = order;
                }
            }
            Self::Span { options, visible_options, allow_overlapping, .. } => {
                retext_options(options, object)?;
                update_visible_options(visible_options, object, options.len())?;
                if let Some(allow) = optional_bool(object, "allow_overlapping")? {
                    ensure(allow || !*allow_overlapping, || {
                        "allow_overlapping can't be changed from true to false".into()
                    })?;
                    *allow_overlapping = allow;
                }
            }
        }
        Ok(updated)
    }

    /// The type name as sent: text, rating, label_selection, multi_label_selection, ranking or span.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Rating { .. } => "rating",
            Self::LabelSelection { .. } => "label_selection",
            Self::MultiLabelSelection { .. } => "multi_label_selection",
            Self::Ranking { .. } => "ranking",
            Self::Span { .. } => "span",
        }
    }

    /// Whether checking an answer needs the record's texts (span offsets are checked against the
    /// field they mark).
    pub fn reads_record_text(&self) -> bool {
        matches!(self, Self::Span { .. })
    }

    /// The canonical JSON form, with every setting present.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Text { use_markdown } => json!({"type": "text", "use_markdown": use_markdown}),
            Self::Rating { values } => {
                let options: Vec<Value> = values.iter().map(|value| json!({"value": value})).collect();
                json!({"type": "rating", "options": options})
            }
            Self::LabelSelection { options, visible_options } => json!({
                "type": "label_selection", "options": options_json(options), "visible_options": visible_options,
            }),
            Self::MultiLabelSelection { options, visible_options, options_order } => json!({
                "type": "multi_label_selection", "options": options_json(options),
                "visible_options": visible_options,
                "options_order": match options_order { OptionsOrder::Natural => "natural", OptionsOrder::Suggestion => "suggestion" },
            }),
            Self::Ranking { options } => json!({"type": "ranking", "options": options_json(options)}),
            Self::Span { field, options, visible_options, allow_overlapping } => json!({
                "type": "span", "field": field, "options": options_json(options),
                "visible_options": visible_options, "allow_overlapping": allow_overlapping,
                "allow_character_annotation": true,
            }),
        }
    }

    /// The option values of choice questions, in their configured order.
    pub fn option_values(&self) -> Vec<&str> {
        match self {
            Self::LabelSelection { options, .. }
            | Self::MultiLabelSelection { options, .. }
            | Self::Ranking { options }
            | Self::Span { options, .. } => options.iter().map(|option| option.value.as_str()).collect(),
            Self::Text { .. } | Self::Rating { .. } => Vec::new(),
        }
    }
}

/// Checks a question's description: 1 to 1,000 characters when present.
pub fn validate_description(description: &str) -> Result<(), ValidationError> {
    check_length("description", description, 1, 1000)
}

fn options_json(options: &[QuestionOption]) -> Vec<Value> {
    options
        .iter()
        .map(|option| json!({"value": option.value, "text": option.text, "description": option.description}))
        .collect()
}

fn optional_bool(object: &Map<String, Value>, key: &str) -> Result<Option<bool>, ValidationError> {
    match object.get(key) {
        None => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(ValidationError::new(format!("`{key}` must be a boolean"))),
    }
}

fn parse_rating(object: &Map<String, Value>) -> Result<QuestionSettings, ValidationError> {
    let options = object
        .get("options")
        .and_then(Value::as_array)
        .ok_or_else(|| ValidationError::new("rating question settings need `options`"))?;
    ensure((2..=11).contains(&options.len()), || {
        format!("ensure this value has at least 2 items and at most 11 items, got {}", options.len())
    })?;
    let mut values = Vec::with_capacity(options.len());
    for option in options {
        let value = option
            .get("value")
            .and_then(Value::as_i64)
            .filter(|value| (0..=10).contains(value))
            .ok_or_else(|| ValidationError::new("rating option values must be integers between 0 and 10"))?;
        values.push(value);
    }
    let unique: HashSet<i64> = values.iter().copied().collect();
    ensure(unique.len() == values.len(), || "Option values must be unique".into())?;
    Ok(QuestionSettings::Rating { values })
}

fn parse_options(object: &Map<String, Value>, min: usize, max: usize) -> Result<Vec<QuestionOption>, ValidationError> {
    let items = object
        .get("options")
        .and_then(Value::as_array)
        .ok_or_else(|| ValidationError::new("question settings need a list of `options`"))?;
    ensure((min..=max).contains(&items.len()), || {
        format!("ensure this value has at least {min} items and at most {max} items, got {}", items.len())
    })?;
    let options = items.iter().map(parse_option).collect::<Result<Vec<_>, _>>()?;
    let mut seen = HashSet::new();
    let duplicates: Vec<&str> =
        options.iter().filter(|option| !seen.insert(option.value.as_str())).map(|option| option.value.as_str()).collect();
    ensure(duplicates.is_empty(), || format!("Option values must be unique, found duplicates: {}", duplicates.join(", ")))?;
    Ok(options)
}

fn parse_option(item: &Value) -> Result<QuestionOption, ValidationError> {
    let value = item
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| ValidationError::new("each option needs a string `value`"))?;
    check_length("option value", value, 1, 200)?;
    let text = item.get("text").and_then(Value::as_str).unwrap_or(value);
    check_length("option text", text, 1, 500)?;
    let description = match item.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(description)) => {
            check_length("option description", description, 1, 1000)?;
            Some(description.clone())
        }
        Some(_) => return Err(ValidationError::new("option description must be a string")),
    };
    Ok(QuestionOption { value: value.to_owned(), text: text.to_owned(), description })
}

fn parse_visible_options(object: &Map<String, Value>, option_count: usize) -> Result<Option<u32>, ValidationError> {
    match object.get("visible_options") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let visible = value.as_u64().ok_or_else(|| ValidationError::new("visible_options must be an integer"))?;
            ensure(visible >= 3, || "visible_options must be greater or equal than 3".into())?;
            ensure(visible as usize <= option_count, || {
                format!("the value for 'visible_options' must be less or equal to the number of items in 'options' ({option_count})")
            })?;
            Ok(Some(visible as u32))
        }
    }
}

fn update_visible_options(
    current: &mut Option<u32>,
    object: &Map<String, Value>,
    option_count: usize,
) -> Result<(), ValidationError> {
    if object.contains_key("visible_options") {
        *current = parse_visible_options(object, option_count)?;
    }
    Ok(())
}

fn parse_options_order(object: &Map<String, Value>) -> Result<Option<OptionsOrder>, ValidationError> {
    match object.get("options_order") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(order)) if order == "natural" => Ok(Some(OptionsOrder::Natural)),
        Some(Value::String(order)) if order == "suggestion" => Ok(Some(OptionsOrder::Suggestion)),
        Some(_) => Err(ValidationError::new("options_order must be `natural` or `suggestion`")),
    }
}

fn retext_options(options: &mut [QuestionOption], object: &Map<String, Value>) -> Result<(), ValidationError> {
    let Some(items) = object.get("options").and_then(Value::as_array) else {
        return Ok(());
    };
    let new_options = items.iter().map(parse_option).collect::<Result<Vec<_>, _>>()?;
    ensure(new_options.len() == options.len(), || {
        format!("the number of options cannot be modified. expected {} but got {}", options.len(), new_options.len())
    })?;
    let old_values: HashSet<&str> = options.iter().map(|option| option.value.as_str()).collect();
    let missing: Vec<&str> =
        new_options.iter().map(|option| option.value.as_str()).filter(|value| !old_values.contains(value)).collect();
    ensure(missing.is_empty(), || format!("the option values cannot be modified. found unexpected option values: {missing:?}"))?;
    options.clone_from_slice(&new_options);
    Ok(())
}

/// Checks a question title (re-exported here so question code reads naturally).
pub fn validate_question_title(title: &str) -> Result<(), ValidationError> {
    validate_title(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranking(values: &[&str]) -> Value {
        let options: Vec<Value> = values.iter().map(|value| json!({"value": value, "text": value})).collect();
        json!({"type": "ranking", "options": options})
    }

    #[test]
    fn ranking_needs_two_to_fifty_unique_options() {
        assert!(QuestionSettings::from_json(&ranking(&["a"])).is_err());
        assert!(QuestionSettings::from_json(&ranking(&["a", "a"])).unwrap_err().message().contains("duplicates: a"));
        let many: Vec<String> = (0..51).map(|i| i.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(QuestionSettings::from_json(&ranking(&many)).is_err());
        let settings = QuestionSettings::from_json(&ranking(&["response-1", "response-2"])).unwrap();
        assert_eq!(settings.option_values(), vec!["response-1", "response-2"]);
    }

    #[test]
    fn rating_values_are_integers_between_zero_and_ten() {
        let good = json!({"type": "rating", "options": [{"value": 0}, {"value": 1}, {"value": 2}]});
        let settings = QuestionSettings::from_json(&good).unwrap();
        assert_eq!(settings.to_json(), good);
        assert!(QuestionSettings::from_json(&json!({"type": "rating", "options": [{"value": 0}, {"value": 11}]})).is_err());
        assert!(QuestionSettings::from_json(&json!({"type": "rating", "options": [{"value": 1}]})).is_err());
    }

    #[test]
    fn visible_options_must_fit_the_options() {
        let settings = json!({"type": "label_selection", "options": [{"value": "a"}, {"value": "b"}, {"value": "c"}], "visible_options": 4});
        assert!(QuestionSettings::from_json(&settings).is_err());
        let settings = json!({"type": "label_selection", "options": [{"value": "a"}, {"value": "b"}, {"value": "c"}], "visible_options": 3});
        assert!(QuestionSettings::from_json(&settings).is_ok());
    }

    #[test]
    fn updates_keep_type_and_option_values() {
        let settings = QuestionSettings::from_json(&json!({"type": "label_selection", "options": [{"value": "a"}, {"value": "b"}]})).unwrap();
        assert!(settings.updated(&json!({"type": "rating"})).is_err());
        assert!(settings.updated(&json!({"options": [{"value": "a"}, {"value": "c"}]})).is_err());
        let retexted = settings.updated(&json!({"options": [{"value": "a", "text": "A"}, {"value": "b", "text": "B"}]})).unwrap();
        assert_eq!(retexted.to_json()["options"][0]["text"], "A");
    }

    #[test]
    fn span_overlap_cannot_be_turned_off() {
        let settings = QuestionSettings::from_json(&json!({"type": "span", "field": "text", "options": [{"value": "x"}], "allow_overlapping": true})).unwrap();
        assert!(settings.updated(&json!({"allow_overlapping": false})).is_err());
    }
}
