//! Record status and claims kept in step with responses and leases on SQLite.
//!
//! The rule is `juror_core::distribution::RecordTally`: after any change to a record's
//! responses or leases, the writer counts them here, in the same transaction, and stores the
//! status and claims the rule gives, writing the record's row only when one of them changed.
//! The dataset's last activity moves by `juror_core::dataset::moves_last_activity`.

use std::collections::HashMap;

use juror_core::dataset::moves_last_activity;
use juror_core::distribution::RecordTally;
use juror_core::ids::{DatasetId, RecordId};
use juror_core::record::RecordStatus;
use juror_core::time::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::{placeholders, rows};
use juror_store::{StoreError, StoreResult};

/// The columns that `Counted::from_row` reads, for a query whose records are aliased `r` and
/// datasets `d`.
pub(crate) const COUNTED_COLUMNS: &str = "r.id, r.status, r.claims, d.id, d.min_submitted, d.last_activity_at, \
     (SELECT count(*) FROM responses x WHERE x.record_id = r.id AND x.status = 'submitted'), \
     (SELECT count(*) FROM record_leases l WHERE l.record_id = r.id)";

/// A record as stored beside what its answers and leases say it should be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counted {
    record: RecordId,
    status: RecordStatus,
    claims: i64,
    dataset: DatasetId,
    min_submitted: u32,
    last_activity: Timestamp,
    tally: RecordTally,
}

impl Counted {
    /// Reads the row of a query that selected `COUNTED_COLUMNS`.
    pub(crate) fn from_row(row: &SqliteRow) -> StoreResult<Self> {
        let status: &str = row.try_get(1)?;
        let min_submitted: i64 = row.try_get(4)?;
        let submitted: i64 = row.try_get(6)?;
        let leases: i64 = row.try_get(7)?;
        Ok(Self {
            record: rows::id(row, 0)?,
            status: RecordStatus::parse(status).map_err(|error| StoreError::Other(error.to_string()))?,
            claims: row.try_get(2)?,
            dataset: rows::id(row, 3)?,
            min_submitted: u32::try_from(min_submitted).unwrap_or(u32::MAX),
            last_activity: Timestamp::from_micros(row.try_get(5)?),
            tally: RecordTally { submitted: u64::try_from(submitted).unwrap_or(0), leases: u64::try_from(leases).unwrap_or(0) },
        })
    }

    /// The status and claims to store, when they differ from the stored ones.
    fn correction(&self) -> Option<(RecordStatus, i64)> {
        let status = self.tally.status(self.min_submitted);
        let claims = i64::try_from(self.tally.claims()).unwrap_or(i64::MAX);
        (status != self.status || claims != self.claims).then_some((status, claims))
    }
}

/// Stores what the counts say for each record, and moves their datasets' last activity to
/// `now` when `answered` and it is due.
pub(crate) async fn settle(connection: &mut SqliteConnection, counted: &[Counted], now: Timestamp, answered: bool) -> StoreResult<()> {
    for record in counted {
        if let Some((status, claims)) = record.correction() {
            sqlx::query("UPDATE records SET status = ?, claims = ? WHERE id = ?")
                .bind(status.as_str())
                .bind(claims)
                .bind(record.record.to_string())
                .execute(&mut *connection)
                .await?;
        }
    }
    if answered {
        let mut datasets: HashMap<DatasetId, Timestamp> = HashMap::new();
        for record in counted {
            datasets.entry(record.dataset).or_insert(record.last_activity);
        }
        for (dataset, last_activity) in datasets {
            if moves_last_activity(last_activity, now) {
                sqlx::query("UPDATE datasets SET last_activity_at = ? WHERE id = ? AND last_activity_at < ?")
                    .bind(now.micros())
                    .bind(dataset.to_string())
                    .bind(now.micros())
                    .execute(&mut *connection)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Counts and settles the given records (those that no longer exist are left out).
pub(crate) async fn recount(connection: &mut SqliteConnection, records: &[RecordId], now: Timestamp, answered: bool) -> StoreResult<()> {
    for chunk in records.chunks(500) {
        let query = format!(
            "SELECT {COUNTED_COLUMNS} FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE r.id IN ({})",
            placeholders(chunk.len())
        );
        let mut select = sqlx::query(&query);
        for id in chunk {
            select = select.bind(id.to_string());
        }
        let counted = select.fetch_all(&mut *connection).await?.iter().map(Counted::from_row).collect::<StoreResult<Vec<_>>>()?;
        settle(connection, &counted, now, answered).await?;
    }
    Ok(())
}

/// Counts and settles every record of a dataset (after its `min_submitted` changed).
pub(crate) async fn recount_dataset(connection: &mut SqliteConnection, dataset: DatasetId, now: Timestamp) -> StoreResult<()> {
    let query = format!("SELECT {COUNTED_COLUMNS} FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE r.dataset_id = ?");
    let counted =
        sqlx::query(&query).bind(dataset.to_string()).fetch_all(&mut *connection).await?.iter().map(Counted::from_row).collect::<StoreResult<Vec<_>>>()?;
    settle(connection, &counted, now, false).await
}
