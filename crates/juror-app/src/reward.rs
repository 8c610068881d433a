//! A reward model's view of a dataset: the records' texts to score, the model's ranking of each
//! record's responses written back as a suggestion, and how often each labeler agrees with it.
//!
//! The model itself lives outside the app (`juror-train`, run by the CLI): the app hands out
//! text and takes back scores.

use std::collections::{BTreeMap, HashMap, HashSet};

use juror_core::ids::{DatasetId, QuestionId, RecordId};
use juror_core::quality::pair_verdicts;
use juror_core::record::RecordRelations;
use juror_core::response::{NewSuggestion, ResponseStatus, SuggestionType};
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::preferences::{detect_settings, LabelerSummary, PreferenceKind, PreferenceSettings, RecordTexts};
use crate::records::RecordPages;
use crate::App;

/// The start of a reward model's suggestion agent: `juror-reward-model/NAME`.
pub const REWARD_MODEL_AGENT: &str = "juror-reward-model";

/// One record's prompt and responses as text, to score.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordToScore {
    pub record_id: RecordId,
    pub external_id: Option<String>,
    pub prompt: String,
    /// (response field, its text).
    pub responses: Vec<(String, String)>,
}

/// A dataset's records to score, a page at a time (gold records left out); made by
/// [`App::records_to_score`].
#[derive(Debug)]
pub struct ScoringPages {
    settings: PreferenceSettings,
    /// The preference question's id, for suggestions.
    question_id: QuestionId,
    pages: RecordPages,
}

impl ScoringPages {
    pub fn settings(&self) -> &PreferenceSettings {
        &self.settings
    }

    /// The next page's records, `None` after the last.
    pub async fn next_page(&mut self, app: &App) -> AppResult<Option<Vec<RecordToScore>>> {
        let Some(page) = self.pages.next(app).await? else { return Ok(None) };
        Ok(Some(
            page.iter()
                .map(|(record, _)| {
                    let texts = RecordTexts::of(&self.settings, record);
                    RecordToScore {
                        record_id: record.id,
                        external_id: record.external_id.clone(),
                        prompt: texts.prompt.to_string(),
                        responses: texts.responses.iter().map(|(field, text)| (field.clone(), text.to_string())).collect(),
                    }
                })
                .collect(),
        ))
    }
}

/// A ranking of options by score, best first (equal scores share a rank), as a suggestion's
/// value, with each option's score: the mean probability, under the Bradley-Terry model, that it
/// beats each other option.
pub fn ranking_suggestion(scores: &[(String, f32)]) -> (Value, Value) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|left, right| scores[*right].1.total_cmp(&scores[*left].1));
    let (mut value, mut probabilities) = (Vec::new(), Vec::new());
    let mut rank = 0;
    for (position, index) in order.iter().enumerate() {
        if position == 0 || scores[*index].1 < scores[order[position - 1]].1 {
            rank = position + 1;
        }
        let (option, score) = &scores[*index];
        value.push(json!({"value": option, "rank": rank}));
        let others = scores.iter().enumerate().filter(|(other, _)| other != index);
        let wins: f64 = others.map(|(_, (_, other))| 1.0 / (1.0 + (-f64::from(score - other)).exp())).sum();
        let probability = wins / (scores.len().saturating_sub(1)).max(1) as f64;
        probabilities.push(json!((probability * 1e4).round() / 1e4));
    }
    (Value::Array(value), Value::Array(probabilities))
}

/// Each labeler's agreement with a reward model's suggested rankings, over the pairs both ordered.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAgreement {
    /// The agents of the suggestions read (`juror-reward-model/NAME`).
    pub agents: Vec<String>,
    /// Records with both a model suggestion and a submitted answer.
    pub records: usize,
    /// The share of all compared pairs on which labelers and model agree.
    pub overall: f64,
    /// Each labeler's pairs compared with the model's, and the share that agree.
    pub labelers: Vec<LabelerSummary>,
}

/// Tallies the labelers' answers against the reward model's suggestions, a record at a time.
#[derive(Debug, Default)]
pub(crate) struct ModelAgreementTally {
    agents: std::collections::BTreeSet<String>,
    records: usize,
    labelers: BTreeMap<String, (usize, usize)>,
}

