//! Reads the record page's form into Argilla response values.
//!
//! Inputs are named by position so question names and option values never need escaping:
//! `q.{question}` holds a rating, a label, a text or (repeated) multi-labels, and
//! `r.{question}.{option}` the rank of one option of a ranking, by canonical option index.

use std::collections::HashMap;

use juror_core::question::{Question, QuestionSettings};
use serde_json::{json, Map, Value};

/// What the labeler asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormAction {
    Submit,
    Draft,
    Discard,
    Skip,
}

/// The form as sent: the action, the session's form token, the time on task and the answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AnswerForm {
    pub action: FormAction,
    pub csrf: String,
    pub time_on_task_ms: Option<u64>,
    /// Question name to `{"value": ...}`, for every question with an answer.
    pub values: Map<String, Value>,
    /// Inputs that could not be read or are incomplete (a ranking with unranked options), as
    /// messages for the labeler. Incomplete answers are still in `values`, for drafts.
    pub problems: Vec<String>,
    /// The dataset settings version the page was rendered with.
    pub settings_version: String,
    /// True for the page's automatic draft saves (never allowed to replace a final answer).
    pub autosave: bool,
}

/// Reads a url-encoded form body against the dataset's questions.
pub(crate) fn parse(body: &[u8], questions: &[Question]) -> AnswerForm {
    let mut inputs: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        inputs.entry(name.into_owned()).or_default().push(value.into_owned());
    }
    let first = |name: &str| inputs.get(name).and_then(|values| values.first()).map(String::as_str);
    let action = match first("action") {
        Some("draft") => FormAction::Draft,
        Some("discard") => FormAction::Discard,
        Some("skip") => FormAction::Skip,
        _ => FormAction::Submit,
    };
    let csrf = first("csrf").unwrap_or_default().to_owned();
    let time_on_task_ms = first("time_on_task_ms").and_then(|text| text.trim().parse::<f64>().ok()).filter(|ms| ms.is_finite() && *ms >= 0.0).map(|ms| ms as u64);
    let settings_version = first("settings_version").unwrap_or_default().to_owned();
    let autosave = first("autosave") == Some("1");
    let mut values = Map::new();
    let mut problems = Vec::new();
    for (index, question) in questions.iter().enumerate() {
        match read_answer(index, question, &inputs) {
            Ok(Some(value)) => {
                values.insert(question.name.clone(), json!({ "value": value }));
            }
            Ok(None) => {}
            Err(Incomplete { value, problem }) => {
                if let Some(value) = value {
                    values.insert(question.name.clone(), json!({ "value": value }));
                }
                problems.push(problem);
            }
        }
    }
    AnswerForm { action, csrf, time_on_task_ms, values, problems, settings_version, autosave }
}

/// An answer that cannot be submitted: what can be kept of it (for a draft), and why.
struct Incomplete {
    value: Option<Value>,
    problem: String,
}

impl From<String> for Incomplete {
    fn from(problem: String) -> Self {
        Self { value: None, problem }
    }
}

fn read_answer(index: usize, question: &Question, inputs: &HashMap<String, Vec<String>>) -> Result<Option<Value>, Incomplete> {
    let given: Vec<&str> = inputs.get(&format!("q.{index}")).into_iter().flatten().map(String::as_str).filter(|text| !text.is_empty()).collect();
    match &question.settings {
        QuestionSettings::Ranking { options } => read_ranking(index, question, options.iter().map(|option| option.value.as_str()).collect(), inputs),
        QuestionSettings::Rating { .. } => match given.first() {
            None => Ok(None),
            Some(text) => text.parse::<i64>().map(|rating| Some(json!(rating))).map_err(|_| format!("“{}”: `{text}` is not a rating", question.title).into()),
        },
        QuestionSettings::LabelSelection { .. } => Ok(given.first().map(|label| json!(label))),
        QuestionSettings::MultiLabelSelection { .. } => Ok((!given.is_empty()).then(|| json!(given))),
        QuestionSettings::Text { .. } => Ok(given.first().filter(|text| !text.trim().is_empty()).map(|text| json!(text))),
        QuestionSettings::Span { .. } => Ok(None),
    }
}

