//! The audit log: administrative use cases record what they did; owners read it.

use std::fmt::Display;

use juror_core::audit::{AuditAction, AuditEvent};
use juror_core::ids::DatasetId;
use juror_core::time::Timestamp;
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::error::AppResult;
use crate::App;

/// The most entries one read of the log returns.
pub const MAX_AUDIT_PAGE: u64 = 500;

impl App {
    /// Records an administrative action by `actor` (`None`: the command line acting without an
    /// account). It runs after the change committed, so a failure to record is logged and never
    /// turned into a failure of the change itself.
    pub(crate) async fn audit(&self, actor: Option<&Caller>, action: AuditAction, target_kind: &str, target_id: impl Display, details: Value) {
        let event = AuditEvent {
            sequence: 0,
            at: Timestamp::now(),
            actor: actor.map(|caller| caller.user.id),
            actor_name: actor.map_or_else(|| "juror command line".to_owned(), |caller| caller.user.username.clone()),
            action,
            target_kind: target_kind.to_owned(),
            target_id: target_id.to_string(),
            details: match details {
                Value::Object(details) => details,
                _ => Map::new(),
            },
        };
        match self.store.append_audit(&event).await {
            Ok(sequence) => tracing::info!(action = action.as_str(), actor = %event.actor_name, target = %event.target_id, sequence, "audited {}", action.as_str()),
            Err(error) => tracing::error!(action = action.as_str(), error = %error, "failed to record an audit entry: {error}"),
        }
    }

    /// Records a change to one of a dataset's settings (a field, question, metadata property or
    /// vector setting).
    pub(crate) async fn audit_setting(&self, caller: &Caller, action: AuditAction, kind: &str, id: impl Display, dataset: DatasetId, name: &str) {
        self.audit(Some(caller), action, kind, id, json!({"dataset_id": dataset.to_string(), "name": name})).await;
    }

    /// Up to `limit` (at most 500) entries of the audit log, newest first, older than `before`
    /// when given (owners only).
    pub async fn audit_log(&self, caller: &Caller, before: Option<u64>, limit: u64) -> AppResult<Vec<AuditEvent>> {
        Self::require_owner(caller)?;
        Ok(self.store.list_audit(before, limit.clamp(1, MAX_AUDIT_PAGE)).await?)
    }
}
