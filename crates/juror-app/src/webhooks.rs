//! Webhooks: owners subscribe endpoints to events, change, ping and delete them, and read their
//! deliveries; and the delivery queue as the server's worker uses it.

use std::time::Duration;

use base64::Engine;
use juror_core::audit::AuditAction;
use juror_core::ids::{DeliveryId, WebhookId};
use juror_core::time::Timestamp;
use juror_core::webhook::{check_description, check_events, check_url, Attempt, Delivery, DueDelivery, NewDelivery, Webhook, PING_EVENT};
use rand::RngCore;
use serde_json::json;

use crate::auth::Caller;
use crate::error::{not_found, AppError, AppResult};
use crate::event_payload;
use crate::App;

/// A webhook to create.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Changes to a webhook; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub description: Option<Option<String>>,
}

/// Most deliveries one read of a webhook's deliveries returns.
pub const MAX_DELIVERY_PAGE: u64 = 500;

/// A fresh signing secret in Standard Webhooks' form: `whsec_` and the base64 of 32 random bytes.
fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

impl App {
    /// Subscribes an endpoint to events (owners); it gets a fresh signing secret.
    pub async fn create_webhook(&self, caller: &Caller, new: NewWebhook) -> AppResult<Webhook> {
        Self::require_owner(caller)?;
        let url = check_url(&new.url)?;
        let events = check_events(new.events.iter().map(String::as_str))?;
        if let Some(description) = &new.description {
            check_description(description)?;
        }
        let now = Timestamp::now();
        let webhook = Webhook { id: WebhookId::new(), url, secret: generate_secret(), events, enabled: true, description: new.description, inserted_at: now, updated_at: now };
        self.store.create_webhook(&webhook).await?;
        self.events.webhooks_changed();
        self.audit(Some(caller), AuditAction::WebhookCreated, "webhook", webhook.id, json!({"url": webhook.url, "events": event_names(&webhook)})).await;
        Ok(webhook)
    }

    /// Every webhook, oldest first (owners).
    pub async fn list_webhooks(&self, caller: &Caller) -> AppResult<Vec<Webhook>> {
        Self::require_owner(caller)?;
        Ok(self.store.list_webhooks().await?)
    }

    /// Changes a webhook's URL, events, description, or whether it is enabled (owners).
    pub async fn update_webhook(&self, caller: &Caller, id: WebhookId, patch: WebhookPatch) -> AppResult<Webhook> {
        let mut webhook = self.owned_webhook(caller, id).await?;
        if let Some(url) = patch.url {
            webhook.url = check_url(&url)?;
        }
        if let Some(events) = patch.events {
            webhook.events = check_events(events.iter().map(String::as_str))?;
        }
        if let Some(enabled) = patch.enabled {
            webhook.enabled = enabled;
        }
        if let Some(description) = patch.description {
            if let Some(description) = &description {
                check_description(description)?;
            }
            webhook.description = description;
        }
        webhook.updated_at = Timestamp::now();
        self.store.update_webhook(&webhook).await?;
        self.events.webhooks_changed();
        self.audit(Some(caller), AuditAction::WebhookUpdated, "webhook", id, json!({"url": webhook.url, "events": event_names(&webhook), "enabled": webhook.enabled})).await;
        Ok(webhook)
    }

    /// Deletes a webhook and its queued deliveries (owners).
    pub async fn delete_webhook(&self, caller: &Caller, id: WebhookId) -> AppResult<Webhook> {
        let webhook = self.owned_webhook(caller, id).await?;
        self.store.delete_webhook(id).await?;
        self.events.webhooks_changed();
        self.audit(Some(caller), AuditAction::WebhookDeleted, "webhook", id, json!({"url": webhook.url})).await;
        Ok(webhook)
    }

    /// Queues a `ping` event for one webhook, delivered like any other (owners); its outcome
    /// shows in the webhook's deliveries.
    pub async fn ping_webhook(&self, caller: &Caller, id: WebhookId) -> AppResult<DeliveryId> {
        let webhook = self.owned_webhook(caller, id).await?;
        if !webhook.enabled {
            return Err(AppError::Conflict(format!("Webhook with id `{id}` is disabled; enable it to ping it")));
        }
        let at = Timestamp::now();
        let delivery = NewDelivery { id: DeliveryId::new(), webhook_id: webhook.id, event: PING_EVENT.into(), payload: event_payload::envelope(PING_EVENT, at, &event_payload::ping()), dedupe_key: None, at };
        self.store.enqueue_deliveries(std::slice::from_ref(&delivery)).await?;
        self.events.enqueued();
        Ok(delivery.id)
    }

    /// A webhook's deliveries, newest first, at most 500 (owners).
    pub async fn webhook_deliveries(&self, caller: &Caller, id: WebhookId, limit: u64) -> AppResult<Vec<Delivery>> {
        self.owned_webhook(caller, id).await?;
        Ok(self.store.list_deliveries(id, limit.clamp(1, MAX_DELIVERY_PAGE)).await?)
    }

    async fn owned_webhook(&self, caller: &Caller, id: WebhookId) -> AppResult<Webhook> {
        Self::require_owner(caller)?;
        self.store.get_webhook(id).await?.ok_or_else(|| not_found("Webhook", id))
    }

    /// Claims up to `limit` due deliveries for one attempt each, which must end within
    /// `attempt_timeout` or the delivery is claimed again; at most `per_webhook` of one webhook
    /// and none of those in `busy` (the delivery worker).
    pub async fn claim_deliveries(&self, limit: u64, per_webhook: u64, busy: &[WebhookId], attempt_timeout: Duration) -> AppResult<Vec<DueDelivery>> {
        let now = Timestamp::now();
        let until = Timestamp::from_micros(now.micros().saturating_add(i64::try_from(attempt_timeout.as_micros()).unwrap_or(i64::MAX)));
        Ok(self.store.claim_deliveries(now, until, limit, per_webhook, busy).await?)
    }

    /// Records what attempts came to, in one write (the delivery worker).
    pub async fn record_attempts(&self, attempts: &[(DeliveryId, Attempt)]) -> AppResult<()> {
        self.store.record_attempts(attempts).await?;
        for (_, attempt) in attempts {
            self.activity.delivery(attempt.outcome);
        }
        Ok(())
    }

    /// Forgets delivered and failed deliveries older than `age` (the delivery worker).
    pub async fn prune_deliveries(&self, age: Duration) -> AppResult<u64> {
        let before = Timestamp::from_micros(Timestamp::now().micros().saturating_sub(i64::try_from(age.as_micros()).unwrap_or(i64::MAX)));
        Ok(self.store.prune_deliveries(before).await?)
    }

    /// Deliveries waiting for an attempt (for monitoring).
    pub async fn pending_deliveries(&self) -> AppResult<u64> {
        Ok(self.store.count_pending_deliveries().await?)
    }
}

fn event_names(webhook: &Webhook) -> Vec<&'static str> {
    webhook.events.iter().map(|event| event.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_standard_webhooks_keys() {
        let secret = generate_secret();
        let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(generate_secret(), secret);
    }
}
