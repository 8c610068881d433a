//! Workload distribution on SQLite: leases handed out on the writer connection (`hand_out.rs`,
//! through the group commit), so hand-outs are serialised and a record never has more holders
//! plus submitters than asked; assignments, quotas and skips.

use async_trait::async_trait;
use juror_core::distribution::AnswerLimits;
use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::record::{Record, RecordRelations};
use juror_core::time::Timestamp;
use sqlx::Row;

use super::hot::{HotResult, HotWrite};
use super::{rows, tally};
use super::SqliteStore;
use juror_store::StoreResult;
use juror_store::{DistributionStore, Lease, LeaseRequest};

#[async_trait]
impl DistributionStore for SqliteStore {
    async fn lease_next_record(&self, request: &LeaseRequest) -> StoreResult<Option<(Lease, Record, RecordRelations)>> {
        match self.hot.submit(HotWrite::Lease(*request)).await? {
            HotResult::Lease(lease) => Ok(lease.map(|lease| *lease)),
            HotResult::Done => Err(juror_store::StoreError::Other("a lease request answered without a lease".into())),
        }
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
            tally::recount(&mut transaction, &[record], Timestamp::now(), false).await?;
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
             WHERE a.dataset_id = ? ORDER BY r.seq, a.user_id",
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

    async fn has_answer_limits(&self, dataset: DatasetId) -> StoreResult<bool> {
        let limited: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM record_assignments WHERE dataset_id = ?1) OR EXISTS (SELECT 1 FROM dataset_quotas WHERE dataset_id = ?1)",
        )
        .bind(dataset.to_string())
        .fetch_one(&self.reader)
        .await?;
        Ok(limited)
    }

    async fn answer_limits(&self, dataset: DatasetId, record: RecordId, user: UserId) -> StoreResult<AnswerLimits> {
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM record_assignments WHERE record_id = ?1)
                    AND NOT EXISTS (SELECT 1 FROM record_assignments WHERE record_id = ?1 AND user_id = ?2),
                    (SELECT max_records FROM dataset_quotas WHERE dataset_id = ?3 AND user_id = ?2)",
        )
        .bind(record.to_string())
        .bind(user.to_string())
        .bind(dataset.to_string())
        .fetch_one(&self.reader)
        .await?;
        let quota: Option<i64> = row.try_get(1)?;
        let submitted_elsewhere: i64 = match quota {
            None => 0,
            Some(_) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM responses x JOIN records r ON r.id = x.record_id
                     WHERE r.dataset_id = ? AND x.user_id = ? AND x.status = 'submitted' AND x.record_id <> ?",
                )
                .bind(dataset.to_string())
                .bind(user.to_string())
                .bind(record.to_string())
                .fetch_one(&self.reader)
                .await?
            }
        };
        Ok(AnswerLimits {
            assigned_to_others: row.try_get(0)?,
            quota: quota.map(|max| u32::try_from(max).unwrap_or(u32::MAX)),
            submitted_elsewhere: u64::try_from(submitted_elsewhere).unwrap_or(0),
        })
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
