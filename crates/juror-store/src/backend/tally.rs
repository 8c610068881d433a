//! Record status and claims kept in step with responses and leases, for every backend.
//!
//! The rule is `juror_core::distribution::RecordTally`: after any change to a record's
//! responses or leases, the writer counts them here, in the same transaction (the record's row
//! locked by the caller, before its change, where writers are concurrent), and stores the status and claims the rule gives,
//! writing the record's row only when one of them changed. The dataset's last activity moves by
//! `juror_core::dataset::moves_last_activity`.

use std::collections::HashMap;

use juror_core::dataset::moves_last_activity;
use juror_core::distribution::RecordTally;
use juror_core::ids::{DatasetId, RecordId};
use juror_core::record::RecordStatus;
use juror_core::time::Timestamp;

use super::columns::Columns;
use super::rows;
use super::sql::{placeholders, Statement};
use super::transaction::Transaction;
use crate::error::{StoreError, StoreResult};

/// The columns that [`Counted::from_row`] reads, for a query whose records are aliased `r` and
/// datasets `d`.
pub const COUNTED_COLUMNS: &str = "r.id, r.status, r.claims, d.id, d.min_submitted, d.last_activity_at, \
     (SELECT count(*) FROM responses x WHERE x.record_id = r.id AND x.status = 'submitted'), \
     (SELECT count(*) FROM record_leases l WHERE l.record_id = r.id)";

/// Ids per `IN (...)` list.
const IDS_PER_QUERY: usize = 500;

/// A record as stored beside what its answers and leases say it should be.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    record: RecordId,
    status: RecordStatus,
    claims: i64,
    dataset: DatasetId,
    min_submitted: u32,
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
        })
    }

    /// The statements that store what the counts say, when they differ from what is stored.
    fn correction(&self) -> Option<Statement> {
        let status = self.tally.status(self.min_submitted);
        let claims = i64::try_from(self.tally.claims()).unwrap_or(i64::MAX);
        (status != self.status || claims != self.claims).then(|| {
            Statement::new("UPDATE records SET status = ?, claims = ? WHERE id = ?").bind(status.as_str()).bind(claims).bind(self.record.to_string())
        })
    }
}

/// The statements that settle counted records: each record whose status or claims moved, and
/// when `answered`, each dataset whose last activity is due to move to `now`.
pub fn settlement(counted: &[Counted], now: Timestamp, answered: bool) -> Vec<Statement> {
    let mut statements: Vec<Statement> = counted.iter().filter_map(Counted::correction).collect();
    if answered {
        let mut datasets: HashMap<DatasetId, Timestamp> = HashMap::new();
        for record in counted {
            datasets.entry(record.dataset).or_insert(record.last_activity);
        }
        for (dataset, last_activity) in datasets {
            if moves_last_activity(last_activity, now) {
                statements.push(
                    Statement::new("UPDATE datasets SET last_activity_at = ? WHERE id = ? AND last_activity_at < ?").bind(now.micros()).bind(dataset.to_string()).bind(now.micros()),
                );
            }
        }
    }
    statements
}

/// Counts the given records and settles them; records that no longer exist are left out. The
/// caller holds their locks (`Transaction::lock_records`), taken before it changed them, so the
/// counts are not raced by another writer.
pub async fn recount<T: Transaction + ?Sized>(transaction: &mut T, records: &[RecordId], now: Timestamp, answered: bool) -> StoreResult<()> {
    for chunk in records.chunks(IDS_PER_QUERY) {
        let query = format!("SELECT {COUNTED_COLUMNS} FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE r.id IN ({})", placeholders(chunk.len()));
        let select = chunk.iter().fold(Statement::new(query), |statement, id| statement.bind(id.to_string()));
        let counted = transaction.fetch(select).await?.iter().map(Counted::from_row).collect::<StoreResult<Vec<_>>>()?;
        for statement in settlement(&counted, now, answered) {
            transaction.execute(statement).await?;
        }
    }
    Ok(())
}

/// Counts and settles every record of a dataset (after its `min_submitted` changed), all of
/// them locked first.
pub async fn recount_dataset<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId) -> StoreResult<()> {
    let ids = transaction.fetch(Statement::new("SELECT id FROM records WHERE dataset_id = ? ORDER BY id").bind(dataset.to_string())).await?;
    let ids = ids.iter().map(rows::first_id).collect::<StoreResult<Vec<RecordId>>>()?;
    transaction.lock_records(&ids).await?;
    let select = Statement::new(format!("SELECT {COUNTED_COLUMNS} FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE r.dataset_id = ? ORDER BY r.id"))
        .bind(dataset.to_string());
    let counted = transaction.fetch(select).await?.iter().map(Counted::from_row).collect::<StoreResult<Vec<_>>>()?;
    for statement in settlement(&counted, Timestamp::now(), false) {
        transaction.execute(statement).await?;
    }
    Ok(())
}
