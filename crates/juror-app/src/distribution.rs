//! Workload distribution: the next record for a labeler under a lease, skips, explicit
//! assignments (and balanced splits) and quotas.

use std::collections::HashSet;
use std::time::Duration;

use juror_core::audit::AuditAction;
use juror_core::distribution::balanced_assignment;
use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::time::Timestamp;
use juror_store::{Lease, LeaseRequest};
use serde_json::json;

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::Action;
use crate::records::RecordView;
use crate::App;

/// How long a labeler holds a record unless told otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10 * 60);

/// A record handed to a labeler, and until when it is theirs.
#[derive(Debug, Clone)]
pub struct NextRecord {
    pub view: RecordView,
    pub lease: Lease,
}

impl App {
    /// The next record for the caller in a published dataset, leased to them; `None` when there
    /// is nothing left for them, `Refused` when their gold answers paused them. Calling again
    /// while holding a lease returns the same record.
    pub async fn next_record(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Option<NextRecord>> {
        let (schema, visibility) = self.schema_seen_by(caller, dataset_id, Action::Answer).await?;
        let dataset = &schema.dataset;
        if !dataset.is_ready() {
            return Err(AppError::Invalid("records cannot be handed out for a non published dataset".into()));
        }
        let now = Timestamp::now();
        let expires_at = Timestamp::from_micros(now.micros().saturating_add(self.lease_duration.as_micros() as i64));
        let request = LeaseRequest { dataset: dataset.id, user: caller.user.id, now, expires_at };
        let handed = self.store.lease_next_record(&request).await?;
        self.activity.hand_out(handed.is_some());
        let Some((lease, record, relations)) = handed else {
            if self.is_paused(caller.user.id, dataset.id).await? {
                return Err(AppError::Refused(crate::quality::PAUSED.into()));
            }
            return Ok(None);
        };
        self.record_datasets.put(record.id, record.dataset_id);
        let mut view = RecordView { record, relations };
        visibility.redact(&mut view);
        Ok(Some(NextRecord { view, lease }))
    }

    /// Gives up the caller's lease on a record; with `skip`, the record also goes behind the
    /// caller's other records. False when the caller held no lease on it.
    pub async fn release_record(&self, caller: &Caller, record_id: RecordId, skip: bool) -> AppResult<bool> {
        let record = self.stored_record(record_id).await?;
        self.dataset_for(caller, record.dataset_id, Action::Answer).await?;
        Ok(self.store.release_lease(record_id, caller.user.id, skip).await?)
    }

    /// The dataset's unexpired leases (owners and admins).
    pub async fn list_leases(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Vec<Lease>> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        Ok(self.store.list_leases(dataset_id, Timestamp::now()).await?)
    }

    /// Replaces the dataset's assignments: each listed record goes only to the listed users.
    pub async fn assign_records(&self, caller: &Caller, dataset_id: DatasetId, assignments: Vec<(RecordId, Vec<UserId>)>) -> AppResult<()> {
        let dataset = self.dataset_for(caller, dataset_id, Action::Manage).await?;
        let users: HashSet<UserId> = assignments.iter().flat_map(|(_, users)| users.iter().copied()).collect();
        for user in users {
            self.check_labeler(dataset.workspace_id, user).await?;
        }
        let keys: Vec<(Option<String>, Option<RecordId>)> = assignments.iter().map(|(record, _)| (None, Some(*record))).collect();
        let found = self.store.resolve_records(dataset_id, &keys).await?;
        if let Some(index) = found.iter().position(Option::is_none) {
            return Err(AppError::Invalid(format!("Record with id `{}` not found in dataset `{dataset_id}`", assignments[index].0)));
        }
        let pairs: Vec<(RecordId, UserId)> = assignments.iter().flat_map(|(record, users)| users.iter().map(move |user| (*record, *user))).collect();
        self.store.replace_assignments(dataset_id, &pairs).await?;
        self.limited_datasets.forget(&dataset_id);
        self.audit(Some(caller), AuditAction::AssignmentsReplaced, "dataset", dataset_id, json!({"records": assignments.len(), "assignments": pairs.len()})).await;
        Ok(())
    }

    /// Assigns every record of the dataset to `overlap` of the labelers, balanced; returns how
    /// many records each labeler got, in the order given.
    pub async fn split_records(&self, caller: &Caller, dataset_id: DatasetId, labelers: Vec<UserId>, overlap: usize) -> AppResult<Vec<(UserId, usize)>> {
        let dataset = self.dataset_for(caller, dataset_id, Action::Manage).await?;
        let distinct: HashSet<UserId> = labelers.iter().copied().collect();
        if distinct.len() != labelers.len() {
            return Err(AppError::Invalid("each labeler may be named once".into()));
        }
        for user in &labelers {
            self.check_labeler(dataset.workspace_id, *user).await?;
        }
        let records = self.store.scan_record_ids(dataset_id).await?;
        let plan = balanced_assignment(records.len(), labelers.len(), overlap)?;
        let mut counts = vec![0usize; labelers.len()];
        let mut pairs = Vec::with_capacity(records.len() * overlap);
        for (record, slots) in records.iter().zip(plan) {
            for slot in slots {
                counts[slot] += 1;
                pairs.push((*record, labelers[slot]));
            }
        }
        self.store.replace_assignments(dataset_id, &pairs).await?;
        self.limited_datasets.forget(&dataset_id);
        let split: Vec<String> = labelers.iter().map(ToString::to_string).collect();
        self.audit(Some(caller), AuditAction::AssignmentsReplaced, "dataset", dataset_id, json!({"records": records.len(), "assignments": pairs.len(), "split_among": split, "overlap": overlap})).await;
        Ok(labelers.into_iter().zip(counts).collect())
    }

    /// The dataset's assignments as (record, user) pairs (owners and admins).
    pub async fn list_assignments(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Vec<(RecordId, UserId)>> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        Ok(self.store.list_assignments(dataset_id).await?)
    }

    /// Limits (or with `None` frees) how many records a labeler may take in a dataset.
    pub async fn set_quota(&self, caller: &Caller, dataset_id: DatasetId, user: UserId, max_records: Option<u32>) -> AppResult<()> {
        let dataset = self.dataset_for(caller, dataset_id, Action::Manage).await?;
        self.check_labeler(dataset.workspace_id, user).await?;
        self.store.set_quota(dataset_id, user, max_records).await?;
        self.limited_datasets.forget(&dataset_id);
        self.audit(Some(caller), AuditAction::QuotaSet, "dataset", dataset_id, json!({"user_id": user.to_string(), "max_records": max_records})).await;
        Ok(())
    }

    /// The dataset's quotas (owners and admins).
    pub async fn list_quotas(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<Vec<(UserId, u32)>> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        Ok(self.store.list_quotas(dataset_id).await?)
    }

    /// Fails unless `user` may answer the record: it is not assigned to others, and a submission
    /// stays within the user's quota. Whether a dataset has assignments or quotas at all is
    /// remembered for a second, so answers in datasets without them read nothing more. This
    /// refuses early, before the values are checked; the store checks the same rule again inside
    /// the answer's transaction, where parallel submissions (through any number of servers)
    /// take turns, so they cannot pass a quota together.
    pub(crate) async fn check_answer_limits(&self, user: UserId, dataset: DatasetId, record: RecordId, submitting: bool) -> AppResult<()> {
        let limited = match self.limited_datasets.get(&dataset) {
            Some(limited) => limited,
            None => {
                let limited = self.store.has_answer_limits(dataset).await?;
                self.limited_datasets.put(dataset, limited);
                limited
            }
        };
        if !limited {
            return Ok(());
        }
        let limits = self.store.answer_limits(dataset, record, user).await?;
        limits.check(submitting).map_err(|refusal| AppError::Refused(refusal.to_string()))
    }

    /// A user who can label in the workspace: a member, or an owner.
    pub(crate) async fn check_labeler(&self, workspace: juror_core::ids::WorkspaceId, user: UserId) -> AppResult<()> {
        let found = self.store.get_user(user).await?.ok_or_else(|| AppError::Invalid(format!("User with id `{user}` not found")))?;
        if found.role != juror_core::user::Role::Owner && !self.is_member(workspace, user).await? {
            return Err(AppError::Invalid(format!("User `{}` is not a member of the dataset's workspace", found.username)));
        }
        Ok(())
    }
}
