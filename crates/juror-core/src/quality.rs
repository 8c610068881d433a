//! Quality control while collecting, as a dataset sets it: adaptive overlap and gold records.
//!
//! [`QualitySettings`] is what an owner turns on per dataset (off by default, stored as JSON);
//! [`GoldVerdict`] is what a gold record's answer must say and [`GoldVerdict::judge`] whether an
//! answer says it; [`pair_verdicts`] reads a ranking answer as the verdicts on each pair of its
//! options, which adaptive overlap weighs; [`gold_is_due`] and [`repeat_is_due`] decide when a
//! labeler meets a gold record or a swapped repeat, and [`consistency`] compares a repeat with the
//! first answer. The statistics behind them (accuracy from gold answers, the posterior of a verdict)
//! are `juror_prefs::quality`.

use serde_json::{json, Map, Value};

use crate::error::{ensure, ValidationError};
use crate::ids::UserId;
use crate::question::{Question, QuestionSettings};
use crate::value::Ranking;

/// A dataset's quality controls; `Default` is everything off.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QualitySettings {
    pub adaptive: Option<AdaptiveSettings>,
    pub gold: Option<GoldSettings>,
    pub repeats: Option<RepeatSettings>,
}

/// Swapped repeats: about `rate` of a labeler's records in the web UI are ones they submitted
/// before, shown again with the responses in the opposite order; their second answer is kept
/// apart from the first and measures their self-consistency.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatSettings {
    pub rate: f64,
}

/// How many of a labeler's answers come between a record and its repeat, at least.
pub const REPEAT_GAP: u64 = 3;

/// Adaptive overlap: a record gets `min` judgments, then one more at a time while the verdict on
/// any pair of its options is less likely than `confidence`, and never more than `max`. It
/// replaces the dataset's `min_submitted` for hand-outs and completion.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveSettings {
    /// The ranking question whose verdicts settle a record.
    pub question: String,
    pub min: u32,
    pub max: u32,
    pub confidence: f64,
}

/// Gold records: served to each labeler at `rate` (the share of their records that are gold),
/// scored against their expected verdict; a labeler whose gold accuracy is below `threshold`
/// with `certainty`, after at least `min_answers` gold answers, is flagged, and with `pause` gets
/// no more records until an owner lets them go on.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldSettings {
    pub rate: f64,
    pub threshold: f64,
    pub min_answers: u32,
    pub certainty: f64,
    pub pause: bool,
}

impl Default for GoldSettings {
    /// One record in ten; flagged below 70% with 80% certainty after 14 gold answers (the
    /// defaults of `juror_prefs::quality::GoldRule`, where the choice is explained); not paused.
    fn default() -> Self {
        Self { rate: 0.1, threshold: 0.7, min_answers: 14, certainty: 0.8, pause: false }
    }
}

/// The most judgments adaptive overlap may ask of one record.
pub const MAX_ADAPTIVE_JUDGMENTS: u32 = 50;

impl QualitySettings {
    /// Reads the settings' JSON form, `{"adaptive": {...} | null, "gold": {...} | null}`, checked
    /// against the dataset's questions. Absent keys keep their defaults; unknown keys are ignored.
    pub fn from_json(value: &Value, questions: &[Question]) -> Result<Self, ValidationError> {
        let object = value.as_object().ok_or_else(|| ValidationError::new("quality settings must be an object"))?;
        let adaptive = match object.get("adaptive") {
            None | Some(Value::Null) => None,
            Some(adaptive) => Some(parse_adaptive(adaptive, questions)?),
        };
        let gold = match object.get("gold") {
            None | Some(Value::Null) => None,
            Some(gold) => Some(parse_gold(gold)?),
        };
        let repeats = match object.get("repeats") {
            None | Some(Value::Null) => None,
            Some(repeats) => Some(parse_repeats(repeats)?),
        };
        Ok(Self { adaptive, gold, repeats })
    }

