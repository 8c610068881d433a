//! Webhooks and their delivery queue: the webhook's life cycle, enqueueing once per dedupe key,
//! claims that come due, attempts, and claims raced by several stores.

use std::collections::HashSet;
use std::sync::Arc;

use juror_core::ids::{DeliveryId, WebhookId};
use juror_core::time::Timestamp;
use juror_core::webhook::{Attempt, AttemptOutcome, DeliveryStatus, NewDelivery, Webhook, WebhookEvent};

use crate::{Store, StoreError};

const SECOND: i64 = 1_000_000;

fn webhook(url: &str, events: Vec<WebhookEvent>, now: Timestamp) -> Webhook {
    Webhook { id: WebhookId::new(), url: url.into(), secret: "whsec_c2VjcmV0".into(), events, enabled: true, description: Some("conformance".into()), inserted_at: now, updated_at: now }
}

fn delivery(webhook: WebhookId, event: &str, dedupe_key: Option<&str>, at: Timestamp) -> NewDelivery {
    NewDelivery { id: DeliveryId::new(), webhook_id: webhook, event: event.into(), payload: format!("{{\"type\":\"{event}\"}}"), dedupe_key: dedupe_key.map(str::to_owned), at }
}

fn later(at: Timestamp, seconds: i64) -> Timestamp {
    Timestamp::from_micros(at.micros() + seconds * SECOND)
}

