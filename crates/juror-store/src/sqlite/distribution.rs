//! Workload distribution on SQLite: leases handed out on the writer connection, so hand-outs
//! are serialised and a record never has more holders plus submitters than asked.

use async_trait::async_trait;
use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::time::Timestamp;
use sqlx::{Row, SqliteConnection};

use super::rows;
use super::SqliteStore;
use crate::error::StoreResult;
use crate::store::{DistributionStore, Lease, LeaseRequest};

#[async_trait]
impl DistributionStore for SqliteStore {
    async fn lease_next_record(&self, request: &LeaseRequest) -> StoreResult<Option<Lease>> {
        let mut transaction = self.writer.begin().await?;
        // Triggers on `record_leases` keep each record's claims in step with these writes.
        sqlx::query("DELETE FROM record_leases WHERE expires_at <= ?").bind(request.now.micros()).execute(&mut *transaction).await?;
        let held: Option<String> = sqlx::query_scalar(
            "UPDATE record_leases SET expires_at = ? WHERE user_id = ? AND dataset_id = ? RETURNING record_id",
        )
        .bind(request.expires_at.micros())
        .bind(request.user.to_string())
        .bind(request.dataset.to_string())
        .fetch_optional(&mut *transaction)
        .await?;
        let record = match held {
            Some(record) => Some(record),
            None => lease_open_record(&mut transaction, request).await?,
        };
        transaction.commit().await?;
        record
            .map(|record| {
                let record_id = record.parse().map_err(|_| crate::StoreError::Other(format!("stored id `{record}` is not a UUID")))?;
                Ok(Lease { record_id, user_id: request.user, expires_at: request.expires_at })
            })
            .transpose()
    }

    async fn release_lease(&self, record: RecordId, user: UserId, skip: bool) -> StoreResult<bool> {
        let mut transaction = self.writer.begin().await?;
        let released = sqlx::query("DELETE FROM record_leases WHERE record_id = ? AND user_id = ?")
            .bind(record.to_string())
            .bind(user.to_string())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        if skip {
            sqlx::query("INSERT OR IGNORE INTO record_skips (record_id, user_id) VALUES (?, ?)")
                .bind(record.to_string())
                .bind(user.to_string())
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(released > 0)
    }

    async fn list_leases(&self, dataset: DatasetId, now: Timestamp) -> StoreResult<Vec<Lease>> {
        let rows = sqlx::query("SELECT record_id, user_id, expires_at FROM record_leases WHERE dataset_id = ? AND expires_at > ? ORDER BY expires_at")
            .bind(dataset.to_string())
            .bind(now.micros())
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|row| Ok(Lease { record_id: rows::id(row, 0)?, user_id: rows::id(row, 1)?, expires_at: Timestamp::from_micros(row.try_get(2)?) }))
            .collect()
    }

    async fn replace_assignments(&self, dataset: DatasetId, assignments: &[(RecordId, UserId)]) -> StoreResult<()> {
        let mut transaction = self.writer.begin().await?;
        sqlx::query("DELETE FROM record_assignments WHERE dataset_id = ?").bind(dataset.to_string()).execute(&mut *transaction).await?;
        for chunk in assignments.chunks(300) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO record_assignments (record_id, user_id, dataset_id) ");
            insert.push_values(chunk, |mut row, (record, user)| {
                row.push_bind(record.to_string()).push_bind(user.to_string()).push_bind(dataset.to_string());
            });
            insert.build().execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn list_assignments(&self, dataset: DatasetId) -> StoreResult<Vec<(RecordId, UserId)>> {
        let rows = sqlx::query(
            "SELECT a.record_id, a.user_id FROM record_assignments a JOIN records r ON r.id = a.record_id
             WHERE a.dataset_id = ? ORDER BY r.rowid, a.user_id",
        )
        .bind(dataset.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|row| Ok((rows::id(row, 0)?, rows::id(row, 1)?))).collect()
    }

    async fn set_quota(&self, dataset: DatasetId, user: UserId, max_records: Option<u32>) -> StoreResult<()> {
        match max_records {
            Some(max_records) => {
                sqlx::query(
                    "INSERT INTO dataset_quotas (dataset_id, user_id, max_records) VALUES (?, ?, ?)
                     ON CONFLICT (dataset_id, user_id) DO UPDATE SET max_records = excluded.max_records",
                )
                .bind(dataset.to_string())
                .bind(user.to_string())
                .bind(i64::from(max_records))
                .execute(&self.writer)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM dataset_quotas WHERE dataset_id = ? AND user_id = ?")
                    .bind(dataset.to_string())
                    .bind(user.to_string())
                    .execute(&self.writer)
                    .await?;
            }
        }
        Ok(())
    }

    async fn list_quotas(&self, dataset: DatasetId) -> StoreResult<Vec<(UserId, u32)>> {
        let rows = sqlx::query("SELECT user_id, max_records FROM dataset_quotas WHERE dataset_id = ?").bind(dataset.to_string()).fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                let max: i64 = row.try_get(1)?;
                Ok((rows::id(row, 0)?, u32::try_from(max).unwrap_or(u32::MAX)))
            })
            .collect()
    }
}

