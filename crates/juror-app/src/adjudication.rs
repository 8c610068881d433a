//! Adjudication: reviewers (a dataset's owners and admins, or users given the reviewer right in
//! it) get the records in dispute (split verdicts, verdicts that go round, failed swapped
//! repeats, answers by labelers flagged by their gold answers), see every labeler's answer side
//! by side, and record a final verdict with a note. The answers are never changed; exports use
//! the verdict and say so.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use juror_core::audit::AuditAction;
use juror_core::dataset::Dataset;
use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::quality::consistency;
use juror_core::record::{DatasetSchema, Record};
use juror_core::response::{Response, ResponseStatus};
use juror_core::time::Timestamp;
use juror_core::value::{check_value, ValueContext};
use juror_prefs::resolve::{cyclic_items, resolve, Strategy};
use juror_store::{Adjudication, RecordInclude, Repeat};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::preferences::{detect_settings, record_judgments, PreferenceSettings};
use crate::records::RecordPages;
use crate::App;

/// A record's verdict is split when the resolved verdict on one of its pairs has less than this
/// share of the judgments (two against one is split; three against one is not).
pub const SPLIT_AGREEMENT: f64 = 0.75;

/// Why a record needs a reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dispute {
    /// The labelers' verdicts on a pair are split (or tied).
    Split,
    /// The resolved verdicts go round (A over B, B over C, C over A).
    Cycle,
    /// A labeler answered the record's swapped repeat otherwise than the first time.
    FailedRepeat,
    /// A labeler flagged by their gold answers answered it.
    FlaggedLabeler,
}

impl Dispute {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Split => "split",
            Self::Cycle => "cycle",
            Self::FailedRepeat => "failed_repeat",
            Self::FlaggedLabeler => "flagged_labeler",
        }
    }
}

/// A record in the review queue.
#[derive(Debug, Clone)]
pub struct DisputedRecord {
    pub record: Record,
    pub disputes: Vec<Dispute>,
    /// Submitted judgments of the preference question.
    pub judgments: usize,
    pub adjudication: Option<Adjudication>,
}

/// What a reviewer sees of one record: every labeler's answer (with who gave it) and their
/// repeats, and the verdict so far.
#[derive(Debug, Clone)]
pub struct ReviewRecord {
    pub schema: Arc<DatasetSchema>,
    pub settings: PreferenceSettings,
    pub record: Record,
    pub answers: Vec<(String, Response)>,
    pub repeats: Vec<(String, Repeat)>,
    pub adjudication: Option<Adjudication>,
    pub disputes: Vec<Dispute>,
}

/// Most records the queue lists.
pub const MAX_QUEUE: usize = 1_000;

impl App {
    /// The dataset, when the caller may review it: a manager of it, or a member given the right.
    pub(crate) async fn dataset_to_review(&self, caller: &Caller, id: DatasetId) -> AppResult<Dataset> {
        match self.dataset_for(caller, id, Action::Manage).await {
            Err(AppError::Forbidden) => {
                let dataset = self.dataset_for(caller, id, Action::Answer).await?;
                match self.store.list_reviewers(id).await?.contains(&caller.user.id) {
                    true => Ok(dataset),
                    false => Err(AppError::Forbidden),
                }
            }
            other => other,
        }
    }