impl ModelAgreementTally {
    pub(crate) fn add(&mut self, settings: &PreferenceSettings, question_id: Option<juror_core::ids::QuestionId>, relations: &RecordRelations) {
        let Some(question_id) = question_id else { return };
        let suggestion = relations.suggestions.as_deref().unwrap_or_default().iter().find(|suggestion| {
            suggestion.question_id == question_id && suggestion.agent.as_deref().is_some_and(|agent| agent.starts_with(REWARD_MODEL_AGENT))
        });
        let Some(suggestion) = suggestion else { return };
        let wrapped: Map<String, Value> = [(settings.question.clone(), json!({"value": suggestion.value}))].into_iter().collect();
        let model = pair_verdicts(&wrapped, &settings.question);
        let mut counted = false;
        for response in relations.responses.as_deref().unwrap_or_default().iter().filter(|response| response.status == ResponseStatus::Submitted) {
            let Some(values) = &response.values else { continue };
            let tally = self.labelers.entry(response.user_id.to_string()).or_default();
            for verdict in pair_verdicts(values, &settings.question) {
                let Some(wins) = verdict.first_wins else { continue };
                let Some(model_wins) = model.iter().find(|other| other.first == verdict.first && other.second == verdict.second).and_then(|other| other.first_wins) else { continue };
                tally.0 += 1;
                tally.1 += usize::from(wins == model_wins);
                counted = true;
            }
        }
        if counted {
            self.records += 1;
            self.agents.insert(suggestion.agent.clone().unwrap_or_default());
        }
    }

    /// The figures, labelers by username; `None` when no record had both.
    pub(crate) fn finish(self, usernames: &HashMap<String, String>) -> Option<ModelAgreement> {
        let (compared, agreed) = self.labelers.values().fold((0, 0), |(compared, agreed), (c, a)| (compared + c, agreed + a));
        (compared > 0).then(|| ModelAgreement {
            agents: self.agents.into_iter().collect(),
            records: self.records,
            overall: agreed as f64 / compared as f64,
            labelers: self
                .labelers
                .into_iter()
                .filter(|(_, (compared, _))| *compared > 0)
                .map(|(labeler, (compared, agreed))| LabelerSummary { username: usernames.get(&labeler).cloned().unwrap_or(labeler), compared, agreement: agreed as f64 / compared as f64 })
                .collect(),
        })
    }
}

impl App {
    /// The dataset's records with the prompt and responses its preference question compares, a
    /// page at a time, gold records left out (owners and admins).
    pub async fn records_to_score(&self, caller: &Caller, id: DatasetId, question: Option<&str>, prompt_field: Option<&str>) -> AppResult<ScoringPages> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let schema = self.schema(id).await?;
        let settings = detect_settings(&schema, question, prompt_field)?;
        let question_id = schema.questions.iter().find(|question| question.name == settings.question).map(|question| question.id).ok_or_else(|| AppError::Invalid(format!("no question `{}`", settings.question)))?;
        let pages = RecordPages::new(id, juror_store::RecordInclude::default()).leaving_out(self.gold_records(id).await?);
        Ok(ScoringPages { settings, question_id, pages })
    }

    /// Writes a reward model's ranking of one of `pages`' records as the suggestion for the
    /// preference question (replacing the question's earlier suggestion), agent
    /// `juror-reward-model/NAME` (owners and admins).
    pub async fn suggest_ranking(&self, caller: &Caller, pages: &ScoringPages, record_id: RecordId, scores: &[(String, f32)], model_name: &str) -> AppResult<()> {
        if pages.settings.kind != PreferenceKind::Ranking {
            return Err(AppError::Invalid(format!("question `{}` is not a ranking question: a reward model's suggestions rank responses", pages.settings.question)));
        }
        let (value, score) = ranking_suggestion(scores);
        let suggestion = NewSuggestion { question_id: pages.question_id, kind: Some(SuggestionType::Model), value, agent: Some(format!("{REWARD_MODEL_AGENT}/{model_name}")), score: Some(score) };
        self.upsert_suggestion(caller, record_id, suggestion).await?;
        Ok(())
    }
}

/// Records left out of a model's suggestions: those it was trained on.
pub fn untrained(records: Vec<RecordToScore>, trained: &HashSet<String>) -> (Vec<RecordToScore>, usize) {
    let before = records.len();
    let kept: Vec<RecordToScore> = records.into_iter().filter(|record| !trained.contains(&record.record_id.to_string())).collect();
    let skipped = before - kept.len();
    (kept, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_rank_best_first_with_shared_ranks_for_equal_scores() {
        let scores = vec![("a".to_owned(), 0.0), ("b".to_owned(), 2.0), ("c".to_owned(), 0.0)];
        let (value, score) = ranking_suggestion(&scores);
        assert_eq!(value, json!([{"value": "b", "rank": 1}, {"value": "a", "rank": 2}, {"value": "c", "rank": 2}]));
        let probabilities: Vec<f64> = score.as_array().unwrap().iter().map(|score| score.as_f64().unwrap()).collect();
        assert!((probabilities[0] - 0.8808).abs() < 1e-3, "{probabilities:?}");
        assert!((probabilities[1] - (0.1192 + 0.5) / 2.0).abs() < 1e-3, "{probabilities:?}");
        assert!(probabilities.iter().all(|probability| (0.0..=1.0).contains(probability)));
    }
}
