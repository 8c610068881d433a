//! Tests of the pure parts of `preferences`: detection and value conversion.

use juror_core::dataset::{Dataset, DatasetStatus, Distribution};
use juror_core::field::{Field, FieldSettings};
use juror_core::ids::{DatasetId, FieldId, QuestionId, WorkspaceId};
use juror_core::question::{Question, QuestionOption, QuestionSettings};
use juror_core::time::Timestamp;
use serde_json::json;

use super::*;

fn schema(fields: &[(&str, FieldSettings)], questions: &[(&str, QuestionSettings)]) -> DatasetSchema {
    let now = Timestamp::from_micros(0);
    let dataset_id = DatasetId::new();
    let dataset = Dataset {
        id: dataset_id,
        name: "d".into(),
        guidelines: None,
        allow_extra_metadata: false,
        status: DatasetStatus::Ready,
        distribution: Distribution::default(),
        metadata: None,
        workspace_id: WorkspaceId::new(),
        last_activity_at: now,
        inserted_at: now,
        updated_at: now,
    };
    let fields = fields
        .iter()
        .map(|(name, settings)| Field { id: FieldId::new(), name: (*name).into(), title: (*name).into(), required: true, settings: settings.clone(), dataset_id, inserted_at: now, updated_at: now })
        .collect();
    let questions = questions
        .iter()
        .map(|(name, settings)| Question {
            id: QuestionId::new(),
            name: (*name).into(),
            title: (*name).into(),
            description: None,
            required: true,
            settings: settings.clone(),
            dataset_id,
            inserted_at: now,
            updated_at: now,
        })
        .collect();
    DatasetSchema { dataset, fields, questions, metadata_properties: Vec::new(), vector_settings: Vec::new() }
}

const TEXT: FieldSettings = FieldSettings::Text { use_markdown: false };

fn ranking(options: &[&str]) -> QuestionSettings {
    QuestionSettings::Ranking { options: options.iter().map(|value| QuestionOption { value: (*value).into(), text: (*value).into(), description: None }).collect() }
}

fn guide_fields() -> Vec<(&'static str, FieldSettings)> {
    vec![("instruction", TEXT), ("response-1", TEXT), ("response-2", TEXT)]
}

fn settings(question: &str, kind: PreferenceKind, prompt: &str, responses: &[&str]) -> PreferenceSettings {
    PreferenceSettings { question: question.into(), kind, prompt_field: prompt.into(), prompt_is_chat: false, responses: responses.iter().map(|name| (*name).into()).collect() }
}

#[test]
fn a_ranking_question_is_preferred_and_its_options_name_the_responses() {
    let fields = [("prompt", TEXT), ("response-1", TEXT), ("response-2", TEXT)];
    let questions = [("rating", QuestionSettings::Rating { values: vec![0, 1, 2] }), ("preference", ranking(&["response-1", "response-2", "neither"]))];
    let detected = detect_settings(&schema(&fields, &questions), None, None).unwrap();
    assert_eq!(detected, settings("preference", PreferenceKind::Ranking, "prompt", &["response-1", "response-2"]));
}

#[test]
fn the_guides_rating_pattern_compares_the_first_two_other_fields() {
    let questions = [("quality", QuestionSettings::Rating { values: vec![1, 2, 3] }), ("choose", QuestionSettings::Rating { values: vec![2, 0, 1] })];
    let detected = detect_settings(&schema(&guide_fields(), &questions), None, None).unwrap();
    assert_eq!(detected, settings("choose", PreferenceKind::PairRating, "instruction", &["response-1", "response-2"]));
}

#[test]
fn overrides_pick_the_question_and_the_prompt() {
    let questions = [("a", ranking(&["instruction", "response-1"])), ("b", ranking(&["response-1", "response-2"]))];
    let detected = detect_settings(&schema(&guide_fields(), &questions), Some("b"), Some("instruction")).unwrap();
    assert_eq!(detected, settings("b", PreferenceKind::Ranking, "instruction", &["response-1", "response-2"]));
    let chat = [("conversation", FieldSettings::Chat { use_markdown: false }), ("response-1", TEXT), ("response-2", TEXT)];
    assert!(detect_settings(&schema(&chat, &questions), Some("b"), None).unwrap().prompt_is_chat);
}

