//! Webhook delivery: a worker beside the HTTP server claims due deliveries from the store's
//! durable queue (`App::claim_deliveries`), posts each to its endpoint signed the Standard
//! Webhooks way, and records what came of it: delivered on a 2xx, else retried with doubling
//! waits until the retry policy gives up. A slow or dead endpoint holds only its own attempts
//! (each at most `attempt_timeout`, at most 16 at once and 4 to one webhook), never a write:
//! writes only enqueue.
//!
//! Every server sharing a database runs a worker; a claim holds a delivery for one attempt, so
//! each attempt is made by one server, and a server that dies mid-attempt leaves the delivery to
//! another once the claim runs out. Delivery is at least once (an endpoint may see a message
//! again after such a crash; `webhook-id` stays the same across attempts for it to tell), and
//! not in order.

mod guard;
mod sign;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use juror_app::App;
use juror_core::time::Timestamp;
use juror_core::ids::{DeliveryId, WebhookId};
use juror_core::webhook::{Attempt, AttemptOutcome, DueDelivery, RetryPolicy};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

pub use guard::AddressGuard;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub retry: RetryPolicy,
    /// The longest one attempt may take, connection included.
    pub attempt_timeout: Duration,
    /// How often the queue is looked at when nothing woke the worker (deliveries enqueued by
    /// another server, retries coming due).
    pub poll_interval: Duration,
    /// How long delivered and failed deliveries are kept for owners to read.
    pub keep_for: Duration,
    /// Which addresses deliveries may not reach.
    pub guard: AddressGuard,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
            keep_for: Duration::from_secs(7 * 24 * 3600),
            guard: AddressGuard::default(),
        }
    }
}

/// Most attempts in flight at once.
const PARALLEL_ATTEMPTS: usize = 16;
/// Most attempts in flight at once to one webhook.
const PER_WEBHOOK: usize = 4;
/// How long past its timeout an attempt's claim lasts, for recording its outcome.
const CLAIM_MARGIN: Duration = Duration::from_secs(30);
/// How often old deliveries are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Longest error kept with an attempt.
const MAX_ERROR_CHARS: usize = 500;

/// Runs the delivery worker until `stop` turns true.
pub async fn run(app: App, config: WebhookConfig, mut stop: watch::Receiver<bool>) {
    let client = match client(&config) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = %error, "webhook deliveries are off: the HTTP client failed to start: {error}");
            return;
        }
    };
    let config = Arc::new(config);
    let wake = app.deliveries_enqueued();
    // Attempts end one by one; their outcomes are written together, a batch per write.
    let (outcomes, outcomes_received) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(record_outcomes(app.clone(), outcomes_received));
    let slots = Arc::new(Semaphore::new(PARALLEL_ATTEMPTS));
    // Attempts in flight per webhook: a slow or dead endpoint holds at most `PER_WEBHOOK` of
    // the slots, so the others' events go on.
    let in_flight: Arc<Mutex<HashMap<WebhookId, usize>>> = Arc::default();
    let mut pruned_at: Option<Instant> = None;
    while !*stop.borrow() {
        if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned_at = Some(Instant::now());
            match app.prune_deliveries(config.keep_for).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "pruned {pruned} old webhook deliveries"),
                Err(error) => tracing::warn!(error = %error, "failed to prune old webhook deliveries: {error}"),
            }
        }
        let first = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            changed = stop.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        };
        let free = 1 + slots.available_permits();
        let busy: Vec<WebhookId> = in_flight.lock().map(|counts| counts.iter().filter(|(_, count)| **count >= PER_WEBHOOK).map(|(webhook, _)| *webhook).collect()).unwrap_or_default();
        let due = match app.claim_deliveries(free as u64, PER_WEBHOOK as u64, &busy, config.attempt_timeout + CLAIM_MARGIN).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(error = %error, "failed to claim webhook deliveries: {error}");
                Vec::new()
            }
        };
        if due.is_empty() {
            drop(first);
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(config.poll_interval) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
            continue;
        }
        // Claimed no more than the free slots, and only this loop takes slots: each attempt
        // gets one.
        let mut permits = vec![first];
        for delivery in due {
            let permit = permits.pop().or_else(|| Arc::clone(&slots).try_acquire_owned().ok());
            let (client, config, outcomes, in_flight) = (client.clone(), Arc::clone(&config), outcomes.clone(), Arc::clone(&in_flight));
            if let Ok(mut counts) = in_flight.lock() {
                *counts.entry(delivery.webhook_id).or_default() += 1;
            }
            tokio::spawn(async move {
                let outcome = attempt(&client, &config, &delivery).await;
                if let Ok(mut counts) = in_flight.lock() {
                    if let Some(count) = counts.get_mut(&delivery.webhook_id) {
                        *count -= 1;
                        if *count == 0 {
                            counts.remove(&delivery.webhook_id);
                        }
                    }
                }
                // The slot is free once the outcome is written by the recorder.
                let _ = outcomes.send((delivery.id, outcome, permit));
            });
        }
    }
    // Outcomes already in are written; attempts still running are cut off with the server, and
    // their claims run out for another start to retry them.
    drop(outcomes);
    let _ = tokio::time::timeout(Duration::from_secs(1), recorder).await;
}

