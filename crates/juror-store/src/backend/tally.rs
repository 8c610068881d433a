//! Record status and claims kept in step with responses and leases, for every backend.
//!
//! The rule is `juror_core::distribution::RecordTally`: after any change to a record's
//! responses or leases, the writer counts them here, in the same transaction (the record's row
//! locked by the caller, before its change, where writers are concurrent), and stores the status,
//! claims and target the rule gives (the target by `quality.rs` under adaptive overlap),
//! writing the record's row only when one of them changed. The dataset's last activity moves by
//! `juror_core::dataset::moves_last_activity`.

use std::collections::HashMap;

use juror_core::dataset::moves_last_activity;
use juror_core::distribution::RecordTally;
use juror_core::ids::{DatasetId, RecordId};
use juror_core::quality::QualitySettings;
use juror_core::record::RecordStatus;
use juror_core::time::Timestamp;

use super::columns::Columns;
use super::sql::{placeholders, Statement};
use super::transaction::Transaction;
use super::{quality, rows};
use crate::error::{StoreError, StoreResult};

/// The columns that [`Counted::from_row`] reads, for a query whose records are aliased `r` and
/// datasets `d`.
pub const COUNTED_COLUMNS: &str = "r.id, r.status, r.claims, d.id, d.min_submitted, d.last_activity_at, \
     (SELECT count(*) FROM responses x WHERE x.record_id = r.id AND x.status = 'submitted'), \
     (SELECT count(*) FROM record_leases l WHERE l.record_id = r.id), \
     r.target, d.quality, EXISTS (SELECT 1 FROM gold_records g WHERE g.record_id = r.id)";

/// Ids per `IN (...)` list.
const IDS_PER_QUERY: usize = 500;

/// A record as stored beside what its answers and leases say it should be.
#[derive(Debug, Clone)]
pub struct Counted {
    record: RecordId,
    status: RecordStatus,
    claims: i64,
    target: i64,
    dataset: DatasetId,
    min_submitted: u32,
    /// The dataset's quality settings as stored (`datasets.quality`).
    quality: Option<String>,
    gold: bool,
    last_activity: Timestamp,
    tally: RecordTally,
}

impl Counted {
    /// Reads the row of a query that selected [`COUNTED_COLUMNS`].
    pub fn from_row(row: &impl Columns) -> StoreResult<Self> {
        Ok(Self {
            record: rows::id(row, 0)?,
            status: RecordStatus::parse(row.text(1)?).map_err(|error| StoreError::Other(error.to_string()))?,
            claims: row.int(2)?,
            dataset: rows::id(row, 3)?,
            min_submitted: u32::try_from(row.int(4)?).unwrap_or(u32::MAX),
            last_activity: Timestamp::from_micros(row.int(5)?),
            tally: RecordTally { submitted: rows::count_at(row, 6)?, leases: rows::count_at(row, 7)? },
            target: row.int(8)?,
            quality: row.text_opt(9)?.map(str::to_owned),
            gold: row.flag(10)?,
        })
    }

    /// The statement that stores what the counts say with `target`, when it differs from what
    /// is stored.
    fn correction(&self, target: u32) -> Option<Statement> {
        let status = self.tally.status(target);
        let claims = i64::try_from(self.tally.claims()).unwrap_or(i64::MAX);
        (status != self.status || claims != self.claims || i64::from(target) != self.target).then(|| {
            Statement::new("UPDATE records SET status = ?, claims = ?, target = ? WHERE id = ?")
                .bind(status.as_str())
                .bind(claims)
                .bind(i64::from(target))
                .bind(self.record.to_string())
        })
    }
}

/// Settles counted records: stores each record's status, claims and target where they moved
/// (the target is 0 for a gold record, what adaptive overlap asks for in a dataset that uses
/// it, else the dataset's `min_submitted`), and when `answered`, moves each dataset's last
/// activity to `now` when it is due to.
pub async fn settle<T: Transaction + ?Sized>(transaction: &mut T, counted: &[Counted], now: Timestamp, answered: bool) -> StoreResult<()> {
    let mut settings: HashMap<DatasetId, QualitySettings> = HashMap::new();
    for record in counted {
        let dataset_settings = match settings.entry(record.dataset) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => entry.insert(quality::settings_of(record.quality.as_deref())?),
        };
        let target = match (record.gold, &dataset_settings.adaptive) {
            (true, _) => 0,
            (false, Some(adaptive)) => quality::adaptive_target(transaction, record.record, record.dataset, adaptive).await?,
            (false, None) => record.min_submitted,
        };
        if let Some(statement) = record.correction(target) {
            transaction.execute(statement).await?;
        }
    }
    if answered {
        let mut datasets: HashMap<DatasetId, Timestamp> = HashMap::new();
        for record in counted {
            datasets.entry(record.dataset).or_insert(record.last_activity);
        }
        for (dataset, last_activity) in datasets {
            if moves_last_activity(last_activity, now) {
                let statement = Statement::new("UPDATE datasets SET last_activity_at = ? WHERE id = ? AND last_activity_at < ?").bind(now.micros()).bind(dataset.to_string()).bind(now.micros());
                transaction.execute(statement).await?;
            }
        }
    }
    Ok(())
}

/// Counts the given records and settles them; records that no longer exist are left out. The
/// caller holds their locks (`Transaction::lock_records`), taken before it changed them, so the
/// counts are not raced by another writer.
pub async fn recount<T: Transaction + ?Sized>(transaction: &mut T, records: &[RecordId], now: Timestamp, answered: bool) -> StoreResult<()> {
    for chunk in records.chunks(IDS_PER_QUERY) {
        let query = format!("SELECT {COUNTED_COLUMNS} FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE r.id IN ({})", placeholders(chunk.len()));
        let select = chunk.iter().fold(Statement::new(query), |statement, id| statement.bind(id.to_string()));
        let counted = transaction.fetch(select).await?.iter().map(Counted::from_row).collect::<StoreResult<Vec<_>>>()?;
        settle(transaction, &counted, now, answered).await?;
    }
    Ok(())
}

/// Counts and settles every record of a dataset (after its `min_submitted` or quality settings
/// changed), all of them locked first.
pub async fn recount_dataset<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId) -> StoreResult<()> {
    let ids = transaction.fetch(Statement::new("SELECT id FROM records WHERE dataset_id = ? ORDER BY id").bind(dataset.to_string())).await?;
    let ids = ids.iter().map(rows::first_id).collect::<StoreResult<Vec<RecordId>>>()?;
    transaction.lock_records(&ids).await?;
    let select = Statement::new(format!("SELECT {COUNTED_COLUMNS} FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE r.dataset_id = ? ORDER BY r.id"))
        .bind(dataset.to_string());
    let counted = transaction.fetch(select).await?.iter().map(Counted::from_row).collect::<StoreResult<Vec<_>>>()?;
    settle(transaction, &counted, Timestamp::now(), false).await
}
