//! Quality control's bodies: a dataset's settings, its gold records, and each labeler's standing
//! by their gold answers.

use juror_app::LabelerQuality;
use juror_core::ids::RecordId;
use juror_core::quality::{GoldVerdict, QualitySettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A dataset's quality controls; `null` is off.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QualityJson {
    pub adaptive: Option<AdaptiveJson>,
    pub gold: Option<GoldSettingsJson>,
    pub repeats: Option<RepeatsJson>,
}

/// Swapped repeats in the web UI: about `rate` of each labeler's records (default 0.05, at most
/// 0.3) are ones they answered before, shown the other way round.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RepeatsJson {
    pub rate: Option<f64>,
}

/// Adaptive overlap: at least `min` judgments per record, then more while any pair of options of
/// the ranking `question` is less likely than `confidence` to go one way, at most `max`.
/// Defaults: min 2, max 5, confidence 0.85.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdaptiveJson {
    pub question: String,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub confidence: Option<f64>,
}

/// Gold records served at `rate` (of each labeler's records); a labeler is flagged when their gold
/// accuracy is below `threshold` with `certainty`, after `min_answers` gold answers, and with
/// `pause` gets nothing more until an owner lets them go on. Defaults: 0.1, 0.7, 14, 0.8, false.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GoldSettingsJson {
    pub rate: Option<f64>,
    pub threshold: Option<f64>,
    pub min_answers: Option<u32>,
    pub certainty: Option<f64>,
    pub pause: Option<bool>,
}

pub fn quality(settings: &QualitySettings) -> QualityJson {
    QualityJson {
        adaptive: settings.adaptive.as_ref().map(|adaptive| AdaptiveJson {
            question: adaptive.question.clone(),
            min: Some(adaptive.min),
            max: Some(adaptive.max),
            confidence: Some(adaptive.confidence),
        }),
        gold: settings.gold.as_ref().map(|gold| GoldSettingsJson {
            rate: Some(gold.rate),
            threshold: Some(gold.threshold),
            min_answers: Some(gold.min_answers),
            certainty: Some(gold.certainty),
            pause: Some(gold.pause),
        }),
        repeats: settings.repeats.as_ref().map(|repeats| RepeatsJson { rate: Some(repeats.rate) }),
    }
}

/// What a gold record's answers must say: `{"question", "chosen", "rejected"}` for a ranking, or
/// `{"question", "value"}` for a label or a rating.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerdictJson {
    pub question: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
}

/// A gold record and its verdict.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GoldRecordJson {
    pub record_id: String,
    pub verdict: VerdictJson,
}

pub fn gold_record((record, verdict): &(RecordId, GoldVerdict)) -> GoldRecordJson {
    let verdict = match verdict {
        GoldVerdict::Prefers { question, chosen, rejected } => VerdictJson { question: question.clone(), chosen: Some(chosen.clone()), rejected: Some(rejected.clone()), value: None },
        GoldVerdict::Is { question, value } => VerdictJson { question: question.clone(), chosen: None, rejected: None, value: Some(value.clone()) },
    };
    GoldRecordJson { record_id: record.to_string(), verdict }
}

/// How many records a change touched.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountJson {
    pub count: u64,
}

/// Where a labeler stands by their gold answers: all of them (with the share right and its 95%
/// Wilson interval), those since an owner last let them go on (which alone can flag them), and
/// whether they are flagged or paused.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabelerQualityJson {
    pub user_id: String,
    pub username: String,
    pub gold_answered: u32,
    pub gold_correct: u32,
    pub accuracy: Option<f64>,
    pub accuracy_interval: Option<[f64; 2]>,
    pub answered_since_resume: u32,
    pub correct_since_resume: u32,
    pub resumed_at: Option<String>,
    pub flagged: bool,
    pub paused: bool,
}

pub fn labeler_quality(labeler: &LabelerQuality) -> LabelerQualityJson {
    let standing = &labeler.standing;
    LabelerQualityJson {
        user_id: labeler.user.to_string(),
        username: labeler.username.clone(),
        gold_answered: standing.all.answered,
        gold_correct: standing.all.correct,
        accuracy: labeler.accuracy,
        accuracy_interval: labeler.interval.map(|(low, high)| [low, high]),
        answered_since_resume: standing.since_resume.answered,
        correct_since_resume: standing.since_resume.correct,
        resumed_at: standing.resumed_at.map(|at| at.to_naive_iso()),
        flagged: labeler.flagged,
        paused: labeler.paused,
    }
}

/// A reviewer's final verdict on a record: the value of its preference `question`, with a note.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdjudicationJson {
    pub record_id: String,
    pub question: String,
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    pub note: Option<String>,
    pub reviewer_id: String,
    pub reviewer: String,
    pub decided_at: String,
}

pub fn adjudication(adjudication: &juror_app::Adjudication) -> AdjudicationJson {
    AdjudicationJson {
        record_id: adjudication.record.to_string(),
        question: adjudication.question.clone(),
        value: adjudication.verdict.clone(),
        note: adjudication.note.clone(),
        reviewer_id: adjudication.reviewer.to_string(),
        reviewer: adjudication.reviewer_name.clone(),
        decided_at: adjudication.decided_at.to_naive_iso(),
    }
}

/// A record in dispute: why (`split`, `cycle`, `failed_repeat`, `flagged_labeler`), its submitted
/// judgments, and the verdict if one was given.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputedRecordJson {
    pub record_id: String,
    pub external_id: Option<String>,
    pub disputes: Vec<&'static str>,
    pub judgments: usize,
    pub adjudication: Option<AdjudicationJson>,
}

pub fn disputed_record(disputed: &juror_app::DisputedRecord) -> DisputedRecordJson {
    DisputedRecordJson {
        record_id: disputed.record.id.to_string(),
        external_id: disputed.record.external_id.clone(),
        disputes: disputed.disputes.iter().map(|dispute| dispute.as_str()).collect(),
        judgments: disputed.judgments,
        adjudication: disputed.adjudication.as_ref().map(adjudication),
    }
}

/// A user with the reviewer right in a dataset.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewerJson {
    pub user_id: String,
}
