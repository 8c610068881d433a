//! Workload distribution (leases, assignments, splits, quotas) and progress.

use juror_app::{DatasetMetrics, DatasetProgress, Lease, NextRecord, ResponseCounts, UserProgress};
use juror_core::ids::{RecordId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use super::records::{record, RecordJson};

/// A record held for one labeler until `expires_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaseJson {
    pub record_id: String,
    pub user_id: String,
    pub expires_at: String,
}

pub fn lease(lease: &Lease) -> LeaseJson {
    LeaseJson { record_id: lease.record_id.to_string(), user_id: lease.user_id.to_string(), expires_at: lease.expires_at.to_naive_iso() }
}

/// The caller's next record and its lease; both `null` when nothing is left for them.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextRecordJson<'a> {
    pub record: Option<RecordJson<'a>>,
    pub lease: Option<LeaseJson>,
}

pub fn next_record(next: Option<&NextRecord>) -> NextRecordJson<'_> {
    NextRecordJson { record: next.map(|next| record(&next.view)), lease: next.map(|next| lease(&next.lease)) }
}

/// Whether a lease was given back; `skipped` when the record was also put behind the caller's
/// other records.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleasedJson {
    pub released: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
}

/// A record assigned to a labeler.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentJson {
    pub record_id: String,
    pub user_id: String,
}

pub fn assignment((record, user): &(RecordId, UserId)) -> AssignmentJson {
    AssignmentJson { record_id: record.to_string(), user_id: user.to_string() }
}

/// How many records a split gave a labeler.
#[derive(Debug, Serialize, ToSchema)]
pub struct SplitShareJson {
    pub user_id: String,
    pub records: usize,
}

pub fn split_share((user, records): &(UserId, usize)) -> SplitShareJson {
    SplitShareJson { user_id: user.to_string(), records: *records }
}

/// The most records a labeler may take in a dataset; `null` when unlimited.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaJson {
    pub user_id: String,
    pub max_records: Option<u32>,
}

pub fn quota(user: UserId, max_records: Option<u32>) -> QuotaJson {
    QuotaJson { user_id: user.to_string(), max_records }
}

/// Response counts by status.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsJson {
    pub submitted: u64,
    pub discarded: u64,
    pub draft: u64,
}

pub fn counts(counts: &ResponseCounts) -> CountsJson {
    CountsJson { submitted: counts.submitted, discarded: counts.discarded, draft: counts.draft }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsernameJson {
    pub username: String,
}

/// A dataset's records by status, and who answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressJson {
    pub total: u64,
    pub completed: u64,
    pub pending: u64,
    pub users: Vec<UsernameJson>,
}

pub fn progress(progress: &DatasetProgress) -> ProgressJson {
    ProgressJson {
        total: progress.total,
        completed: progress.completed,
        pending: progress.total - progress.completed,
        users: progress.users.iter().map(|username| UsernameJson { username: username.clone() }).collect(),
    }
}

/// One labeler's responses on completed and on pending records.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserProgressJson {
    pub username: String,
    pub completed: CountsJson,
    pub pending: CountsJson,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsersProgressJson {
    pub users: Vec<UserProgressJson>,
}

pub fn users_progress(users: &[UserProgress]) -> UsersProgressJson {
    UsersProgressJson { users: users.iter().map(|user| UserProgressJson { username: user.username.clone(), completed: counts(&user.completed), pending: counts(&user.pending) }).collect() }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordCountJson {
    pub count: u64,
}

/// The caller's responses in a dataset, in the shapes of both SDK versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyResponsesJson {
    pub count: u64,
    pub total: u64,
    pub submitted: u64,
    pub discarded: u64,
    pub draft: u64,
    pub pending: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyMetricsJson {
    pub records: RecordCountJson,
    pub responses: MyResponsesJson,
}

pub fn my_metrics(metrics: &DatasetMetrics) -> MyMetricsJson {
    let mine = &metrics.mine;
    let answered = mine.submitted + mine.discarded + mine.draft;
    MyMetricsJson {
        records: RecordCountJson { count: metrics.records },
        responses: MyResponsesJson {
            count: answered,
            total: metrics.records,
            submitted: mine.submitted,
            discarded: mine.discarded,
            draft: mine.draft,
            pending: metrics.records.saturating_sub(answered),
        },
    }
}
