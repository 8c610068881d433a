//! The preference metrics report: judgments, agreement and bias of a dataset's rankings.

use juror_app::{PreferenceKind, PreferenceReport};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementJson {
    pub krippendorff_alpha_ordinal: Option<f64>,
    pub percent: Option<f64>,
}

/// A labeler's agreement with the resolved verdicts.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabelerAgreementJson {
    pub username: String,
    pub compared: usize,
    pub agreement: f64,
}

/// Whether the longer response wins more than half the time.
#[derive(Debug, Serialize, ToSchema)]
pub struct LengthBiasJson {
    pub pairs: usize,
    pub longer_wins_rate: f64,
    pub z: f64,
    pub flagged: bool,
    pub mean_chosen_length: f64,
    pub mean_rejected_length: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelerPositionJson {
    pub username: String,
    pub judgments: usize,
    pub first_shown_wins_rate: f64,
    pub z: f64,
    pub flagged: bool,
}

/// Whether the first-shown response wins more than chance (web UI judgments).
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionBiasJson {
    pub judgments: usize,
    pub first_shown_wins_rate: f64,
    pub z: f64,
    pub flagged: bool,
    pub labelers: Vec<LabelerPositionJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelerTimeJson {
    pub username: String,
    pub timed: usize,
    pub median_ms: f64,
    pub flagged: bool,
}

/// Time on task per labeler, the implausibly quick flagged.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeOnTaskJson {
    pub crowd_median_ms: Option<f64>,
    pub labelers: Vec<LabelerTimeJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreferenceMetricsJson {
    pub question: String,
    /// `ranking` or `pair_rating`.
    pub kind: &'static str,
    pub prompt_field: String,
    pub response_fields: Vec<String>,
    pub judgments: usize,
    pub records: usize,
    pub unreadable: usize,
    pub pairs: usize,
    pub ties: usize,
    /// Records whose resolved verdicts form a cycle (A over B, B over C, C over A).
    pub cycles: usize,
    /// The first 100 of those records' ids.
    pub cyclic_records: Vec<String>,
    pub agreement: AgreementJson,
    pub labelers: Vec<LabelerAgreementJson>,
    pub length_bias: LengthBiasJson,
    pub position_bias: PositionBiasJson,
    pub time_on_task: TimeOnTaskJson,
    pub quality: QualityFiguresJson,
    /// Labelers' agreement with a reward model's suggested rankings (from `juror score
    /// --as-suggestions`, on records the model was not trained on); null when there are none.
    pub reward_model: Option<RewardModelAgreementJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardModelAgreementJson {
    /// The suggestions' agents: `juror-reward-model/NAME`.
    pub agents: Vec<String>,
    /// Records with both a model suggestion and a submitted answer.
    pub records: usize,
    /// The share of compared pairs on which labelers and model agree.
    pub agreement: f64,
    pub labelers: Vec<LabelerAgreementJson>,
}

/// Quality control while collecting: the settings, gold records, each labeler's gold standing,
/// and under adaptive overlap the judgments it saved against a fixed overlap of `max`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QualityFiguresJson {
    pub settings: super::QualityJson,
    pub gold_records: usize,
    pub labelers: Vec<super::LabelerQualityJson>,
    pub flagged: usize,
    pub paused: usize,
    pub adaptive: Option<AdaptiveFiguresJson>,
    /// Self-consistency over swapped repeats: per labeler, and the dataset's mean.
    pub consistency: Vec<LabelerConsistencyJson>,
    pub overall_consistency: Option<f64>,
    /// Records given a reviewer's final verdict.
    pub adjudicated: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelerConsistencyJson {
    pub username: String,
    pub repeats: usize,
    pub consistency: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdaptiveFiguresJson {
    pub judgments: usize,
    pub records: usize,
    pub fixed_at_max: usize,
    pub saved: usize,
}

fn quality_figures(figures: &juror_app::QualityFigures) -> QualityFiguresJson {
    QualityFiguresJson {
        settings: super::quality(&figures.settings),
        gold_records: figures.gold_records,
        labelers: figures.labelers.iter().map(super::labeler_quality).collect(),
        flagged: figures.labelers.iter().filter(|labeler| labeler.flagged).count(),
        paused: figures.labelers.iter().filter(|labeler| labeler.paused).count(),
        adaptive: figures.adaptive.map(|adaptive| AdaptiveFiguresJson { judgments: adaptive.judgments, records: adaptive.records, fixed_at_max: adaptive.fixed_at_max, saved: adaptive.saved }),
        consistency: figures.consistency.iter().map(|labeler| LabelerConsistencyJson { username: labeler.username.clone(), repeats: labeler.repeats, consistency: labeler.consistency }).collect(),
        overall_consistency: figures.overall_consistency,
        adjudicated: figures.adjudicated,
    }
}

fn labeler_agreement(labeler: &juror_app::LabelerSummary) -> LabelerAgreementJson {
    LabelerAgreementJson { username: labeler.username.clone(), compared: labeler.compared, agreement: labeler.agreement }
}

pub fn preference_metrics(report: &PreferenceReport) -> PreferenceMetricsJson {
    let settings = &report.settings;
    let length = &report.length_bias;
    let position = &report.position_bias;
    PreferenceMetricsJson {
        question: settings.question.clone(),
        kind: match settings.kind {
            PreferenceKind::Ranking => "ranking",
            PreferenceKind::PairRating => "pair_rating",
        },
        prompt_field: settings.prompt_field.clone(),
        response_fields: settings.responses.clone(),
        judgments: report.judgments,
        records: report.records_with_judgments,
        unreadable: report.unreadable,
        pairs: report.pairs,
        ties: report.ties,
        cycles: report.cycles,
        cyclic_records: report.cyclic_records.clone(),
        agreement: AgreementJson { krippendorff_alpha_ordinal: report.alpha, percent: report.percent_agreement },
        labelers: report.labelers.iter().map(labeler_agreement).collect(),
        reward_model: report.reward_model.as_ref().map(|model| RewardModelAgreementJson {
            agents: model.agents.clone(),
            records: model.records,
            agreement: model.overall,
            labelers: model.labelers.iter().map(labeler_agreement).collect(),
        }),
        length_bias: LengthBiasJson {
            pairs: length.pairs,
            longer_wins_rate: length.test.rate,
            z: length.test.z,
            flagged: length.test.flagged,
            mean_chosen_length: length.mean_chosen_length,
            mean_rejected_length: length.mean_rejected_length,
        },
        position_bias: PositionBiasJson {
            judgments: position.overall.observations,
            first_shown_wins_rate: position.overall.rate,
            z: position.overall.z,
            flagged: position.overall.flagged,
            labelers: position
                .labelers
                .iter()
                .map(|labeler| LabelerPositionJson { username: labeler.labeler.clone(), judgments: labeler.test.observations, first_shown_wins_rate: labeler.test.rate, z: labeler.test.z, flagged: labeler.test.flagged })
                .collect(),
        },
        quality: quality_figures(&report.quality),
        time_on_task: TimeOnTaskJson {
            crowd_median_ms: report.time_on_task.crowd_median_ms,
            labelers: report.time_on_task.labelers.iter().map(|labeler| LabelerTimeJson { username: labeler.labeler.clone(), timed: labeler.timed, median_ms: labeler.median_ms, flagged: labeler.flag.is_some() }).collect(),
        },
    }
}