/// A webhook's life, and its deliveries through claims, retries, success, failure and pruning.
pub async fn webhooks_and_their_queue(store: &dyn Store) {
    let now = Timestamp::now();
    let mut first = webhook("http://127.0.0.1:9/first", vec![WebhookEvent::RecordCompleted, WebhookEvent::DatasetCreated], now);
    let second = webhook("https://hooks.example.com/second", vec![WebhookEvent::ResponseCreated], later(now, 1));
    store.create_webhook(&first).await.unwrap();
    store.create_webhook(&second).await.unwrap();
    assert_eq!(store.list_webhooks().await.unwrap(), vec![first.clone(), second.clone()], "oldest first, read back as written");
    first.url = "http://127.0.0.1:9/changed".into();
    first.events = vec![WebhookEvent::RecordCompleted];
    first.description = None;
    first.updated_at = later(now, 2);
    store.update_webhook(&first).await.unwrap();
    assert_eq!(store.get_webhook(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(store.update_webhook(&webhook("http://x", vec![WebhookEvent::RecordCreated], now)).await, Err(StoreError::NotFound));

    // Enqueued once per dedupe key; other deliveries as often as they come.
    let completed = delivery(first.id, "record.completed", Some("record.completed:r1"), now);
    let again = delivery(first.id, "record.completed", Some("record.completed:r1"), now);
    let created = delivery(second.id, "response.created", None, now);
    let created_too = delivery(second.id, "response.created", None, now);
    assert_eq!(store.enqueue_deliveries(&[completed.clone(), created.clone()]).await.unwrap(), 2);
    assert_eq!(store.enqueue_deliveries(&[again, created_too.clone()]).await.unwrap(), 1, "the same completion is not enqueued twice");
    assert_eq!(store.count_pending_deliveries().await.unwrap(), 3);
    let many: Vec<NewDelivery> = (0..1_200).map(|_| delivery(second.id, "response.created", None, later(now, 3600))).collect();
    assert_eq!(store.enqueue_deliveries(&many).await.unwrap(), 1_200, "several inserts, one transaction");

    // A claim takes what is due, oldest first, with the webhook's URL and secret, and holds it.
    let claimed = store.claim_deliveries(now, later(now, 60), 10, 10, &[]).await.unwrap();
    let ids: HashSet<DeliveryId> = claimed.iter().map(|due| due.id).collect();
    assert_eq!(ids, HashSet::from([completed.id, created.id, created_too.id]));
    let due = claimed.iter().find(|due| due.id == completed.id).unwrap();
    assert_eq!((due.url.as_str(), due.secret.as_str(), due.event.as_str(), due.payload.as_str(), due.attempts), (first.url.as_str(), "whsec_c2VjcmV0", "record.completed", completed.payload.as_str(), 0));
    assert!(store.claim_deliveries(later(now, 30), later(now, 90), 10, 10, &[]).await.unwrap().is_empty(), "claimed deliveries are not claimed again before the claim runs out");
    let reclaimed = store.claim_deliveries(later(now, 61), later(now, 120), 10, 10, &[]).await.unwrap();
    assert_eq!(reclaimed.len(), 3, "a claim that ran out (its server died) is taken again");

    // Attempts: delivered, retried later, given up.
    let at = later(now, 62);
    store.record_attempts(&[(completed.id, Attempt { number: 1, at, status_code: Some(200), error: None, outcome: AttemptOutcome::Delivered })]).await.unwrap();
    store
        .record_attempts(&[
            (created.id, Attempt { number: 1, at, status_code: Some(503), error: Some("endpoint answered 503".into()), outcome: AttemptOutcome::RetryAt(later(now, 70)) }),
            (created_too.id, Attempt { number: 1, at, status_code: None, error: Some("connection refused".into()), outcome: AttemptOutcome::GaveUp }),
        ])
        .await
        .unwrap();
    // A late outcome of an attempt whose claim ran out (another server tried again since) is
    // not recorded over the newer one.
    store.record_attempts(&[(completed.id, Attempt { number: 1, at, status_code: None, error: Some("late".into()), outcome: AttemptOutcome::RetryAt(later(now, 99)) })]).await.unwrap();
    let listed = store.list_deliveries(first.id, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].status, listed[0].attempts, listed[0].last_status_code, listed[0].delivered_at, listed[0].next_attempt_at), (DeliveryStatus::Delivered, 1, Some(200), Some(at), None));
    let second_listed = store.list_deliveries(second.id, 2_000).await.unwrap();
    assert_eq!(second_listed.len(), 1_202);
    let retried = second_listed.iter().find(|listed| listed.id == created.id).unwrap();
    assert_eq!((retried.status, retried.attempts, retried.next_attempt_at, retried.last_error.as_deref()), (DeliveryStatus::Pending, 1, Some(later(now, 70)), Some("endpoint answered 503")));
    let failed = second_listed.iter().find(|listed| listed.id == created_too.id).unwrap();
    assert_eq!((failed.status, failed.last_status_code, failed.last_error.as_deref()), (DeliveryStatus::Failed, None, Some("connection refused")));
    assert_eq!(store.list_deliveries(second.id, 5).await.unwrap().len(), 5, "the limit holds");

    // A retry comes due at its time; a disabled webhook's deliveries wait until it is enabled.
    assert!(store.claim_deliveries(later(now, 69), later(now, 80), 10, 10, &[]).await.unwrap().is_empty());
    let mut disabled = second.clone();
    disabled.enabled = false;
    store.update_webhook(&disabled).await.unwrap();
    assert!(store.claim_deliveries(later(now, 71), later(now, 80), 10, 10, &[]).await.unwrap().is_empty(), "a disabled webhook's deliveries are held");
    store.update_webhook(&second).await.unwrap();
    let retry = store.claim_deliveries(later(now, 71), later(now, 80), 10, 10, &[]).await.unwrap();
    assert_eq!((retry.len(), retry[0].id, retry[0].attempts), (1, created.id, 1));

    // A claim takes at most `per_webhook` of one webhook and none of a busy one; a delivery for
    // a webhook deleted meanwhile is left out of its batch, not the whole batch.
    let third = webhook("http://127.0.0.1:9/third", vec![WebhookEvent::RecordCreated], now);
    let fourth = webhook("http://127.0.0.1:9/fourth", vec![WebhookEvent::RecordCreated], now);
    store.create_webhook(&third).await.unwrap();
    store.create_webhook(&fourth).await.unwrap();
    let early = Timestamp::from_micros(now.micros() - 10 * SECOND);
    let (third_a, third_b, fourth_a) = (delivery(third.id, "record.created", None, early), delivery(third.id, "record.created", None, early), delivery(fourth.id, "record.created", None, early));
    let orphan = delivery(WebhookId::new(), "record.created", None, early);
    assert_eq!(store.enqueue_deliveries(&[third_a.clone(), orphan, third_b.clone(), fourth_a.clone()]).await.unwrap(), 3);
    let one_each = store.claim_deliveries(now, later(now, 60), 10, 1, &[fourth.id]).await.unwrap();
    assert_eq!(one_each.iter().map(|due| due.id).collect::<Vec<_>>(), vec![third_a.id], "one of the third webhook, none of the busy fourth");
    let rest = store.claim_deliveries(now, later(now, 60), 10, 5, &[]).await.unwrap();
    assert_eq!(rest.iter().map(|due| due.id).collect::<HashSet<_>>(), HashSet::from([third_b.id, fourth_a.id]));
    store.delete_webhook(third.id).await.unwrap();
    store.delete_webhook(fourth.id).await.unwrap();

    // Pruning keeps pending deliveries; deleting a webhook deletes its deliveries.
    assert_eq!(store.prune_deliveries(later(now, 1)).await.unwrap(), 2, "the delivered and the failed one");
    assert_eq!(store.count_pending_deliveries().await.unwrap(), 1_201);
    store.delete_webhook(second.id).await.unwrap();
    assert_eq!(store.count_pending_deliveries().await.unwrap(), 0);
    assert!(store.list_deliveries(second.id, 10).await.unwrap().is_empty());
    assert_eq!(store.delete_webhook(second.id).await, Err(StoreError::NotFound));
    assert_eq!(store.list_webhooks().await.unwrap(), vec![first]);
}

/// Several stores (servers) claiming from one queue at once: every delivery is claimed exactly
/// once.
pub async fn racing_claims_take_each_delivery_once(stores: Vec<Arc<dyn Store>>) {
    let now = Timestamp::now();
    let hook = webhook("http://127.0.0.1:9/race", vec![WebhookEvent::RecordCreated], now);
    stores[0].create_webhook(&hook).await.unwrap();
    let deliveries: Vec<NewDelivery> = (0..400).map(|_| delivery(hook.id, "record.created", None, now)).collect();
    stores[0].enqueue_deliveries(&deliveries).await.unwrap();
    let mut tasks = Vec::new();
    for (index, store) in stores.iter().cycle().take(8).enumerate() {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store.claim_deliveries(Timestamp::now(), later(Timestamp::now(), 600), 7 + index as u64, 400, &[]).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|due| due.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for task in tasks {
        for id in task.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "delivery {id} claimed twice");
        }
    }
    assert_eq!((total, seen.len()), (400, 400), "every delivery claimed, once");
    stores[0].delete_webhook(hook.id).await.unwrap();
}