fn read_ranking(index: usize, question: &Question, values: Vec<&str>, inputs: &HashMap<String, Vec<String>>) -> Result<Option<Value>, Incomplete> {
    let count = values.len();
    let mut ranked = Vec::with_capacity(count);
    for (option, value) in values.iter().enumerate() {
        let text = inputs.get(&format!("r.{index}.{option}")).and_then(|given| given.first()).map(|text| text.trim()).filter(|text| !text.is_empty());
        let rank = match text {
            None => None,
            Some(text) => match text.parse::<u32>() {
                Ok(rank) if (1..=count as u32).contains(&rank) => Some(rank),
                _ => return Err(format!("“{}”: rank `{text}` must be between 1 and {count}", question.title).into()),
            },
        };
        ranked.push((value, rank));
    }
    let given = ranked.iter().filter(|(_, rank)| rank.is_some()).count();
    let entries = Value::Array(ranked.into_iter().filter_map(|(value, rank)| Some(json!({"value": value, "rank": rank?}))).collect());
    match given {
        0 => Ok(None),
        given if given < count => Err(Incomplete { value: Some(entries), problem: format!("“{}”: give every option a rank", question.title) }),
        _ => Ok(Some(entries)),
    }
}

#[cfg(test)]
mod tests {
    use juror_core::ids::{DatasetId, QuestionId};
    use juror_core::question::QuestionOption;
    use juror_core::time::Timestamp;

    use super::*;

    fn question(name: &str, settings: QuestionSettings) -> Question {
        Question { id: QuestionId::new(), name: name.into(), title: name.to_uppercase(), description: None, required: true, settings, dataset_id: DatasetId::new(), inserted_at: Timestamp::now(), updated_at: Timestamp::now() }
    }

    fn options(values: &[&str]) -> Vec<QuestionOption> {
        values.iter().map(|value| QuestionOption { value: (*value).into(), text: (*value).into(), description: None }).collect()
    }

    fn questions() -> Vec<Question> {
        vec![
            question("rank", QuestionSettings::Ranking { options: options(&["response-1", "response-2", "response-3"]) }),
            question("rate", QuestionSettings::Rating { values: vec![1, 2, 3, 4, 5] }),
            question("label", QuestionSettings::LabelSelection { options: options(&["good", "bad"]), visible_options: None }),
            question("topics", QuestionSettings::MultiLabelSelection { options: options(&["math", "code"]), visible_options: None, options_order: juror_core::question::OptionsOrder::Natural }),
            question("note", QuestionSettings::Text { use_markdown: false }),
        ]
    }

    #[test]
    fn every_question_type_is_read_with_canonical_option_values() {
        let body = "csrf=t&time_on_task_ms=5321.7&r.0.0=2&r.0.1=1&r.0.2=2&q.1=4&q.2=bad&q.3=math&q.3=code&q.4=Too+long&action=submit";
        let form = parse(body.as_bytes(), &questions());
        assert_eq!(form.action, FormAction::Submit);
        assert_eq!(form.csrf, "t");
        assert_eq!(form.time_on_task_ms, Some(5321));
        assert!(form.problems.is_empty(), "{:?}", form.problems);
        assert_eq!(
            Value::Object(form.values),
            json!({
                "rank": {"value": [{"value": "response-1", "rank": 2}, {"value": "response-2", "rank": 1}, {"value": "response-3", "rank": 2}]},
                "rate": {"value": 4},
                "label": {"value": "bad"},
                "topics": {"value": ["math", "code"]},
                "note": {"value": "Too long"},
            })
        );
    }

    #[test]
    fn unanswered_questions_are_left_out_and_the_action_is_read() {
        let form = parse(b"action=draft&r.0.0=&r.0.1=&r.0.2=&q.4=+", &questions());
        assert_eq!(form.action, FormAction::Draft);
        assert!(form.values.is_empty());
        assert!(form.problems.is_empty());
        assert_eq!(parse(b"action=skip", &questions()).action, FormAction::Skip);
        assert_eq!(parse(b"action=discard", &questions()).action, FormAction::Discard);
    }

    #[test]
    fn partial_or_out_of_range_rankings_and_bad_ratings_are_problems() {
        let form = parse(b"r.0.0=1&r.0.1=&r.0.2=2&q.1=x&autosave=1&settings_version=7", &questions());
        assert_eq!(form.problems.len(), 2, "{:?}", form.problems);
        assert!(form.problems[0].contains("every option"));
        assert!(form.problems[1].contains("not a rating"));
        // The ranked options are kept for a draft; the bad rating is not.
        assert_eq!(Value::Object(form.values), json!({"rank": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-3", "rank": 2}]}}));
        assert!(form.autosave);
        assert_eq!(form.settings_version, "7");
        let form = parse(b"r.0.0=1&r.0.1=4&r.0.2=2&time_on_task_ms=-3", &questions());
        assert!(form.problems[0].contains("between 1 and 3"), "{:?}", form.problems);
        assert_eq!(form.time_on_task_ms, None);
    }
}
