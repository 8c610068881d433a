//! What owners read about the installation: the audit log, webhooks and their deliveries.

use juror_core::audit::AuditEvent;
use juror_core::webhook::{Delivery, Webhook};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventJson<'a> {
    pub sequence: u64,
    pub at: String,
    /// `null` for the command line acting without an account.
    pub actor_id: Option<String>,
    pub actor_name: &'a str,
    /// `noun.verb`, e.g. `user.created`.
    pub action: &'static str,
    pub target_kind: &'a str,
    pub target_id: &'a str,
    pub details: &'a Map<String, Value>,
}

pub fn audit_event(event: &AuditEvent) -> AuditEventJson<'_> {
    AuditEventJson {
        sequence: event.sequence,
        at: event.at.to_naive_iso(),
        actor_id: event.actor.map(|actor| actor.to_string()),
        actor_name: &event.actor_name,
        action: event.action.as_str(),
        target_kind: &event.target_kind,
        target_id: &event.target_id,
        details: &event.details,
    }
}

/// A webhook, with its signing secret (only owners read webhooks).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookJson<'a> {
    pub id: String,
    pub url: &'a str,
    /// `whsec_` and the base64 of the signing key (Standard Webhooks).
    pub secret: &'a str,
    pub events: Vec<&'static str>,
    pub enabled: bool,
    pub description: Option<&'a str>,
    pub inserted_at: String,
    pub updated_at: String,
}

pub fn webhook(webhook: &Webhook) -> WebhookJson<'_> {
    WebhookJson {
        id: webhook.id.to_string(),
        url: &webhook.url,
        secret: &webhook.secret,
        events: webhook.events.iter().map(|event| event.as_str()).collect(),
        enabled: webhook.enabled,
        description: webhook.description.as_deref(),
        inserted_at: webhook.inserted_at.to_naive_iso(),
        updated_at: webhook.updated_at.to_naive_iso(),
    }
}

/// One event's delivery to a webhook: where it stands and what its last attempt came to.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryJson<'a> {
    pub id: String,
    pub webhook_id: String,
    pub event: &'a str,
    /// `pending`, `delivered` or `failed`.
    pub status: &'static str,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<&'a str>,
    pub inserted_at: String,
    pub delivered_at: Option<String>,
}

pub fn delivery(delivery: &Delivery) -> DeliveryJson<'_> {
    DeliveryJson {
        id: delivery.id.to_string(),
        webhook_id: delivery.webhook_id.to_string(),
        event: &delivery.event,
        status: delivery.status.as_str(),
        attempts: delivery.attempts,
        next_attempt_at: delivery.next_attempt_at.map(|at| at.to_naive_iso()),
        last_attempt_at: delivery.last_attempt_at.map(|at| at.to_naive_iso()),
        last_status_code: delivery.last_status_code,
        last_error: delivery.last_error.as_deref(),
        inserted_at: delivery.inserted_at.to_naive_iso(),
        delivered_at: delivery.delivered_at.map(|at| at.to_naive_iso()),
    }
}
