//! Quality control while collecting (owners and admins): a dataset's settings (adaptive overlap,
//! gold records), its gold records and their verdicts, and where each labeler stands by their
//! gold answers, with the pause and its lifting. The rules are `juror_core::quality` and
//! `juror_prefs::quality`; the store applies them inside the labeling loop.

use std::collections::{HashMap, HashSet};

use juror_core::audit::AuditAction;
use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::quality::{GoldVerdict, QualitySettings};
use juror_core::time::Timestamp;
use juror_store::GoldStanding;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::App;

/// Where one labeler stands by their gold answers in a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelerQuality {
    pub user: UserId,
    pub username: String,
    pub standing: GoldStanding,
    /// Share of gold answers that were right, and its 95% Wilson interval.
    pub accuracy: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// Flagged by the dataset's rule (on their answers since they were last let go on).
    pub flagged: bool,
    /// Flagged in a dataset that pauses flagged labelers: they get no records and their answers
    /// are refused until an owner lets them go on.
    pub paused: bool,
}

/// A dataset's quality-control figures, for the preference report.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityFigures {
    pub settings: QualitySettings,
    pub gold_records: usize,
    /// Each labeler who answered a gold record.
    pub labelers: Vec<LabelerQuality>,
    /// Under adaptive overlap: what the same records would have taken at a fixed overlap of
    /// `max`, and how many judgments that saved.
    pub adaptive: Option<AdaptiveFigures>,
    /// Each labeler's self-consistency over their swapped repeats, and the dataset's.
    pub consistency: Vec<crate::repeats::LabelerConsistency>,
    pub overall_consistency: Option<f64>,
    /// Records given a reviewer's final verdict.
    pub adjudicated: usize,
}

/// What adaptive overlap saved on a dataset's records so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveFigures {
    pub judgments: usize,
    pub records: usize,
    pub fixed_at_max: usize,
    pub saved: usize,
}

/// The z of a 95% interval.
const Z_95: f64 = 1.96;

/// The message a paused labeler gets.
pub const PAUSED: &str = "You are paused in this dataset: too many of your answers to check records disagreed with the expected verdict. An owner can let you go on.";

impl App {
    /// The dataset's quality settings.
    pub async fn dataset_quality(&self, caller: &Caller, id: DatasetId) -> AppResult<QualitySettings> {
        self.dataset_for(caller, id, Action::Manage).await?;
        Ok(self.store.dataset_quality(id).await?)
    }

