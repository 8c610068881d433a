//! Webhooks: which events an owner subscribes an endpoint to, and the rules of delivering them
//! (the queue's states and the retry schedule).
//!
//! The events and their names are Argilla's, so the argilla SDK's `webhook_listener` works
//! unchanged. Delivery itself (HTTP, signatures) is the server's; the queue is the store's.

use std::time::Duration;

use crate::error::{check_length, ensure, ValidationError};
use crate::ids::{DeliveryId, WebhookId};
use crate::time::Timestamp;

/// Something that happened to a dataset, a record or a response, named `resource.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    DatasetCreated,
    DatasetUpdated,
    DatasetDeleted,
    DatasetPublished,
    RecordCreated,
    RecordUpdated,
    RecordDeleted,
    RecordCompleted,
    ResponseCreated,
    ResponseUpdated,
    ResponseDeleted,
}

const EVENTS: [(WebhookEvent, &str); 11] = [
    (WebhookEvent::DatasetCreated, "dataset.created"),
    (WebhookEvent::DatasetUpdated, "dataset.updated"),
    (WebhookEvent::DatasetDeleted, "dataset.deleted"),
    (WebhookEvent::DatasetPublished, "dataset.published"),
    (WebhookEvent::RecordCreated, "record.created"),
    (WebhookEvent::RecordUpdated, "record.updated"),
    (WebhookEvent::RecordDeleted, "record.deleted"),
    (WebhookEvent::RecordCompleted, "record.completed"),
    (WebhookEvent::ResponseCreated, "response.created"),
    (WebhookEvent::ResponseUpdated, "response.updated"),
    (WebhookEvent::ResponseDeleted, "response.deleted"),
];

impl WebhookEvent {
    /// Every event, in the order Argilla lists them.
    pub fn all() -> impl Iterator<Item = Self> {
        EVENTS.iter().map(|(event, _)| *event)
    }

    /// The event's name, as subscribed to and sent.
    pub fn as_str(self) -> &'static str {
        EVENTS.iter().find(|(event, _)| *event == self).map_or("unknown", |(_, name)| name)
    }

    /// The event named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        EVENTS.iter().find(|(_, known)| *known == name).map(|(event, _)| *event)
    }
}

/// The event sent by a ping: not subscribed to, sent to one webhook when its owner asks.
pub const PING_EVENT: &str = "ping";

/// An endpoint that receives the events it subscribes to, signed with its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    /// `whsec_` and the base64 of the key (Standard Webhooks' form).
    pub secret: String,
    pub events: Vec<WebhookEvent>,
    pub enabled: bool,
    pub description: Option<String>,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Webhook {
    /// Whether this webhook wants `event` now.
    pub fn wants(&self, event: WebhookEvent) -> bool {
        self.enabled && self.events.contains(&event)
    }
}

/// Longest URL a webhook may have.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest description a webhook may have.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Checks a webhook's URL: absolute, `http` or `https`, with a host. Which hosts may be reached
/// is decided where the request is made (the server's address guard).
pub fn check_url(url: &str) -> Result<String, ValidationError> {
    let url = url.trim();
    check_length("url", url, 1, MAX_URL_CHARS)?;
    let (scheme, rest) = url.split_once("://").ok_or_else(|| ValidationError::new(format!("url `{url}` is not an absolute http(s) URL")))?;
    ensure(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"), || format!("url must use http or https, got `{scheme}`"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    ensure(!host.is_empty() && !host.starts_with(':'), || format!("url `{url}` has no host"))?;
    ensure(!url.chars().any(char::is_whitespace), || format!("url `{url}` contains whitespace"))?;
    Ok(url.to_owned())
}

/// Reads a list of event names: at least one, each known; repeats are dropped.
pub fn check_events<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<WebhookEvent>, ValidationError> {
    let mut events = Vec::new();
    for name in names {
        let event = WebhookEvent::parse(name).ok_or_else(|| {
            let known: Vec<&str> = WebhookEvent::all().map(WebhookEvent::as_str).collect();
            ValidationError::new(format!("events: unknown event `{name}`; known events are {}", known.join(", ")))
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    ensure(!events.is_empty(), || "events must name at least one event".to_owned())?;
    Ok(events)
}

/// Checks a webhook's description.
pub fn check_description(description: &str) -> Result<(), ValidationError> {
    check_length("description", description, 0, MAX_DESCRIPTION_CHARS)
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (the first, or a retry).
    Pending,
    /// The endpoint answered with a 2xx status.
    Delivered,
    /// Every attempt failed; it is kept for its owner to read and is not tried again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed].into_iter().find(|status| status.as_str() == text)
    }
}

/// An event waiting in the queue for one webhook, as enqueued.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    /// A [`WebhookEvent`]'s name, or [`PING_EVENT`].
    pub event: String,
    /// The JSON body sent, exactly as it will be signed.
    pub payload: String,
    /// Enqueued at most once per webhook under this key (e.g. a record's completion).
    pub dedupe_key: Option<String>,
    pub at: Timestamp,
}

/// A delivery claimed for an attempt, with what sending it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// What an attempt to deliver came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// Which attempt this was (1 for the first): its outcome is recorded only while the
    /// delivery still stands where this attempt's claim found it.
    pub number: u32,
    pub at: Timestamp,
    /// The endpoint's status, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// What happens next: delivered, retried at an instant, or given up.
    pub outcome: AttemptOutcome,
}

/// The state a delivery moves to after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    RetryAt(Timestamp),
    GaveUp,
}

