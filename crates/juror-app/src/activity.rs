//! What the labeling loop has done since the process started, for monitoring (`GET /metrics`):
//! hand-outs and answers counted as they succeed, webhook delivery attempts by outcome, and what the store says of its connections,
//! group commits and live leases when asked.

use std::sync::atomic::{AtomicU64, Ordering};

use juror_core::response::ResponseStatus;
use juror_core::time::Timestamp;
use juror_core::webhook::AttemptOutcome;
use juror_store::StoreStats;

use crate::error::AppResult;
use crate::App;

/// Counters, each bumped once per event.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    handed_out: AtomicU64,
    nothing_left: AtomicU64,
    submitted: AtomicU64,
    drafts: AtomicU64,
    discarded: AtomicU64,
    delivered: AtomicU64,
    retried: AtomicU64,
    given_up: AtomicU64,
}

impl Activity {
    pub(crate) fn hand_out(&self, found: bool) {
        let counter = if found { &self.handed_out } else { &self.nothing_left };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn answer(&self, status: ResponseStatus) {
        let counter = match status {
            ResponseStatus::Submitted => &self.submitted,
            ResponseStatus::Draft => &self.drafts,
            ResponseStatus::Discarded => &self.discarded,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn delivery(&self, outcome: AttemptOutcome) {
        let counter = match outcome {
            AttemptOutcome::Delivered => &self.delivered,
            AttemptOutcome::RetryAt(_) => &self.retried,
            AttemptOutcome::GaveUp => &self.given_up,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityCounts {
    /// Next-record calls that handed out (or kept) a record, and those that found nothing left.
    pub handed_out: u64,
    pub nothing_left: u64,
    /// Answers stored, by status.
    pub submitted: u64,
    pub drafts: u64,
    pub discarded: u64,
    /// Webhook delivery attempts, by what came of them: delivered, to be retried, given up.
    pub deliveries_delivered: u64,
    pub deliveries_retried: u64,
    pub deliveries_given_up: u64,
}

impl App {
    /// The labeling loop's counts since this process started.
    pub fn activity(&self) -> ActivityCounts {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ActivityCounts {
            handed_out: read(&self.activity.handed_out),
            nothing_left: read(&self.activity.nothing_left),
            submitted: read(&self.activity.submitted),
            drafts: read(&self.activity.drafts),
            discarded: read(&self.activity.discarded),
            deliveries_delivered: read(&self.activity.delivered),
            deliveries_retried: read(&self.activity.retried),
            deliveries_given_up: read(&self.activity.given_up),
        }
    }

    /// The store's connections and group commits now.
    pub fn store_stats(&self) -> StoreStats {
        self.store.stats()
    }

    /// Unexpired leases in every dataset (of every server sharing the database).
    pub async fn live_leases(&self) -> AppResult<u64> {
        Ok(self.store.count_live_leases(Timestamp::now()).await?)
    }
}