/// Leases the record to hand out, if any: the fullest open record first (so records complete
/// early), in insertion order, among those the labeler may take; skipped records only when
/// nothing else is left. One statement picks and leases, so the choice cannot go stale.
async fn lease_open_record(connection: &mut SqliteConnection, request: &LeaseRequest) -> StoreResult<Option<String>> {
    let (dataset, user) = (request.dataset.to_string(), request.user.to_string());
    let flags = sqlx::query(
        "SELECT (SELECT max_records FROM dataset_quotas WHERE dataset_id = ?1 AND user_id = ?2),
                EXISTS (SELECT 1 FROM record_assignments WHERE dataset_id = ?1)",
    )
    .bind(&dataset)
    .bind(&user)
    .fetch_one(&mut *connection)
    .await?;
    let (quota, assigned): (Option<i64>, bool) = (flags.try_get(0)?, flags.try_get(1)?);
    if let Some(quota) = quota {
        if taken(&mut *connection, &dataset, &user).await? >= quota {
            return Ok(None);
        }
    }
    let assignment_clause = if assigned {
        "AND (EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id AND a.user_id = ?2)
              OR NOT EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id))"
    } else {
        ""
    };
    for honour_skips in [true, false] {
        let skip_clause = if honour_skips { "AND NOT EXISTS (SELECT 1 FROM record_skips s WHERE s.record_id = r.id AND s.user_id = ?2)" } else { "" };
        let query = format!(
            "INSERT INTO record_leases (record_id, user_id, dataset_id, expires_at)
             SELECT r.id, ?2, ?1, ?4 FROM records r
             WHERE r.dataset_id = ?1 AND r.claims < ?3
               AND NOT EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id AND x.user_id = ?2)
               {skip_clause} {assignment_clause}
             ORDER BY r.claims DESC, r.rowid LIMIT 1
             RETURNING record_id"
        );
        let leased: Option<String> = sqlx::query_scalar(&query)
            .bind(&dataset)
            .bind(&user)
            .bind(i64::from(request.min_submitted))
            .bind(request.expires_at.micros())
            .fetch_optional(&mut *connection)
            .await?;
        if let Some(record) = leased {
            if !honour_skips {
                sqlx::query("DELETE FROM record_skips WHERE record_id = ? AND user_id = ?").bind(&record).bind(&user).execute(&mut *connection).await?;
            }
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// How many records the labeler has taken in the dataset: submitted plus leased.
async fn taken(connection: &mut SqliteConnection, dataset: &str, user: &str) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM responses x JOIN records r ON r.id = x.record_id WHERE r.dataset_id = ?1 AND x.user_id = ?2 AND x.status = 'submitted')
              + (SELECT count(*) FROM record_leases l WHERE l.dataset_id = ?1 AND l.user_id = ?2)",
    )
    .bind(dataset)
    .bind(user)
    .fetch_one(&mut *connection)
    .await?)
}
