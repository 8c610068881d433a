//! Events for webhooks: a use case that changed something reports it here after its change
//! committed, and the event is enqueued, one delivery per subscribed webhook, in the store's
//! durable queue; the server's delivery worker sends it (`juror-server/src/webhooks/`).
//!
//! Which webhooks are enabled and what they subscribe to is read at most once a second (and at
//! once after a change made here), so a dataset without webhooks pays one cache look-up per
//! change; a payload is built only when some webhook wants the event. Enqueueing is a write of
//! its own, after the change: a failure to enqueue is logged and never fails the change.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use juror_core::ids::{DatasetId, DeliveryId, RecordId, WebhookId};
use juror_core::record::{Record, RecordStatus};
use juror_core::response::{Response, ResponseStatus};
use juror_core::time::Timestamp;
use juror_core::user::User;
use juror_core::webhook::{NewDelivery, Webhook, WebhookEvent};
use serde_json::Value;
use tokio::sync::Notify;

use crate::cache::Fresh;
use crate::error::{not_found, AppResult};
use crate::event_payload;
use crate::App;

/// The enabled webhooks and datasets as events carry them, read a moment ago; and the signal
/// that wakes the delivery worker.
#[derive(Default)]
pub(crate) struct Events {
    webhooks: Fresh<(), Arc<Vec<Webhook>>>,
    datasets: Fresh<DatasetId, Arc<Value>>,
    enqueued: Arc<Notify>,
}

impl Events {
    /// Forgets the webhooks read, after a change to them.
    pub(crate) fn webhooks_changed(&self) {
        self.webhooks.clear();
    }

    /// Forgets a dataset's event data, after a change to the dataset or its settings.
    pub(crate) fn dataset_changed(&self, dataset: DatasetId) {
        self.datasets.forget(&dataset);
    }

    /// Wakes the delivery worker.
    pub(crate) fn enqueued(&self) {
        self.enqueued.notify_one();
    }
}

impl App {
    /// Woken whenever this process enqueues a delivery, for the delivery worker.
    pub fn deliveries_enqueued(&self) -> Arc<Notify> {
        Arc::clone(&self.events.enqueued)
    }

    /// The enabled webhooks now (read at most once a second).
    async fn enabled_webhooks(&self) -> Arc<Vec<Webhook>> {
        if let Some(webhooks) = self.events.webhooks.get(&()) {
            return webhooks;
        }
        match self.store.list_webhooks().await {
            Ok(webhooks) => {
                let enabled: Arc<Vec<Webhook>> = Arc::new(webhooks.into_iter().filter(|webhook| webhook.enabled).collect());
                self.events.webhooks.put((), Arc::clone(&enabled));
                enabled
            }
            Err(error) => {
                tracing::error!(error = %error, "failed to read the webhooks; events are not enqueued: {error}");
                Arc::default()
            }
        }
    }

    /// The webhooks that want `event` now.
    pub(crate) async fn subscribers(&self, event: WebhookEvent) -> Vec<WebhookId> {
        wanting(&self.enabled_webhooks().await, event)
    }

    /// Enqueues one delivery of each event's data to each of `targets`.
    pub(crate) async fn enqueue(&self, event: &str, targets: &[WebhookId], items: Vec<(Value, Option<String>)>) {
        if targets.is_empty() || items.is_empty() {
            return;
        }
        let at = Timestamp::now();
        let mut deliveries = Vec::with_capacity(targets.len() * items.len());
        for (data, dedupe_key) in &items {
            let payload = event_payload::envelope(event, at, data);
            for webhook in targets {
                deliveries.push(NewDelivery { id: DeliveryId::new(), webhook_id: *webhook, event: event.to_owned(), payload: payload.clone(), dedupe_key: dedupe_key.clone(), at });
            }
        }
        match self.store.enqueue_deliveries(&deliveries).await {
            Ok(_) => self.events.enqueued(),
            Err(error) => tracing::error!(event, error = %error, "failed to enqueue {} webhook deliveries: {error}", deliveries.len()),
        }
    }

    /// A dataset as events carry it: read now, or a moment ago when nothing changed it here
    /// since (events that follow answers carry it, and reading it for each would cost more than
    /// the answer).
    pub(crate) async fn dataset_event_data(&self, dataset: DatasetId) -> AppResult<Arc<Value>> {
        if let Some(data) = self.events.datasets.get(&dataset) {
            return Ok(data);
        }
        let schema = self.store.load_schema(dataset).await?.ok_or_else(|| not_found("Dataset", dataset))?;
        let workspace = self.store.get_workspace(schema.dataset.workspace_id).await?.ok_or_else(|| not_found("Workspace", schema.dataset.workspace_id))?;
        let data = Arc::new(event_payload::dataset(&schema, &workspace));
        self.events.datasets.put(dataset, Arc::clone(&data));
        Ok(data)
    }

    /// Reports a change to a dataset, which still exists.
    pub(crate) async fn dataset_event(&self, event: WebhookEvent, dataset: DatasetId) {
        let targets = self.subscribers(event).await;
        if targets.is_empty() {
            return;
        }
        // Its changes here forgot the cached copy already (`settings_changed`).
        match self.dataset_event_data(dataset).await {
            Ok(data) => self.enqueue(event.as_str(), &targets, vec![((*data).clone(), None)]).await,
            Err(error) => tracing::error!(event = event.as_str(), error = %error, "failed to build a webhook event: {error}"),
        }
    }