    /// Replaces the dataset's quality settings (their JSON form, checked against its questions);
    /// records' targets follow at once.
    pub async fn set_dataset_quality(&self, caller: &Caller, id: DatasetId, settings: &Value) -> AppResult<QualitySettings> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let schema = self.schema(id).await?;
        let settings = QualitySettings::from_json(settings, &schema.questions)?;
        self.store.set_dataset_quality(id, &settings).await?;
        self.limited_datasets.forget(&id);
        self.quality_settings.forget(&id);
        self.audit(Some(caller), AuditAction::QualitySet, "dataset", id, settings.to_json()).await;
        Ok(settings)
    }

    /// Makes records gold with their expected verdicts (JSON, checked against the questions); a
    /// record already gold takes the new verdict. Each item names its record by external id or id
    /// (`(external_id, id, verdict)`). Nothing is stored if any item is wrong.
    pub async fn set_gold(&self, caller: &Caller, id: DatasetId, items: Vec<(Option<String>, Option<RecordId>, Value)>) -> AppResult<usize> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let schema = self.schema(id).await?;
        let keys: Vec<(Option<String>, Option<RecordId>)> = items.iter().map(|(external_id, record, _)| (external_id.clone(), *record)).collect();
        let found = self.store.resolve_records(id, &keys).await?;
        let mut gold = Vec::with_capacity(items.len());
        for (index, ((external_id, record, verdict), found)) in items.into_iter().zip(found).enumerate() {
            let Some(record) = found else {
                let named = external_id.map_or_else(|| format!("id `{}`", record.map(|record| record.to_string()).unwrap_or_default()), |external| format!("external id `{external}`"));
                return Err(AppError::Invalid(format!("item {index}: no record with {named} in dataset `{id}`")));
            };
            let verdict = GoldVerdict::from_json(&verdict, &schema.questions).map_err(|error| AppError::Invalid(format!("item {index}: {error}")))?;
            gold.push((record, verdict));
        }
        self.store.set_gold(id, &gold).await?;
        self.audit(Some(caller), AuditAction::GoldSet, "dataset", id, json!({"records": gold.len()})).await;
        Ok(gold.len())
    }

    /// Makes records ordinary again; how many were gold.
    pub async fn unset_gold(&self, caller: &Caller, id: DatasetId, records: Vec<RecordId>) -> AppResult<u64> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let removed = self.store.unset_gold(id, &records).await?;
        self.audit(Some(caller), AuditAction::GoldUnset, "dataset", id, json!({"records": removed})).await;
        Ok(removed)
    }

    /// The dataset's gold records and their verdicts.
    pub async fn list_gold(&self, caller: &Caller, id: DatasetId) -> AppResult<Vec<(RecordId, GoldVerdict)>> {
        self.dataset_for(caller, id, Action::Manage).await?;
        Ok(self.store.list_gold(id).await?)
    }

    /// The dataset's quality settings, trusted for a second.
    pub(crate) async fn quality_of(&self, id: DatasetId) -> AppResult<QualitySettings> {
        if let Some(settings) = self.quality_settings.get(&id) {
            return Ok(settings);
        }
        let settings = self.store.dataset_quality(id).await?;
        self.quality_settings.put(id, settings.clone());
        Ok(settings)
    }

    /// The ids of the dataset's gold records, which exports and agreement figures leave out.
    pub(crate) async fn gold_records(&self, id: DatasetId) -> AppResult<HashSet<RecordId>> {
        Ok(self.store.list_gold(id).await?.into_iter().map(|(record, _)| record).collect())
    }

    /// Where each labeler who answered a gold record stands, by username.
    pub async fn labeler_quality(&self, caller: &Caller, id: DatasetId) -> AppResult<Vec<LabelerQuality>> {
        self.dataset_for(caller, id, Action::Manage).await?;
        let settings = self.store.dataset_quality(id).await?;
        let gold = settings.gold.unwrap_or_default();
        let usernames: HashMap<UserId, String> = self.store.list_users().await?.into_iter().map(|user| (user.id, user.username)).collect();
        let mut labelers: Vec<LabelerQuality> = self
            .store
            .gold_standings(id)
            .await?
            .into_iter()
            .map(|(user, standing)| LabelerQuality {
                user,
                username: usernames.get(&user).cloned().unwrap_or_else(|| user.to_string()),
                accuracy: standing.all.observed(),
                interval: standing.all.interval(Z_95),
                flagged: standing.is_flagged(&gold),
                paused: standing.is_paused(&gold),
                standing,
            })
            .collect();
        labelers.sort_by(|left, right| left.username.cmp(&right.username));
        Ok(labelers)
    }

    /// The quality figures of a dataset whose preference report counted `judgments` on `records`
    /// (gold records left out), with self-consistency on the ranking `question`.
    pub(crate) async fn quality_figures(&self, caller: &Caller, id: DatasetId, question: &str, judgments: usize, records: usize) -> AppResult<QualityFigures> {
        let settings = self.store.dataset_quality(id).await?;
        let adaptive = settings.adaptive.as_ref().map(|adaptive| {
            let fixed_at_max = records * adaptive.max as usize;
            AdaptiveFigures { judgments, records, fixed_at_max, saved: fixed_at_max.saturating_sub(judgments) }
        });
        let (consistency, overall_consistency) = self.consistency_figures(id, question).await?;
        let adjudicated = self.store.list_adjudications(id).await?.len();
        Ok(QualityFigures { gold_records: self.store.list_gold(id).await?.len(), labelers: self.labeler_quality(caller, id).await?, adaptive, consistency, overall_consistency, adjudicated, settings })
    }

    /// Lets a labeler paused by their gold answers go on: only gold answers from now on can pause
    /// them again.
    pub async fn resume_labeler(&self, caller: &Caller, id: DatasetId, user: UserId) -> AppResult<()> {
        self.dataset_for(caller, id, Action::Manage).await?;
        self.store.get_user(user).await?.ok_or_else(|| AppError::NotFound(format!("User with id `{user}` not found")))?;
        self.store.resume_labeler(id, user, Timestamp::now()).await?;
        self.audit(Some(caller), AuditAction::LabelerResumed, "dataset", id, json!({"user_id": user.to_string()})).await;
        Ok(())
    }

    /// Whether the labeler is paused in the dataset, to tell them why no record comes.
    pub(crate) async fn is_paused(&self, user: UserId, dataset: DatasetId) -> AppResult<bool> {
        let Some(gold) = self.quality_of(dataset).await?.gold.filter(|gold| gold.pause) else { return Ok(false) };
        Ok(self.store.gold_standing(dataset, user).await?.is_paused(&gold))
    }
}
