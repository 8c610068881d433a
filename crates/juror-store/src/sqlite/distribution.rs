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
        reclaim_expired(&mut transaction, request.now).await?;
        let lease = match current_lease(&mut transaction, request).await? {
            Some(lease) => Some(lease),
            None => match pick_record(&mut transaction, request).await? {
                Some(record_id) => {
                    sqlx::query("INSERT INTO record_leases (record_id, user_id, dataset_id, expires_at) VALUES (?, ?, ?, ?)")
                        .bind(record_id.to_string())
                        .bind(request.user.to_string())
                        .bind(request.dataset.to_string())
                        .bind(request.expires_at.micros())
                        .execute(&mut *transaction)
                        .await?;
                    sqlx::query("UPDATE records SET claims = claims + 1 WHERE id = ?").bind(record_id.to_string()).execute(&mut *transaction).await?;
                    Some(Lease { record_id, user_id: request.user, expires_at: request.expires_at })
                }
                None => None,
            },
        };
        transaction.commit().await?;
        Ok(lease)
    }

    async fn release_lease(&self, record: RecordId, user: UserId, skip: bool) -> StoreResult<bool> {
        let mut transaction = self.writer.begin().await?;
        let released = sqlx::query("DELETE FROM record_leases WHERE record_id = ? AND user_id = ?")
            .bind(record.to_string())
            .bind(user.to_string())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        if released > 0 {
            sqlx::query("UPDATE records SET claims = claims - 1 WHERE id = ?").bind(record.to_string()).execute(&mut *transaction).await?;
        }
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

/// Drops leases that ran out and gives their claims back to the records.
async fn reclaim_expired(connection: &mut SqliteConnection, now: Timestamp) -> StoreResult<()> {
    let expired: Vec<String> = sqlx::query_scalar("DELETE FROM record_leases WHERE expires_at <= ? RETURNING record_id")
        .bind(now.micros())
        .fetch_all(&mut *connection)
        .await?;
    for record in expired {
        sqlx::query("UPDATE records SET claims = claims - 1 WHERE id = ?").bind(record).execute(&mut *connection).await?;
    }
    Ok(())
}

/// The labeler's unexpired lease in the dataset, extended to the new expiry.
async fn current_lease(connection: &mut SqliteConnection, request: &LeaseRequest) -> StoreResult<Option<Lease>> {
    let held: Option<String> = sqlx::query_scalar("SELECT record_id FROM record_leases WHERE user_id = ? AND dataset_id = ? LIMIT 1")
        .bind(request.user.to_string())
        .bind(request.dataset.to_string())
        .fetch_optional(&mut *connection)
        .await?;
    let Some(record) = held else { return Ok(None) };
    sqlx::query("UPDATE record_leases SET expires_at = ? WHERE record_id = ? AND user_id = ?")
        .bind(request.expires_at.micros())
        .bind(&record)
        .bind(request.user.to_string())
        .execute(&mut *connection)
        .await?;
    let record_id = record.parse().map_err(|_| crate::StoreError::Other("stored record id is not a UUID".into()))?;
    Ok(Some(Lease { record_id, user_id: request.user, expires_at: request.expires_at }))
}

/// Picks the record to hand out: the fullest open record first (so records complete early), in
/// insertion order, among those the labeler may take.
async fn pick_record(connection: &mut SqliteConnection, request: &LeaseRequest) -> StoreResult<Option<RecordId>> {
    let (dataset, user) = (request.dataset.to_string(), request.user.to_string());
    if over_quota(&mut *connection, &dataset, &user).await? {
        return Ok(None);
    }
    let assigned: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM record_assignments WHERE dataset_id = ?)")
        .bind(&dataset)
        .fetch_one(&mut *connection)
        .await?;
    for honour_skips in [true, false] {
        let skip_clause = if honour_skips { "AND NOT EXISTS (SELECT 1 FROM record_skips s WHERE s.record_id = r.id AND s.user_id = ?2)" } else { "" };
        let assignment_clause = if assigned {
            "AND (EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id AND a.user_id = ?2)
                  OR NOT EXISTS (SELECT 1 FROM record_assignments a WHERE a.record_id = r.id))"
        } else {
            ""
        };
        let query = format!(
            "SELECT r.id FROM records r WHERE r.dataset_id = ?1 AND r.claims = ?3
               AND NOT EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id AND x.user_id = ?2)
               {skip_clause} {assignment_clause}
             ORDER BY r.rowid LIMIT 1"
        );
        for claims in (0..request.min_submitted).rev() {
            let found: Option<String> = sqlx::query_scalar(&query)
                .bind(&dataset)
                .bind(&user)
                .bind(i64::from(claims))
                .fetch_optional(&mut *connection)
                .await?;
            if let Some(record) = found {
                if !honour_skips {
                    sqlx::query("DELETE FROM record_skips WHERE record_id = ? AND user_id = ?").bind(&record).bind(&user).execute(&mut *connection).await?;
                }
                return record.parse().map(Some).map_err(|_| crate::StoreError::Other("stored record id is not a UUID".into()));
            }
        }
    }
    Ok(None)
}

/// Whether the labeler has taken (submitted or leased) as many records as their quota allows.
async fn over_quota(connection: &mut SqliteConnection, dataset: &str, user: &str) -> StoreResult<bool> {
    let quota: Option<i64> = sqlx::query_scalar("SELECT max_records FROM dataset_quotas WHERE dataset_id = ? AND user_id = ?")
        .bind(dataset)
        .bind(user)
        .fetch_optional(&mut *connection)
        .await?;
    let Some(quota) = quota else { return Ok(false) };
    let taken: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM responses x JOIN records r ON r.id = x.record_id WHERE r.dataset_id = ?1 AND x.user_id = ?2 AND x.status = 'submitted')
              + (SELECT count(*) FROM record_leases l WHERE l.dataset_id = ?1 AND l.user_id = ?2)",
    )
    .bind(dataset)
    .bind(user)
    .fetch_one(&mut *connection)
    .await?;
    Ok(taken >= quota)
}