    /// Whether the caller may review the dataset (for the UI's links).
    pub async fn may_review(&self, caller: &Caller, id: DatasetId) -> AppResult<bool> {
        match self.dataset_to_review(caller, id).await {
            Ok(_) => Ok(true),
            Err(AppError::Forbidden) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Gives (or takes back) a member's reviewer right in a dataset (managers).
    pub async fn set_reviewer(&self, caller: &Caller, id: DatasetId, user: UserId, reviewer: bool) -> AppResult<()> {
        let dataset = self.dataset_for(caller, id, Action::Manage).await?;
        if reviewer {
            self.check_labeler(dataset.workspace_id, user).await?;
        }
        self.store.set_reviewer(id, user, reviewer).await?;
        self.audit(Some(caller), AuditAction::ReviewerSet, "dataset", id, json!({"user_id": user.to_string(), "reviewer": reviewer})).await;
        Ok(())
    }

    /// The dataset's reviewers (managers).
    pub async fn list_reviewers(&self, caller: &Caller, id: DatasetId) -> AppResult<Vec<UserId>> {
        self.dataset_for(caller, id, Action::Manage).await?;
        Ok(self.store.list_reviewers(id).await?)
    }

    /// The records in dispute, in record order (at most [`MAX_QUEUE`]); with `settled`, those
    /// already given a verdict too. Reads every answer of the dataset a page at a time.
    pub async fn review_queue(&self, caller: &Caller, id: DatasetId, settled: bool) -> AppResult<Vec<DisputedRecord>> {
        self.dataset_to_review(caller, id).await?;
        let schema = self.schema(id).await?;
        let settings = detect_settings(&schema, None, None)?;
        let adjudications: HashMap<RecordId, Adjudication> = self.store.list_adjudications(id).await?.into_iter().map(|adjudication| (adjudication.record, adjudication)).collect();
        let failed_repeats = self.failed_repeats(id, &settings.question).await?;
        let flagged = self.flagged_labelers(id).await?;
        let mut queue = Vec::new();
        let mut pages = RecordPages::new(id, RecordInclude { responses: true, ..RecordInclude::default() }).leaving_out(self.gold_records(id).await?);
        while let Some(page) = pages.next(self).await? {
            for (record, relations) in page {
                let judgments = record_judgments(&settings, &record, &relations, &mut 0);
                let mut disputes = judged_disputes(&judgments);
                if failed_repeats.contains(&record.id) {
                    disputes.push(Dispute::FailedRepeat);
                }
                let answered_by_flagged = relations.responses.as_deref().unwrap_or_default().iter().any(|response| response.status == ResponseStatus::Submitted && flagged.contains(&response.user_id));
                if answered_by_flagged {
                    disputes.push(Dispute::FlaggedLabeler);
                }
                let adjudication = adjudications.get(&record.id).cloned();
                if disputes.is_empty() || (adjudication.is_some() && !settled) {
                    continue;
                }
                queue.push(DisputedRecord { record, disputes, judgments: judgments.len(), adjudication });
                if queue.len() >= MAX_QUEUE {
                    return Ok(queue);
                }
            }
        }
        Ok(queue)
    }

    /// One record as a reviewer sees it.
    pub async fn review_record(&self, caller: &Caller, record_id: RecordId) -> AppResult<ReviewRecord> {
        let record = self.stored_record(record_id).await?;
        self.dataset_to_review(caller, record.dataset_id).await?;
        let schema = self.schema(record.dataset_id).await?;
        let settings = detect_settings(&schema, None, None)?;
        let usernames: HashMap<UserId, String> = self.store.list_users().await?.into_iter().map(|user| (user.id, user.username)).collect();
        let name = |user: UserId| usernames.get(&user).cloned().unwrap_or_else(|| user.to_string());
        let relations = self.store.load_relations(std::slice::from_ref(&record), &RecordInclude { responses: true, ..RecordInclude::default() }).await?.pop().unwrap_or_default();
        let judgments = record_judgments(&settings, &record, &relations, &mut 0);
        let responses = relations.responses.unwrap_or_default();
        let mut disputes = judged_disputes(&judgments);
        let repeats: Vec<_> = self.store.list_repeats(record.dataset_id).await?.into_iter().filter(|(repeat, _)| repeat.record == record_id).collect();
        if repeats.iter().any(|(repeat, first)| is_failed(repeat, first.as_ref(), &settings.question)) {
            disputes.push(Dispute::FailedRepeat);
        }
        let repeats: Vec<(String, Repeat)> = repeats.into_iter().map(|(repeat, _)| (name(repeat.user), repeat)).collect();
        let answers = responses.into_iter().map(|response| (name(response.user_id), response)).collect();
        let adjudication = self.store.find_adjudication(record_id).await?;
        Ok(ReviewRecord { schema, settings, record, answers, repeats, adjudication, disputes })
    }

    /// Records the caller's final verdict on a record: a complete answer to its preference
    /// question (the answer's `value`), with an optional note. A later verdict replaces it.
    pub async fn adjudicate(&self, caller: &Caller, record_id: RecordId, verdict: Value, note: Option<String>) -> AppResult<Adjudication> {
        let record = self.stored_record(record_id).await?;
        self.dataset_to_review(caller, record.dataset_id).await?;
        let schema = self.schema(record.dataset_id).await?;
        let settings = detect_settings(&schema, None, None)?;
        let question = schema.questions.iter().find(|question| question.name == settings.question).ok_or_else(|| AppError::Invalid("the dataset has no preference question".into()))?;
        check_value(&question.settings, &verdict, ValueContext { submitted: true, record_fields: Some(&record.fields) }).map_err(|error| AppError::Invalid(format!("verdict: {error}")))?;
        let note = note.map(|note| note.trim().to_owned()).filter(|note| !note.is_empty());
        if note.as_ref().is_some_and(|note| note.chars().count() > MAX_NOTE_CHARS) {
            return Err(AppError::Invalid(format!("note: at most {MAX_NOTE_CHARS} characters")));
        }
        let adjudication = Adjudication {
            record: record_id,
            dataset: record.dataset_id,
            question: settings.question.clone(),
            verdict,
            note,
            reviewer: caller.user.id,
            reviewer_name: caller.user.username.clone(),
            decided_at: Timestamp::now(),
        };
        self.store.adjudicate(&adjudication).await?;
        Ok(adjudication)
    }

    /// A record's final verdict, if any (reviewers).
    pub async fn adjudication_of(&self, caller: &Caller, record_id: RecordId) -> AppResult<Option<Adjudication>> {
        let record = self.stored_record(record_id).await?;
        self.dataset_to_review(caller, record.dataset_id).await?;
        Ok(self.store.find_adjudication(record_id).await?)
    }

    /// Records some labeler answered otherwise on their swapped repeat.
    async fn failed_repeats(&self, id: DatasetId, question: &str) -> AppResult<HashSet<RecordId>> {
        Ok(self
            .store
            .list_repeats(id)
            .await?
            .into_iter()
            .filter(|(repeat, first)| is_failed(repeat, first.as_ref(), question))
            .map(|(repeat, _)| repeat.record)
            .collect())
    }

    /// Labelers flagged by their gold answers in the dataset.
    async fn flagged_labelers(&self, id: DatasetId) -> AppResult<HashSet<UserId>> {
        let gold = self.quality_of(id).await?.gold.unwrap_or_default();
        Ok(self.store.gold_standings(id).await?.into_iter().filter(|(_, standing)| standing.is_flagged(&gold)).map(|(user, _)| user).collect())
    }
}

/// Whether a repeat was answered otherwise than the first answer `first` on `question`.
fn is_failed(repeat: &Repeat, first: Option<&serde_json::Map<String, Value>>, question: &str) -> bool {
    match (first, &repeat.values) {
        (Some(first), Some(second)) => consistency(first, second, question).is_some_and(|agreement| agreement < 1.0),
        _ => false,
    }
}

/// Longest note on a verdict, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;

/// The disputes a record's judgments show by themselves: a split or tied pair, a cycle.
fn judged_disputes(judgments: &[juror_prefs::Judgment]) -> Vec<Dispute> {
    let mut disputes = Vec::new();
    if judgments.len() < 2 {
        return disputes;
    }
    let resolved = resolve(judgments, &Strategy::Majority);
    if resolved.iter().any(|pair| pair.tie || pair.agreement < SPLIT_AGREEMENT) {
        disputes.push(Dispute::Split);
    }
    if !cyclic_items(&resolved).is_empty() {
        disputes.push(Dispute::Cycle);
    }
    disputes
}
