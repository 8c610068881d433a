//! Webhooks and their delivery queue: the statements both backends run and the decoding of
//! their rows.
//!
//! A delivery is claimed by moving its `next_attempt_at` past the attempt's timeout. The claim
//! is one `UPDATE` that repeats its conditions on the row it changes, so where writers are
//! concurrent (PostgreSQL re-reads a row changed meanwhile before updating it) two servers never
//! claim one delivery for the same attempt, and a server that dies mid-attempt leaves the
//! delivery to another once the claim runs out.

use juror_core::ids::{DeliveryId, WebhookId};
use juror_core::time::Timestamp;
use juror_core::webhook::{Attempt, AttemptOutcome, Delivery, DeliveryStatus, DueDelivery, NewDelivery, Webhook, WebhookEvent};

use super::columns::Columns;
use super::rows::id;
use super::sql::{value_rows, Statement};
use crate::error::{StoreError, StoreResult};

const WEBHOOK_COLUMNS: &str = "id, url, secret, events, enabled, description, inserted_at, updated_at";

const DELIVERY_COLUMNS: &str =
    "id, webhook_id, event, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, inserted_at, delivered_at";

/// Deliveries per multi-row `INSERT` (six parameters each).
const DELIVERIES_PER_INSERT: usize = 500;

fn as_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn encode_events(events: &[WebhookEvent]) -> String {
    events.iter().map(|event| event.as_str()).collect::<Vec<_>>().join(",")
}

pub fn create_webhook(webhook: &Webhook) -> Statement {
    Statement::new(format!("INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"))
        .bind(webhook.id.to_string())
        .bind(webhook.url.as_str())
        .bind(webhook.secret.as_str())
        .bind(encode_events(&webhook.events))
        .bind(webhook.enabled)
        .bind(webhook.description.as_deref())
        .bind(webhook.inserted_at.micros())
        .bind(webhook.updated_at.micros())
}

