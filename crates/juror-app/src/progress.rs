//! Progress: how far a dataset and its labelers are.

use juror_core::ids::DatasetId;
use juror_core::record::RecordStatus;
use juror_core::response::ResponseStatus;
use juror_store::{DatasetProgress, ResponseCounts};

use crate::auth::Caller;
use crate::error::AppResult;
use crate::policy::Action;
use crate::App;

/// A dataset's size and the caller's responses in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasetMetrics {
    pub records: u64,
    pub mine: ResponseCounts,
}

/// One labeler's responses by record status (completed or pending) and response status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserProgress {
    pub username: String,
    pub completed: ResponseCounts,
    pub pending: ResponseCounts,
}

impl App {
    /// Records by status and who answered (owners and members).
    pub async fn dataset_progress(&self, caller: &Caller, id: DatasetId) -> AppResult<DatasetProgress> {
        self.dataset_for(caller, id, Action::Read).await?;
        Ok(self.store.dataset_progress(id).await?)
    }

    /// Each labeler's responses by record and response status (owners and members).
    pub async fn users_progress(&self, caller: &Caller, id: DatasetId) -> AppResult<Vec<UserProgress>> {
        self.dataset_for(caller, id, Action::Read).await?;
        let mut users: Vec<UserProgress> = Vec::new();
        for row in self.store.users_progress(id).await? {
            if users.last().is_none_or(|user| user.username != row.username) {
                users.push(UserProgress { username: row.username.clone(), ..UserProgress::default() });
            }
            let Some(user) = users.last_mut() else { continue };
            let counts = match row.record_status {
                RecordStatus::Completed => &mut user.completed,
                RecordStatus::Pending => &mut user.pending,
            };
            match row.response_status {
                ResponseStatus::Submitted => counts.submitted += row.count,
                ResponseStatus::Discarded => counts.discarded += row.count,
                ResponseStatus::Draft => counts.draft += row.count,
            }
        }
        Ok(users)
    }

    /// The dataset's record count and the caller's responses by status (owners and members).
    pub async fn my_dataset_metrics(&self, caller: &Caller, id: DatasetId) -> AppResult<DatasetMetrics> {
        self.dataset_for(caller, id, Action::Read).await?;
        Ok(DatasetMetrics { records: self.store.count_records(id).await?, mine: self.store.user_response_counts(id, caller.user.id).await? })
    }
}