/// Most outcomes written in one transaction.
const OUTCOMES_PER_WRITE: usize = 64;

/// Writes the outcomes of attempts as they come, as many as are waiting in one transaction; an
/// attempt's slot is given back once its outcome is written, so a claim never outruns the
/// record of the last one.
async fn record_outcomes(app: App, mut outcomes: mpsc::UnboundedReceiver<(DeliveryId, Attempt, Option<OwnedSemaphorePermit>)>) {
    let mut batch = Vec::with_capacity(OUTCOMES_PER_WRITE);
    while outcomes.recv_many(&mut batch, OUTCOMES_PER_WRITE).await > 0 {
        let attempts: Vec<(DeliveryId, Attempt)> = batch.iter().map(|(id, attempt, _)| (*id, attempt.clone())).collect();
        if let Err(error) = app.record_attempts(&attempts).await {
            tracing::error!(error = %error, "failed to record {} webhook delivery attempts: {error}", attempts.len());
        }
        batch.clear();
    }
}

fn client(config: &WebhookConfig) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(config.attempt_timeout)
        .connect_timeout(config.attempt_timeout)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the name itself, out of the guard's sight.
        .no_proxy()
        .dns_resolver(Arc::new(guard::GuardedResolver(Arc::new(config.guard.clone()))))
        .user_agent(concat!("juror-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// One attempt at one delivery, and what came of it.
async fn attempt(client: &reqwest::Client, config: &WebhookConfig, delivery: &DueDelivery) -> Attempt {
    let at = Timestamp::now();
    let result = send(client, config, delivery, at).await;
    let number = delivery.attempts + 1;
    let (status_code, error, outcome) = match result {
        Ok(code) if (200..300).contains(&code) => (Some(code), None, AttemptOutcome::Delivered),
        Ok(code) => (Some(code), Some(format!("the endpoint answered {code}")), config.retry.after_failure(number, at)),
        Err(error) => (None, Some(error), config.retry.after_failure(number, at)),
    };
    match (&outcome, &error) {
        (AttemptOutcome::Delivered, _) => tracing::debug!(delivery = %delivery.id, event = %delivery.event, "delivered a webhook event"),
        (_, Some(error)) => tracing::warn!(delivery = %delivery.id, webhook = %delivery.webhook_id, event = %delivery.event, attempt = number, gave_up = outcome == AttemptOutcome::GaveUp, "webhook delivery failed: {error}"),
        _ => {}
    }
    let error = error.map(|error| error.chars().take(MAX_ERROR_CHARS).collect());
    Attempt { number, at, status_code, error, outcome }
}

/// Posts the delivery; its status, or why there was none.
async fn send(client: &reqwest::Client, config: &WebhookConfig, delivery: &DueDelivery, at: Timestamp) -> Result<u16, String> {
    config.guard.check_url(&delivery.url)?;
    let message_id = format!("msg_{}", delivery.id.uuid().simple());
    let timestamp = at.micros().div_euclid(1_000_000);
    let signature = sign::signature(&delivery.secret, &message_id, timestamp, &delivery.payload)?;
    let response = client
        .post(&delivery.url)
        .header("webhook-id", &message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|error| error_chain(&error))?;
    Ok(response.status().as_u16())
}

/// An error with its causes, which name the real reason (a refused address, a timeout).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