    /// Reads settings stored by [`QualitySettings::to_json`], without the questions (they were
    /// checked when stored).
    pub fn from_stored(text: &str) -> Result<Self, ValidationError> {
        let value: Value = serde_json::from_str(text).map_err(|error| ValidationError::new(format!("stored quality settings: {error}")))?;
        let adaptive = value.get("adaptive").filter(|value| !value.is_null()).map(parse_adaptive_fields).transpose()?;
        let gold = value.get("gold").filter(|value| !value.is_null()).map(parse_gold).transpose()?;
        let repeats = value.get("repeats").filter(|value| !value.is_null()).map(parse_repeats).transpose()?;
        Ok(Self { adaptive, gold, repeats })
    }

    /// The canonical JSON form, every key present.
    pub fn to_json(&self) -> Value {
        json!({
            "adaptive": self.adaptive.as_ref().map(|adaptive| json!({
                "question": adaptive.question, "min": adaptive.min, "max": adaptive.max, "confidence": adaptive.confidence,
            })),
            "gold": self.gold.as_ref().map(|gold| json!({
                "rate": gold.rate, "threshold": gold.threshold, "min_answers": gold.min_answers,
                "certainty": gold.certainty, "pause": gold.pause,
            })),
            "repeats": self.repeats.as_ref().map(|repeats| json!({"rate": repeats.rate})),
        })
    }

    /// Whether anything is on.
    pub fn is_on(&self) -> bool {
        self.adaptive.is_some() || self.gold.is_some() || self.repeats.is_some()
    }

    /// The judgments a record with no answers needs: the dataset's `min_submitted`, or adaptive
    /// overlap's `min`.
    pub fn first_target(&self, min_submitted: u32) -> u32 {
        self.adaptive.as_ref().map_or(min_submitted, |adaptive| adaptive.min)
    }
}

fn parse_adaptive(value: &Value, questions: &[Question]) -> Result<AdaptiveSettings, ValidationError> {
    let adaptive = parse_adaptive_fields(value)?;
    let question = questions.iter().find(|question| question.name == adaptive.question);
    ensure(matches!(question.map(|question| &question.settings), Some(QuestionSettings::Ranking { .. })), || {
        format!("adaptive.question `{}` is not a ranking question of the dataset", adaptive.question)
    })?;
    Ok(adaptive)
}

fn parse_adaptive_fields(value: &Value) -> Result<AdaptiveSettings, ValidationError> {
    let object = value.as_object().ok_or_else(|| ValidationError::new("adaptive must be an object or null"))?;
    let question = object
        .get("question")
        .and_then(Value::as_str)
        .ok_or_else(|| ValidationError::new("adaptive.question must name the ranking question"))?
        .to_owned();
    let min = whole(object, "adaptive", "min")?.unwrap_or(2);
    let max = whole(object, "adaptive", "max")?.unwrap_or(5);
    let confidence = fraction(object, "adaptive", "confidence")?.unwrap_or(0.85);
    ensure(min >= 1, || "adaptive.min must be at least 1".into())?;
    ensure(max >= min, || format!("adaptive.max ({max}) must be at least adaptive.min ({min})"))?;
    ensure(max <= MAX_ADAPTIVE_JUDGMENTS, || format!("adaptive.max must be at most {MAX_ADAPTIVE_JUDGMENTS}"))?;
    ensure(confidence > 0.5 && confidence < 1.0, || "adaptive.confidence must be between 0.5 and 1 (both excluded)".into())?;
    Ok(AdaptiveSettings { question, min, max, confidence })
}

