//! Swapped repeats in the web UI: a labeler's earlier record comes back to them, the responses the
//! other way round, and their second answer is kept apart from the first (`repeat_answers`), to
//! measure how consistent they are. The page cannot tell them apart from a fresh record.

use std::collections::BTreeMap;

use juror_core::ids::{DatasetId, RecordId};
use juror_core::quality::consistency;
use juror_core::response::check_response_values;
use juror_core::time::Timestamp;
use juror_store::Repeat;

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::responses::ResponseWrite;
use crate::App;

/// One labeler's self-consistency over their submitted repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelerConsistency {
    pub username: String,
    pub repeats: usize,
    /// The mean share of option pairs on which the repeat agreed with the first answer.
    pub consistency: f64,
}

impl App {
    /// What the web UI opens next in a dataset: the caller's open swapped repeat, or a new one
    /// when the dataset's rate says one is due, else their next record (leased).
    pub async fn next_for_page(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Option<RecordId>> {
        let dataset = self.dataset_for(caller, dataset_id, Action::Answer).await?;
        if let Some(repeats) = self.quality_of(dataset_id).await?.repeats {
            if dataset.is_ready() && !self.is_paused(caller.user.id, dataset_id).await? {
                if let Some(record) = self.store.repeat_for(dataset_id, caller.user.id, Some(repeats.rate), Timestamp::now()).await? {
                    return Ok(Some(record));
                }
            }
        }
        Ok(self.next_record(caller, dataset_id).await?.map(|next| next.view.record.id))
    }

    /// The caller's open repeat of a record, if they are on one.
    pub(crate) async fn open_repeat(&self, caller: &Caller, record: RecordId) -> AppResult<Option<Repeat>> {
        Ok(self.store.find_repeat(record, caller.user.id).await?.filter(Repeat::is_open))
    }

    /// Stores the caller's answer to their open repeat of a record, checked like any answer
    /// (a submitted one must be complete). Skipping is a discard: the repeat does not come back.
    pub async fn answer_repeat(&self, caller: &Caller, record_id: RecordId, write: ResponseWrite) -> AppResult<Repeat> {
        let record = self.stored_record(record_id).await?;
        self.dataset_for(caller, record.dataset_id, Action::Answer).await?;
        let open = self.open_repeat(caller, record_id).await?.ok_or_else(|| AppError::NotFound(format!("no open repeat of record `{record_id}`")))?;
        let schema = self.schema(record.dataset_id).await?;
        check_response_values(&schema.questions, write.values.as_ref(), write.status, Some(&record.fields))?;
        let answered = Repeat { status: Some(write.status), values: write.values, presentation: write.presentation, answered_at: Some(Timestamp::now()), ..open };
        self.store.answer_repeat(&answered).await?;
        Ok(answered)
    }

    /// Each labeler's self-consistency on the ranking `question` over their submitted repeats,
    /// by username, and the dataset's (the mean over every repeat).
    pub(crate) async fn consistency_figures(&self, id: DatasetId, question: &str) -> AppResult<(Vec<LabelerConsistency>, Option<f64>)> {
        let usernames: std::collections::HashMap<_, _> = self.store.list_users().await?.into_iter().map(|user| (user.id, user.username)).collect();
        let mut by_labeler: BTreeMap<String, (usize, f64)> = BTreeMap::new();
        for (repeat, first) in self.store.list_repeats(id).await? {
            let (Some(first), Some(second)) = (first, repeat.values.as_ref()) else { continue };
            let Some(agreement) = consistency(&first, second, question) else { continue };
            let name = usernames.get(&repeat.user).cloned().unwrap_or_else(|| repeat.user.to_string());
            let entry = by_labeler.entry(name).or_default();
            entry.0 += 1;
            entry.1 += agreement;
        }
        let (count, total) = by_labeler.values().fold((0, 0.0), |(count, total), (repeats, sum)| (count + repeats, total + sum));
        let overall = (count > 0).then(|| total / count as f64);
        let labelers = by_labeler.into_iter().map(|(username, (repeats, sum))| LabelerConsistency { username, repeats, consistency: sum / repeats as f64 }).collect();
        Ok((labelers, overall))
    }
}