    /// Reports records created, updated or deleted (deleted ones as they were before).
    pub(crate) async fn records_event(&self, event: WebhookEvent, records: &[Record]) {
        let targets = if records.is_empty() { Vec::new() } else { self.subscribers(event).await };
        self.enqueue_records(event, &targets, records, |_| None).await;
    }

    /// The records of `dataset` among `ids` as they are before a deletion, when some webhook
    /// wants to hear of it.
    pub(crate) async fn records_to_report_deleted(&self, dataset: DatasetId, ids: &[RecordId]) -> Vec<Record> {
        if self.subscribers(WebhookEvent::RecordDeleted).await.is_empty() {
            return Vec::new();
        }
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            match self.store.get_record(*id).await {
                Ok(Some(record)) if record.dataset_id == dataset => records.push(record),
                Ok(_) => {}
                Err(error) => tracing::error!(error = %error, "failed to read a record to report its deletion: {error}"),
            }
        }
        records
    }

    /// A dataset as events carry it, when some webhook wants `event`: read before a deletion.
    pub(crate) async fn dataset_to_report(&self, event: WebhookEvent, dataset: DatasetId) -> Option<Value> {
        if self.subscribers(event).await.is_empty() {
            return None;
        }
        self.events.dataset_changed(dataset);
        self.dataset_event_data(dataset).await.map(|data| (*data).clone()).map_err(|error| tracing::error!(error = %error, "failed to read a dataset to report: {error}")).ok()
    }

    /// Reports a dataset deleted, as [`App::dataset_to_report`] read it.
    pub(crate) async fn dataset_deleted_event(&self, data: Option<Value>) {
        if let Some(data) = data {
            let targets = self.subscribers(WebhookEvent::DatasetDeleted).await;
            self.enqueue(WebhookEvent::DatasetDeleted.as_str(), &targets, vec![(data, None)]).await;
        }
    }

    /// Reports the completed ones of records whose answers just changed, once per webhook.
    pub(crate) async fn completions_event(&self, records: &[Record]) {
        let completed: Vec<Record> = records.iter().filter(|record| record.status == RecordStatus::Completed).cloned().collect();
        let targets = if completed.is_empty() { Vec::new() } else { self.subscribers(WebhookEvent::RecordCompleted).await };
        self.enqueue_records(WebhookEvent::RecordCompleted, &targets, &completed, |record| Some(completion_key(record))).await;
    }

    async fn enqueue_records(&self, event: WebhookEvent, targets: &[WebhookId], records: &[Record], dedupe_key: impl Fn(&Record) -> Option<String>) {
        if targets.is_empty() {
            return;
        }
        let mut datasets: HashMap<DatasetId, Arc<Value>> = HashMap::new();
        let mut items = Vec::with_capacity(records.len());
        for record in records {
            if let Entry::Vacant(entry) = datasets.entry(record.dataset_id) {
                match self.dataset_event_data(record.dataset_id).await {
                    Ok(data) => entry.insert(data),
                    Err(error) => {
                        tracing::error!(event = event.as_str(), error = %error, "failed to build a webhook event: {error}");
                        return;
                    }
                };
            }
            items.push((event_payload::record(record, &datasets[&record.dataset_id]), dedupe_key(record)));
        }
        self.enqueue(event.as_str(), targets, items).await;
    }

    /// Reports a response created, updated or deleted, and its record's completion when the
    /// answer completed it.
    pub(crate) async fn response_event(&self, event: WebhookEvent, response: &Response, author: Option<&User>) {
        let webhooks = self.enabled_webhooks().await;
        let targets = wanting(&webhooks, event);
        let completion_targets = if response.status == ResponseStatus::Submitted && event != WebhookEvent::ResponseDeleted {
            wanting(&webhooks, WebhookEvent::RecordCompleted)
        } else {
            Vec::new()
        };
        if targets.is_empty() && completion_targets.is_empty() {
            return;
        }
        if let Err(error) = self.enqueue_response_event(event, response, author, &targets, &completion_targets).await {
            tracing::error!(event = event.as_str(), error = %error, "failed to build a webhook event: {error}");
        }
    }

    async fn enqueue_response_event(&self, event: WebhookEvent, response: &Response, author: Option<&User>, targets: &[WebhookId], completion_targets: &[WebhookId]) -> AppResult<()> {
        let record = self.stored_record(response.record_id).await?;
        let dataset = self.dataset_event_data(record.dataset_id).await?;
        let record_data = event_payload::record(&record, &dataset);
        if !targets.is_empty() {
            let author = match author {
                Some(author) => author.clone(),
                None => self.store.get_user(response.user_id).await?.ok_or_else(|| not_found("User", response.user_id))?,
            };
            self.enqueue(event.as_str(), targets, vec![(event_payload::response(response, &record_data, &author), None)]).await;
        }
        if record.status == RecordStatus::Completed {
            let key = completion_key(&record);
            self.enqueue(WebhookEvent::RecordCompleted.as_str(), completion_targets, vec![(record_data, Some(key))]).await;
        }
        Ok(())
    }
}

/// The webhooks of `webhooks` that want `event`.
fn wanting(webhooks: &[Webhook], event: WebhookEvent) -> Vec<WebhookId> {
    webhooks.iter().filter(|webhook| webhook.wants(event)).map(|webhook| webhook.id).collect()
}

/// A record's completion is reported once per webhook.
fn completion_key(record: &Record) -> String {
    format!("record.completed:{}", record.id)
}