fn parse_gold(value: &Value) -> Result<GoldSettings, ValidationError> {
    let object = value.as_object().ok_or_else(|| ValidationError::new("gold must be an object or null"))?;
    let defaults = GoldSettings::default();
    let rate = fraction(object, "gold", "rate")?.unwrap_or(defaults.rate);
    let threshold = fraction(object, "gold", "threshold")?.unwrap_or(defaults.threshold);
    let certainty = fraction(object, "gold", "certainty")?.unwrap_or(defaults.certainty);
    let min_answers = whole(object, "gold", "min_answers")?.unwrap_or(defaults.min_answers);
    let pause = match object.get("pause") {
        None | Some(Value::Null) => defaults.pause,
        Some(Value::Bool(pause)) => *pause,
        Some(_) => return Err(ValidationError::new("gold.pause must be a boolean")),
    };
    ensure(rate > 0.0 && rate <= 0.5, || "gold.rate must be above 0 and at most 0.5".into())?;
    ensure(threshold > 0.0 && threshold < 1.0, || "gold.threshold must be between 0 and 1 (both excluded)".into())?;
    ensure((0.5..1.0).contains(&certainty), || "gold.certainty must be at least 0.5 and below 1".into())?;
    ensure(min_answers >= 1, || "gold.min_answers must be at least 1".into())?;
    Ok(GoldSettings { rate, threshold, min_answers, certainty, pause })
}

fn parse_repeats(value: &Value) -> Result<RepeatSettings, ValidationError> {
    let object = value.as_object().ok_or_else(|| ValidationError::new("repeats must be an object or null"))?;
    let rate = fraction(object, "repeats", "rate")?.unwrap_or(0.05);
    ensure(rate > 0.0 && rate <= 0.3, || "repeats.rate must be above 0 and at most 0.3".into())?;
    Ok(RepeatSettings { rate })
}

fn whole(object: &Map<String, Value>, section: &str, key: &str) -> Result<Option<u32>, ValidationError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|value| u32::try_from(value).ok())
            .map(Some)
            .ok_or_else(|| ValidationError::new(format!("{section}.{key} must be a whole number"))),
    }
}

fn fraction(object: &Map<String, Value>, section: &str, key: &str) -> Result<Option<f64>, ValidationError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_f64().filter(|value| value.is_finite()).map(Some).ok_or_else(|| ValidationError::new(format!("{section}.{key} must be a number"))),
    }
}

/// What a gold record's answer must say.
#[derive(Debug, Clone, PartialEq)]
pub enum GoldVerdict {
    /// A ranking question must rank `chosen` above `rejected`.
    Prefers { question: String, chosen: String, rejected: String },
    /// A label or rating question must be answered `value`.
    Is { question: String, value: Value },
}

impl GoldVerdict {
    /// Reads `{"question": q, "chosen": a, "rejected": b}` or `{"question": q, "value": v}`,
    /// checked against the dataset's questions.
    pub fn from_json(value: &Value, questions: &[Question]) -> Result<Self, ValidationError> {
        let verdict = Self::from_stored(value)?;
        let name = verdict.question();
        let question = questions.iter().find(|question| question.name == name).ok_or_else(|| ValidationError::new(format!("gold question `{name}` is not a question of the dataset")))?;
        match (&verdict, &question.settings) {
            (Self::Prefers { chosen, rejected, .. }, QuestionSettings::Ranking { options }) => {
                ensure(chosen != rejected, || "gold `chosen` and `rejected` must differ".into())?;
                for option in [chosen, rejected] {
                    ensure(options.iter().any(|known| &known.value == option), || format!("`{option}` is not an option of ranking question `{name}`"))?;
                }
            }
            (Self::Is { value, .. }, QuestionSettings::LabelSelection { options, .. }) => {
                ensure(value.as_str().is_some_and(|label| options.iter().any(|known| known.value == label)), || format!("gold value must be a label of question `{name}`"))?;
            }
            (Self::Is { value, .. }, QuestionSettings::Rating { values }) => {
                ensure(value.as_i64().is_some_and(|rating| values.contains(&rating)), || format!("gold value must be a rating of question `{name}`"))?;
            }
            (Self::Prefers { .. }, _) => return Err(ValidationError::new(format!("gold `chosen`/`rejected` need a ranking question; `{name}` is not one"))),
            (Self::Is { .. }, _) => return Err(ValidationError::new(format!("a gold `value` needs a label or rating question; `{name}` is neither"))),
        }
        Ok(verdict)
    }

