//! What the web UI's labeling pages need: one record with the caller's answer, and the caller's
//! answers in a dataset by status.

use juror_core::dataset::Dataset;
use juror_core::ids::{DatasetId, RecordId};
use juror_core::record::{DatasetSchema, Record};
use juror_core::response::{Response, ResponseStatus};

use crate::auth::Caller;
use crate::error::AppResult;
use crate::policy::Action;
use crate::App;

/// A record as a labeler works on it.
#[derive(Debug, Clone)]
pub struct LabelingRecord {
    pub schema: std::sync::Arc<DatasetSchema>,
    pub record: Record,
    /// The caller's own response, if any; `None` while they are on a swapped repeat of it.
    pub response: Option<Response>,
    /// The caller's open swapped repeat of this record: the page shows the record the other way
    /// round, as if new, and the answer goes to the repeat.
    pub repeat: Option<juror_store::Repeat>,
}

impl App {
    /// A record with its dataset's settings and the caller's response (owners and members).
    pub async fn labeling_record(&self, caller: &Caller, record_id: RecordId) -> AppResult<LabelingRecord> {
        let record = self.stored_record(record_id).await?;
        self.dataset_for(caller, record.dataset_id, Action::Answer).await?;
        let schema = self.schema(record.dataset_id).await?;
        let repeat = self.open_repeat(caller, record_id).await?;
        let response = match repeat {
            Some(_) => None,
            None => self.store.find_response(record_id, caller.user.id).await?,
        };
        Ok(LabelingRecord { schema, record, response, repeat })
    }

    /// The caller's latest responses in a dataset, newest change first, without their records
    /// (owners and members).
    pub async fn my_recent_responses(&self, caller: &Caller, dataset_id: DatasetId, limit: u64) -> AppResult<Vec<Response>> {
        self.dataset_for(caller, dataset_id, Action::Answer).await?;
        Ok(self.store.list_user_responses(dataset_id, caller.user.id, None, limit).await?)
    }

    /// The caller's responses in a dataset with this status (or any), newest change first, with
    /// their records (owners and members).
    pub async fn my_responses(&self, caller: &Caller, dataset_id: DatasetId, status: Option<ResponseStatus>, limit: u64) -> AppResult<(Dataset, Vec<(Response, Record)>)> {
        let dataset = self.dataset_for(caller, dataset_id, Action::Answer).await?;
        let responses = self.store.list_user_responses(dataset_id, caller.user.id, status, limit).await?;
        let mut answered = Vec::with_capacity(responses.len());
        for response in responses {
            if let Some(record) = self.store.get_record(response.record_id).await? {
                answered.push((response, record));
            }
        }
        Ok((dataset, answered))
    }
}