pub fn list_webhooks() -> Statement {
    Statement::new(format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY inserted_at, id"))
}

pub fn get_webhook(webhook: WebhookId) -> Statement {
    Statement::new(format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?")).bind(webhook.to_string())
}

pub fn update_webhook(webhook: &Webhook) -> Statement {
    Statement::new("UPDATE webhooks SET url = ?, events = ?, enabled = ?, description = ?, updated_at = ? WHERE id = ?")
        .bind(webhook.url.as_str())
        .bind(encode_events(&webhook.events))
        .bind(webhook.enabled)
        .bind(webhook.description.as_deref())
        .bind(webhook.updated_at.micros())
        .bind(webhook.id.to_string())
}

/// Deleting a webhook deletes its deliveries with it (the foreign key cascades).
pub fn delete_webhook(webhook: WebhookId) -> Statement {
    Statement::new("DELETE FROM webhooks WHERE id = ?").bind(webhook.to_string())
}

/// Multi-row inserts of pending deliveries, each with the insert of their payloads; one already
/// queued under the same (webhook, dedupe key) is left out, with its payload. The first of each
/// pair counts the deliveries enqueued.
pub fn enqueue_deliveries(deliveries: &[NewDelivery]) -> Vec<(Statement, Statement)> {
    let mut statements = Vec::new();
    for chunk in deliveries.chunks(DELIVERIES_PER_INSERT) {
        // Rows for a webhook deleted meanwhile are left out rather than failing the others.
        let insert = Statement::new(format!(
            "INSERT INTO webhook_deliveries (id, webhook_id, event, dedupe_key, next_attempt_at, inserted_at, status, attempts) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, 'pending', 0 FROM (VALUES {}) v \
             JOIN webhooks w ON w.id = v.column2 WHERE true ON CONFLICT DO NOTHING",
            value_rows(6, chunk.len())
        ));
        let insert = chunk.iter().fold(insert, |statement, delivery| {
            statement
                .bind(delivery.id.to_string())
                .bind(delivery.webhook_id.to_string())
                .bind(delivery.event.as_str())
                .bind(delivery.dedupe_key.as_deref())
                .bind(delivery.at.micros())
                .bind(delivery.at.micros())
        });
        let payloads = Statement::new(format!(
            "INSERT INTO webhook_payloads (delivery_id, payload) SELECT v.column1, v.column2 FROM (VALUES {}) v \
             WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = v.column1)",
            value_rows(2, chunk.len())
        ));
        let payloads = chunk.iter().fold(payloads, |statement, delivery| statement.bind(delivery.id.to_string()).bind(delivery.payload.as_str()));
        statements.push((insert, payloads));
    }
    statements
}

/// Claims due deliveries of enabled webhooks until `until`, at most `per_webhook` of each and
/// none of `busy` (decoded by [`due_delivery`]).
pub fn claim_deliveries(now: Timestamp, until: Timestamp, limit: u64, per_webhook: u64, busy: &[WebhookId]) -> Statement {
    let busy_list = if busy.is_empty() { String::new() } else { format!("AND d.webhook_id NOT IN ({})", super::sql::placeholders(busy.len())) };
    let statement = Statement::new(format!(
        "UPDATE webhook_deliveries SET next_attempt_at = ? \
         WHERE status = 'pending' AND next_attempt_at <= ? AND id IN ( \
             SELECT id FROM ( \
                 SELECT d.id, d.next_attempt_at, ROW_NUMBER() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.id) AS place \
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled {busy_list}) due \
             WHERE place <= ? ORDER BY next_attempt_at, id LIMIT ?) \
         RETURNING id, webhook_id, (SELECT url FROM webhooks w WHERE w.id = webhook_id), \
             (SELECT secret FROM webhooks w WHERE w.id = webhook_id), event, \
             (SELECT payload FROM webhook_payloads p WHERE p.delivery_id = id), attempts"
    ))
    .bind(until.micros())
    .bind(now.micros())
    .bind(now.micros());
    busy.iter().fold(statement, |statement, webhook| statement.bind(webhook.to_string())).bind(as_int(per_webhook)).bind(as_int(limit))
}

pub fn record_attempt(delivery: DeliveryId, attempt: &Attempt) -> Statement {
    let (status, next_attempt_at, delivered_at) = match attempt.outcome {
        AttemptOutcome::Delivered => (DeliveryStatus::Delivered, attempt.at, Some(attempt.at.micros())),
        AttemptOutcome::RetryAt(at) => (DeliveryStatus::Pending, at, None),
        AttemptOutcome::GaveUp => (DeliveryStatus::Failed, attempt.at, None),
    };
    Statement::new(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, \
         last_status_code = ?, last_error = ?, delivered_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?",
    )
    .bind(status.as_str())
    .bind(i64::from(attempt.number))
    .bind(next_attempt_at.micros())
    .bind(attempt.at.micros())
    .bind(attempt.status_code.map(i64::from))
    .bind(attempt.error.as_deref())
    .bind(delivered_at)
    .bind(delivery.to_string())
    .bind(i64::from(attempt.number.saturating_sub(1)))
}

pub fn list_deliveries(webhook: WebhookId, limit: u64) -> Statement {
    Statement::new(format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ? ORDER BY inserted_at DESC, id DESC LIMIT ?"))
        .bind(webhook.to_string())
        .bind(as_int(limit))
}

pub fn count_pending_deliveries() -> Statement {
    Statement::new("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
}

/// Finished deliveries, and those a disabled webhook holds, enqueued before `before`.
pub fn prune_deliveries(before: Timestamp) -> Statement {
    Statement::new(
        "DELETE FROM webhook_deliveries WHERE inserted_at < ? AND (status <> 'pending' \
         OR webhook_id IN (SELECT id FROM webhooks WHERE NOT enabled))",
    )
    .bind(before.micros())
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("stored {what} `{value}` is invalid"))
}

fn count_u32(row: &impl Columns, index: usize) -> StoreResult<u32> {
    Ok(u32::try_from(row.int(index)?).unwrap_or(u32::MAX))
}

/// A webhook from the columns the webhook reads select.
pub fn webhook(row: &impl Columns) -> StoreResult<Webhook> {
    let events = row.text(3)?;
    Ok(Webhook {
        id: id(row, 0)?,
        url: row.text(1)?.to_owned(),
        secret: row.text(2)?.to_owned(),
        events: events.split(',').filter(|name| !name.is_empty()).map(|name| WebhookEvent::parse(name).ok_or_else(|| corrupt("webhook event", name))).collect::<StoreResult<_>>()?,
        enabled: row.flag(4)?,
        description: row.text_opt(5)?.map(str::to_owned),
        inserted_at: Timestamp::from_micros(row.int(6)?),
        updated_at: Timestamp::from_micros(row.int(7)?),
    })
}

/// A claimed delivery from the columns [`claim_deliveries`] returns.
pub fn due_delivery(row: &impl Columns) -> StoreResult<DueDelivery> {
    Ok(DueDelivery {
        id: id(row, 0)?,
        webhook_id: id(row, 1)?,
        url: row.text(2)?.to_owned(),
        secret: row.text(3)?.to_owned(),
        event: row.text(4)?.to_owned(),
        payload: row.text(5)?.to_owned(),
        attempts: count_u32(row, 6)?,
    })
}

/// A delivery from the columns [`list_deliveries`] selects.
pub fn delivery(row: &impl Columns) -> StoreResult<Delivery> {
    let status_text = row.text(3)?;
    let status = DeliveryStatus::parse(status_text).ok_or_else(|| corrupt("delivery status", status_text))?;
    Ok(Delivery {
        id: id(row, 0)?,
        webhook_id: id(row, 1)?,
        event: row.text(2)?.to_owned(),
        status,
        attempts: count_u32(row, 4)?,
        next_attempt_at: (status == DeliveryStatus::Pending).then(|| row.int(5)).transpose()?.map(Timestamp::from_micros),
        last_attempt_at: row.int_opt(6)?.map(Timestamp::from_micros),
        last_status_code: row.int_opt(7)?.and_then(|code| u16::try_from(code).ok()),
        last_error: row.text_opt(8)?.map(str::to_owned),
        inserted_at: Timestamp::from_micros(row.int(9)?),
        delivered_at: row.int_opt(10)?.map(Timestamp::from_micros),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enqueue_writes_deliveries_then_their_payloads() {
        let now = Timestamp::now();
        let deliveries: Vec<NewDelivery> = (0..3)
            .map(|n| NewDelivery { id: DeliveryId::new(), webhook_id: WebhookId::new(), event: "record.created".into(), payload: format!("{{\"n\":{n}}}"), dedupe_key: None, at: now })
            .collect();
        let statements = enqueue_deliveries(&deliveries);
        let [(insert, payloads)] = statements.as_slice() else { panic!("one pair for three deliveries") };
        assert_eq!(insert.params.len(), 18);
        assert!(insert.sql.contains("JOIN webhooks w"));
        assert_eq!(payloads.params.len(), 6);
        assert!(payloads.sql.starts_with("INSERT INTO webhook_payloads"));
    }

    #[test]
    fn events_are_stored_as_their_names() {
        assert_eq!(encode_events(&[WebhookEvent::RecordCompleted, WebhookEvent::DatasetCreated]), "record.completed,dataset.created");
    }
}