    /// Reads the JSON form without checking it against questions (stored verdicts were).
    pub fn from_stored(value: &Value) -> Result<Self, ValidationError> {
        let object = value.as_object().ok_or_else(|| ValidationError::new("a gold verdict must be an object"))?;
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
        let question = text("question").ok_or_else(|| ValidationError::new("a gold verdict needs a `question`"))?;
        match (text("chosen"), text("rejected"), object.get("value").filter(|value| !value.is_null())) {
            (Some(chosen), Some(rejected), None) => Ok(Self::Prefers { question, chosen, rejected }),
            (None, None, Some(value)) => Ok(Self::Is { question, value: value.clone() }),
            _ => Err(ValidationError::new("a gold verdict needs either `chosen` and `rejected` (a ranking) or `value` (a label or rating)")),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Self::Prefers { question, chosen, rejected } => json!({"question": question, "chosen": chosen, "rejected": rejected}),
            Self::Is { question, value } => json!({"question": question, "value": value}),
        }
    }

    pub fn question(&self) -> &str {
        match self {
            Self::Prefers { question, .. } | Self::Is { question, .. } => question,
        }
    }

    /// Whether an answer's values say what the verdict expects: `None` when the answer does not
    /// answer the question (it counts neither way). A tie between `chosen` and `rejected` is wrong.
    pub fn judge(&self, values: &Map<String, Value>) -> Option<bool> {
        let answer = values.get(self.question())?.get("value")?;
        match self {
            Self::Prefers { chosen, rejected, .. } => {
                let ranking = Ranking::parse(answer).ok()?;
                let rank = |option: &str| ranking.entries().iter().find(|entry| entry.value == option).and_then(|entry| entry.rank);
                Some(rank(chosen)? < rank(rejected)?)
            }
            Self::Is { value, .. } => Some(answer == value),
        }
    }
}

/// One labeler's verdict on one pair of a ranking's options, `first` and `second` in name order:
/// `Some(true)` when `first` is ranked above `second`, `None` a tie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairVerdict {
    pub first: String,
    pub second: String,
    pub first_wins: Option<bool>,
}

/// The verdicts a ranking answer gives on every pair of the options it ranks; empty when the
/// answer does not rank the question.
pub fn pair_verdicts(values: &Map<String, Value>, question: &str) -> Vec<PairVerdict> {
    let Some(ranking) = values.get(question).and_then(|answer| answer.get("value")).and_then(|value| Ranking::parse(value).ok()) else {
        return Vec::new();
    };
    let mut ranked: Vec<(&str, u32)> = ranking.entries().iter().filter_map(|entry| Some((entry.value.as_str(), entry.rank?))).collect();
    ranked.sort_unstable();
    let mut verdicts = Vec::with_capacity(ranked.len() * ranked.len().saturating_sub(1) / 2);
    for (index, (first, first_rank)) in ranked.iter().enumerate() {
        for (second, second_rank) in &ranked[index + 1..] {
            let first_wins = (first_rank != second_rank).then_some(first_rank < second_rank);
            verdicts.push(PairVerdict { first: (*first).to_owned(), second: (*second).to_owned(), first_wins });
        }
    }
    verdicts
}

/// Whether the labeler's next record should be a gold one, given the records they have answered
/// in the dataset: a draw that is the same for the same (labeler, count) and uniform across them,
/// so about `rate` of their records are gold, at places nobody can foresee.
pub fn gold_is_due(user: UserId, answered: u64, rate: f64) -> bool {
    draw(user, answered, GOLD_SALT) < rate
}

/// Whether the labeler's next record in the web UI should be a swapped repeat: the same kind of
/// draw as [`gold_is_due`], drawn apart from it.
pub fn repeat_is_due(user: UserId, answered: u64, rate: f64) -> bool {
    draw(user, answered, REPEAT_SALT) < rate
}

const GOLD_SALT: u128 = 0;
const REPEAT_SALT: u128 = 0x5EED_0F4E_9E47;

/// Uniform in [0, 1), fixed by (labeler, count, salt).
fn draw(user: UserId, answered: u64, salt: u128) -> f64 {
    let mut state = crate::presentation::seed_of(user.uuid().as_u128() ^ u128::from(answered).rotate_left(64) ^ salt.rotate_left(32));
    (crate::presentation::mix(&mut state) >> 11) as f64 / (1u64 << 53) as f64
}

