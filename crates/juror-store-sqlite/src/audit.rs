//! The audit log on SQLite: one row per entry, in `sequence` order.

use async_trait::async_trait;
use juror_core::audit::{AuditAction, AuditEvent};
use juror_core::time::Timestamp;
use sqlx::Row;

use super::rows;
use super::SqliteStore;
use juror_store::{StoreError, StoreResult};
use juror_store::AuditStore;

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<u64> {
        let sequence: i64 = sqlx::query_scalar(
            "INSERT INTO audit_events (at, actor_id, actor_name, action, target_kind, target_id, details) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING sequence",
        )
        .bind(event.at.micros())
        .bind(event.actor.map(|actor| actor.to_string()))
        .bind(&event.actor_name)
        .bind(event.action.as_str())
        .bind(&event.target_kind)
        .bind(&event.target_id)
        .bind(rows::encode_map(&event.details))
        .fetch_one(&self.writer)
        .await?;
        Ok(u64::try_from(sequence).unwrap_or(0))
    }

    async fn list_audit(&self, before: Option<u64>, limit: u64) -> StoreResult<Vec<AuditEvent>> {
        let before = before.map_or(i64::MAX, |sequence| i64::try_from(sequence).unwrap_or(i64::MAX));
        let rows = sqlx::query(
            "SELECT sequence, at, actor_id, actor_name, action, target_kind, target_id, details FROM audit_events
             WHERE sequence < ? ORDER BY sequence DESC LIMIT ?",
        )
        .bind(before)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let action: String = row.try_get(4)?;
                let details: String = row.try_get(7)?;
                Ok(AuditEvent {
                    sequence: u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0),
                    at: Timestamp::from_micros(row.try_get(1)?),
                    actor: row.try_get::<Option<&str>, _>(2)?.map(|_| rows::id(row, 2)).transpose()?,
                    actor_name: row.try_get(3)?,
                    action: AuditAction::parse(&action).ok_or_else(|| StoreError::Other(format!("unknown audit action `{action}`")))?,
                    target_kind: row.try_get(5)?,
                    target_id: row.try_get(6)?,
                    details: rows::json_object(Some(&details))?.unwrap_or_default(),
                })
            })
            .collect()
    }
}