#[test]
fn nothing_that_fits_is_a_clear_error() {
    let message = |result: AppResult<PreferenceSettings>| match result {
        Err(AppError::Invalid(message)) => message,
        other => panic!("expected Invalid, got {other:?}"),
    };
    let fields = guide_fields();
    let rating = [("quality", QuestionSettings::Rating { values: vec![1, 2, 3, 4, 5] })];
    assert!(message(detect_settings(&schema(&fields, &rating), None, None)).starts_with("the dataset has no preference question"));
    assert!(message(detect_settings(&schema(&fields, &rating), Some("quality"), None)).starts_with("question `quality` is not a preference question"));
    assert_eq!(message(detect_settings(&schema(&fields, &rating), Some("nope"), None)), "the dataset has no question named `nope`");
    assert_eq!(message(detect_settings(&schema(&fields, &rating), None, Some("nope"))), "the dataset has no field named `nope`");
    let labels = [("preference", ranking(&["a", "b"]))];
    assert!(message(detect_settings(&schema(&fields, &labels), None, None)).contains("fewer than two response fields"));
}

fn check(settings: &PreferenceSettings, values: serde_json::Value, expect: Result<Option<Vec<(&str, u32)>>, &str>) {
    let values = values.as_object().unwrap().clone();
    let got = judgment_from_values(settings, "r1", "ann", &values);
    let expect = expect.map(|ranks| ranks.map(|ranks| Judgment::new("r1", "ann", ranks).unwrap())).map_err(str::to_owned);
    assert_eq!(got, expect);
}

#[test]
fn ranking_values_become_judgments_over_the_response_fields() {
    let ranking = settings("preference", PreferenceKind::Ranking, "prompt", &["response-1", "response-2"]);
    let value = json!({"preference": {"value": [{"value": "response-2", "rank": 1}, {"value": "response-1", "rank": 2}, {"value": "neither", "rank": 3}]}});
    check(&ranking, value, Ok(Some(vec![("response-2", 1), ("response-1", 2)])));
    check(&ranking, json!({"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 1}]}}), Ok(Some(vec![("response-1", 1), ("response-2", 1)])));
    check(&ranking, json!({"other": {"value": 1}}), Ok(None));
    check(&ranking, json!({"preference": {"value": [{"value": "response-1", "rank": 1}]}}), Ok(None));
    check(&ranking, json!({"preference": {"value": "response-1"}}), Err("a ranking value must be a list"));
    check(&ranking, json!({"preference": {"value": [{"value": "response-1"}]}}), Err("a ranked option needs a `rank`"));
}

#[test]
fn guide_ratings_become_two_option_judgments() {
    let rating = settings("choose", PreferenceKind::PairRating, "instruction", &["response-1", "response-2"]);
    check(&rating, json!({"choose": {"value": 1}}), Ok(Some(vec![("response-1", 1), ("response-2", 2)])));
    check(&rating, json!({"choose": {"value": 2}}), Ok(Some(vec![("response-1", 2), ("response-2", 1)])));
    check(&rating, json!({"choose": {"value": 0}}), Ok(Some(vec![("response-1", 1), ("response-2", 1)])));
    check(&rating, json!({"choose": {"value": 3}}), Err("rating 3 is not a pairwise rating, expected 0 (equal), 1 (first better) or 2 (second better)"));
}

#[test]
fn chat_prompts_render_as_role_blocks() {
    let chat = json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why?"}]);
    assert_eq!(field_text(&chat), "system: Be brief.\n\nuser: Why?");
    assert_eq!(chat_messages(&chat).unwrap()[1], Message { role: "user".into(), content: "Why?".into() });
    assert_eq!(field_text(&json!("plain")), "plain");
    assert_eq!(chat_messages(&json!("plain")), None);
}

fn resolved(item: &str, chosen: &str, rejected: &str, tie: bool) -> ResolvedPair {
    ResolvedPair { item: item.into(), chosen: chosen.into(), rejected: rejected.into(), tie, p_chosen: 1.0, margin: 1.0, judgments: 1, agreement: 1.0 }
}

#[test]
fn best_vs_worst_keeps_the_consensus_extremes() {
    let pairs = [resolved("q", "a", "b", false), resolved("q", "a", "c", false), resolved("q", "b", "c", false), resolved("r", "x", "y", true)];
    let pick = |binarization, ties| select_pairs(&pairs, binarization, ties).iter().map(|pair| format!("{}{}", pair.chosen, pair.rejected)).collect::<Vec<_>>();
    assert_eq!(pick(Binarization::AllPairs, TiePolicy::Drop), ["ab", "ac", "bc"]);
    assert_eq!(pick(Binarization::BestVsWorst, TiePolicy::Drop), ["ac"]);
    assert_eq!(pick(Binarization::BestVsWorst, TiePolicy::Keep), ["ac", "xy"]);
}