/// How far a repeat agrees with the first answer on a ranking question: the share of option pairs
/// with the same verdict (a tie agrees only with a tie). `None` when either does not rank it.
pub fn consistency(first: &Map<String, Value>, repeat: &Map<String, Value>, question: &str) -> Option<f64> {
    let (first, repeat) = (pair_verdicts(first, question), pair_verdicts(repeat, question));
    if first.is_empty() || repeat.is_empty() {
        return None;
    }
    let agreeing = first.iter().filter(|verdict| repeat.iter().any(|other| other.first == verdict.first && other.second == verdict.second && other.first_wins == verdict.first_wins)).count();
    Some(agreeing as f64 / first.len().max(repeat.len()) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DatasetId, QuestionId};
    use crate::question::QuestionOption;
    use crate::time::Timestamp;

    fn question(name: &str, settings: QuestionSettings) -> Question {
        let now = Timestamp::now();
        Question { id: QuestionId::new(), name: name.into(), title: name.into(), description: None, required: true, settings, dataset_id: DatasetId::new(), inserted_at: now, updated_at: now }
    }

    fn questions() -> Vec<Question> {
        let options = |names: &[&str]| names.iter().map(|name| QuestionOption { value: (*name).into(), text: (*name).into(), description: None }).collect::<Vec<_>>();
        vec![
            question("preference", QuestionSettings::Ranking { options: options(&["response-1", "response-2", "response-3"]) }),
            question("safe", QuestionSettings::LabelSelection { options: options(&["yes", "no"]), visible_options: None }),
            question("score", QuestionSettings::Rating { values: vec![1, 2, 3] }),
        ]
    }

    fn ranked(ranks: &[(&str, u32)]) -> Map<String, Value> {
        let value: Vec<Value> = ranks.iter().map(|(option, rank)| json!({"value": option, "rank": rank})).collect();
        json!({"preference": {"value": value}}).as_object().unwrap().clone()
    }

    #[test]
    fn settings_read_with_defaults_and_round_trip() {
        let settings = QualitySettings::from_json(&json!({"adaptive": {"question": "preference", "max": 4}, "gold": {"pause": true}, "extra": 1}), &questions()).unwrap();
        let adaptive = settings.adaptive.clone().unwrap();
        assert_eq!((adaptive.min, adaptive.max, adaptive.confidence), (2, 4, 0.85));
        assert_eq!(settings.gold, Some(GoldSettings { pause: true, ..GoldSettings::default() }));
        assert_eq!(QualitySettings::from_stored(&settings.to_json().to_string()).unwrap(), settings);
        assert_eq!(settings.first_target(3), 2);
        assert_eq!(QualitySettings::default().first_target(3), 3);
        assert!(!QualitySettings::from_json(&json!({}), &questions()).unwrap().is_on());
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        let error = |value: Value| QualitySettings::from_json(&value, &questions()).unwrap_err().to_string();
        assert!(error(json!({"adaptive": {"question": "safe"}})).contains("not a ranking question"));
        assert!(error(json!({"adaptive": {"question": "preference", "min": 3, "max": 2}})).contains("at least adaptive.min"));
        assert!(error(json!({"adaptive": {"question": "preference", "confidence": 1.0}})).contains("adaptive.confidence"));
        assert!(error(json!({"gold": {"rate": 0.9}})).contains("gold.rate"));
        assert!(error(json!({"gold": {"pause": "yes"}})).contains("gold.pause"));
        assert!(error(json!([])).contains("must be an object"));
    }

    #[test]
    fn gold_verdicts_are_checked_against_the_questions_and_judge_answers() {
        let prefers = GoldVerdict::from_json(&json!({"question": "preference", "chosen": "response-2", "rejected": "response-1"}), &questions()).unwrap();
        assert_eq!(prefers.judge(&ranked(&[("response-1", 2), ("response-2", 1), ("response-3", 3)])), Some(true));
        assert_eq!(prefers.judge(&ranked(&[("response-1", 1), ("response-2", 2), ("response-3", 3)])), Some(false));
        assert_eq!(prefers.judge(&ranked(&[("response-1", 1), ("response-2", 1), ("response-3", 2)])), Some(false), "a tie is not the verdict");
        assert_eq!(prefers.judge(&Map::new()), None);
        assert_eq!(GoldVerdict::from_stored(&prefers.to_json()).unwrap(), prefers);

        let label = GoldVerdict::from_json(&json!({"question": "safe", "value": "no"}), &questions()).unwrap();
        assert_eq!(label.judge(json!({"safe": {"value": "no"}}).as_object().unwrap()), Some(true));
        assert_eq!(label.judge(json!({"safe": {"value": "yes"}}).as_object().unwrap()), Some(false));

        let error = |value: Value| GoldVerdict::from_json(&value, &questions()).unwrap_err().to_string();
        assert!(error(json!({"question": "preference", "chosen": "response-9", "rejected": "response-1"})).contains("not an option"));
        assert!(error(json!({"question": "preference", "chosen": "response-1", "rejected": "response-1"})).contains("must differ"));
        assert!(error(json!({"question": "safe", "value": "maybe"})).contains("a label"));
        assert!(error(json!({"question": "score", "value": 7})).contains("a rating"));
        assert!(error(json!({"question": "safe", "chosen": "yes", "rejected": "no"})).contains("need a ranking question"));
        assert!(error(json!({"question": "nope", "value": 1})).contains("not a question"));
        assert!(error(json!({"question": "preference"})).contains("either"));
    }

    #[test]
    fn a_ranking_gives_a_verdict_on_every_pair_in_name_order() {
        let verdicts = pair_verdicts(&ranked(&[("response-3", 1), ("response-1", 2), ("response-2", 2)]), "preference");
        let seen: Vec<(&str, &str, Option<bool>)> = verdicts.iter().map(|verdict| (verdict.first.as_str(), verdict.second.as_str(), verdict.first_wins)).collect();
        assert_eq!(seen, [("response-1", "response-2", None), ("response-1", "response-3", Some(false)), ("response-2", "response-3", Some(false))]);
        assert!(pair_verdicts(&Map::new(), "preference").is_empty());
    }

    #[test]
    fn repeats_read_with_their_default_and_measure_consistency() {
        let settings = QualitySettings::from_json(&json!({"repeats": {}}), &questions()).unwrap();
        assert_eq!(settings.repeats, Some(RepeatSettings { rate: 0.05 }));
        assert!(settings.is_on());
        assert_eq!(QualitySettings::from_stored(&settings.to_json().to_string()).unwrap(), settings);
        assert!(QualitySettings::from_json(&json!({"repeats": {"rate": 0.9}}), &questions()).unwrap_err().to_string().contains("repeats.rate"));
        let first = ranked(&[("response-1", 1), ("response-2", 2), ("response-3", 3)]);
        assert_eq!(consistency(&first, &first, "preference"), Some(1.0));
        let one_swap = ranked(&[("response-1", 2), ("response-2", 1), ("response-3", 3)]);
        assert!((consistency(&first, &one_swap, "preference").unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(consistency(&first, &Map::new(), "preference"), None);
        let user = UserId::new();
        let apart = (0..2_000).filter(|&answered| gold_is_due(user, answered, 0.5) != repeat_is_due(user, answered, 0.5)).count();
        assert!(apart > 800, "gold and repeat draws are independent: {apart} of 2,000 differ");
    }

    #[test]
    fn gold_comes_at_about_its_rate_and_differs_between_labelers() {
        let (first, second) = (UserId::new(), UserId::new());
        let due = |user: UserId| (0..10_000).filter(|&answered| gold_is_due(user, answered, 0.1)).count();
        for user in [first, second] {
            let count = due(user);
            assert!((850..1150).contains(&count), "{count} of 10,000");
        }
        let pattern = |user: UserId| (0..200).map(|answered| gold_is_due(user, answered, 0.1)).collect::<Vec<_>>();
        assert_ne!(pattern(first), pattern(second));
        assert_eq!(pattern(first), pattern(first));
    }
}