/// A delivery as its webhook's owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub inserted_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// When failed deliveries are tried again: after `base`, doubling each time up to `cap`, until
/// `max_attempts` attempts were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 5 s, 10 s, 20 s, ... up to an hour between attempts, 16 attempts: about 6.4 hours in all.
    fn default() -> Self {
        Self { base: Duration::from_secs(5), cap: Duration::from_secs(3600), max_attempts: 16 }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `attempts` attempts failed, or `None` to give up.
    pub fn delay_after(&self, attempts: u32) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.saturating_sub(1).min(30);
        Some(self.base.saturating_mul(1 << doublings).min(self.cap))
    }

    /// What a failed attempt (the `attempts`-th) at `at` leads to.
    pub fn after_failure(&self, attempts: u32, at: Timestamp) -> AttemptOutcome {
        match self.delay_after(attempts) {
            Some(delay) => AttemptOutcome::RetryAt(Timestamp::from_micros(at.micros().saturating_add(i64::try_from(delay.as_micros()).unwrap_or(i64::MAX)))),
            None => AttemptOutcome::GaveUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip() {
        assert_eq!(WebhookEvent::all().count(), 11);
        for event in WebhookEvent::all() {
            assert_eq!(WebhookEvent::parse(event.as_str()), Some(event));
        }
        assert_eq!(WebhookEvent::parse("record.exploded"), None);
    }

    #[test]
    fn events_need_one_known_name_and_drop_repeats() {
        assert_eq!(check_events(["record.completed", "record.completed", "dataset.created"]).unwrap(), vec![WebhookEvent::RecordCompleted, WebhookEvent::DatasetCreated]);
        assert!(check_events([]).unwrap_err().message().contains("at least one"));
        assert!(check_events(["ping"]).unwrap_err().message().contains("unknown event `ping`"));
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert_eq!(check_url(" https://hooks.example.com/juror?x=1 ").unwrap(), "https://hooks.example.com/juror?x=1");
        assert!(check_url("http://127.0.0.1:8000/hook").is_ok());
        assert!(check_url("ftp://example.com").unwrap_err().message().contains("http or https"));
        assert!(check_url("example.com/hook").unwrap_err().message().contains("absolute"));
        assert!(check_url("http:///hook").unwrap_err().message().contains("no host"));
        assert!(check_url("http://user@:80/").unwrap_err().message().contains("no host"));
        assert!(check_url("http://exa mple.com/").unwrap_err().message().contains("whitespace"));
        assert!(check_url(&format!("http://example.com/{}", "a".repeat(MAX_URL_CHARS))).is_err());
    }

    #[test]
    fn only_enabled_webhooks_want_their_events() {
        let now = Timestamp::now();
        let mut webhook = Webhook { id: WebhookId::new(), url: "http://x".into(), secret: "whsec_a".into(), events: vec![WebhookEvent::RecordCompleted], enabled: true, description: None, inserted_at: now, updated_at: now };
        assert!(webhook.wants(WebhookEvent::RecordCompleted));
        assert!(!webhook.wants(WebhookEvent::RecordCreated));
        webhook.enabled = false;
        assert!(!webhook.wants(WebhookEvent::RecordCompleted));
    }

    #[test]
    fn retries_double_up_to_the_cap_then_give_up() {
        let policy = RetryPolicy { base: Duration::from_secs(1), cap: Duration::from_secs(5), max_attempts: 5 };
        let delays: Vec<Option<u64>> = (1..=5).map(|attempts| policy.delay_after(attempts).map(|delay| delay.as_secs())).collect();
        assert_eq!(delays, vec![Some(1), Some(2), Some(4), Some(5), None]);
        let at = Timestamp::from_micros(1_000_000);
        assert_eq!(policy.after_failure(2, at), AttemptOutcome::RetryAt(Timestamp::from_micros(3_000_000)));
        assert_eq!(policy.after_failure(5, at), AttemptOutcome::GaveUp);
        assert_eq!(RetryPolicy::default().delay_after(40), None);
        assert_eq!(RetryPolicy { max_attempts: u32::MAX, ..policy }.delay_after(1000), Some(Duration::from_secs(5)));
    }

    #[test]
    fn delivery_statuses_round_trip() {
        for status in [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed] {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DeliveryStatus::parse("lost"), None);
    }
}
