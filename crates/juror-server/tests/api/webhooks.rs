//! Webhooks end to end: a real endpoint on a free port receives the events it subscribed to,
//! signed the Standard Webhooks way, once each; failures are retried and visible to owners; local
//! addresses are refused unless allowed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use hmac::{Hmac, Mac};
use juror_core::webhook::RetryPolicy;
use juror_server::{AddressGuard, ServerConfig, WebhookConfig};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::net::TcpListener;

use crate::helpers::{comparison_record, id_of, submitted_response, TestApp};

/// One request the endpoint received.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// An endpoint that keeps what it receives and answers with the statuses queued, then 200.
#[derive(Clone, Default)]
struct Endpoint {
    received: Arc<Mutex<Vec<Received>>>,
    failures: Arc<Mutex<Vec<u16>>>,
}

impl Endpoint {
    async fn start(self) -> String {
        async fn receive(State(endpoint): State<Endpoint>, headers: HeaderMap, body: Bytes) -> StatusCode {
            let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
            endpoint.received.lock().unwrap().push(Received { id: header("webhook-id"), timestamp: header("webhook-timestamp"), signature: header("webhook-signature"), body: String::from_utf8_lossy(&body).into_owned() });
            let status = endpoint.failures.lock().unwrap().pop().unwrap_or(200);
            StatusCode::from_u16(status).unwrap()
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new().route("/hook", post(receive)).with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// What was received once `count` requests came (or 15 s passed).
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..150 {
            if self.received().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.received()
    }
}

/// A server that may deliver to this machine, retrying after 50 ms.
fn local_config() -> ServerConfig {
    ServerConfig {
        webhooks: WebhookConfig {
            retry: RetryPolicy { base: Duration::from_millis(50), cap: Duration::from_millis(200), max_attempts: 3 },
            poll_interval: Duration::from_millis(50),
            guard: AddressGuard::new(true, Vec::new()),
            ..WebhookConfig::default()
        },
        ..TestApp::config()
    }
}

fn verify(secret: &str, received: &Received) -> Value {
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(received.signature, expected, "signature of {}", received.body);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - received.timestamp.parse::<i64>().unwrap()).abs() < 60, "a current timestamp");
    serde_json::from_str(&received.body).unwrap()
}

/// The webhook's newest delivery once it reaches `status` (or as it is after 5 s).
async fn newest_delivery(app: &TestApp, webhook: &str, status: &str) -> Value {
    let mut delivery = Value::Null;
    for _ in 0..100 {
        delivery = app.owner().get(&format!("/api/v1/webhooks/{webhook}/deliveries")).await.body["items"][0].clone();
        if delivery["status"] == status {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    delivery
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|event| event["type"] == kind).collect()
}

#[tokio::test]
async fn subscribed_events_arrive_signed_and_once() {
    let endpoint = Endpoint::default();
    let url = endpoint.clone().start().await;
    let app = TestApp::spawn_with(local_config()).await;
    let owner = app.owner();
    let created = owner.post("/api/v1/webhooks", &json!({"url": url, "events": ["dataset.created", "response.created", "record.completed"], "description": "test"})).await;
    assert_eq!(created.status, 201, "{created:?}");
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created.body["events"], json!(["dataset.created", "response.created", "record.completed"]));
    assert_eq!(created.body["enabled"], true);
    let listed = owner.get("/api/v1/webhooks").await;
    assert_eq!(listed.body["items"][0]["id"], created.body["id"]);

    let workspace = app.owner_workspace_id().await;
    let dataset = app.create_comparison_dataset(&workspace, "hooked").await;
    owner.patch(&format!("/api/v1/datasets/{dataset}"), &json!({"distribution": {"strategy": "overlap", "min_submitted": 2}})).await;
    let records = app.create_records(&dataset, vec![comparison_record("one"), comparison_record("two")]).await;
    let first = app.create_member(&workspace, "first", "annotator").await;
    let second = app.create_member(&workspace, "second", "annotator").await;
    let third = app.create_member(&workspace, "third", "annotator").await;
    for labeler in [&first, &second, &third] {
        let answer = app.with_key(&labeler.api_key).post(&format!("/api/v1/records/{}/responses", records[0]), &submitted_response()).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }

    // One dataset created, three responses, one completion: the third answer does not complete
    // the record again.
    let received = endpoint.wait_for(5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = if endpoint.received().len() > received.len() { endpoint.received() } else { received };
    let events: Vec<Value> = received.iter().map(|message| verify(&secret, message)).collect();
    assert_eq!(events.len(), 5, "{events:#?}");
    let ids: std::collections::HashSet<&str> = received.iter().map(|message| message.id.as_str()).collect();
    assert_eq!(ids.len(), 5, "each message has its own id");

    let dataset_created = of_type(&events, "dataset.created");
    assert_eq!(dataset_created.len(), 1);
    assert_eq!(dataset_created[0]["version"], 1);
    assert_eq!(dataset_created[0]["data"]["id"], dataset.as_str());
    assert_eq!(dataset_created[0]["data"]["workspace"]["name"], "argilla");
    assert!(dataset_created[0]["timestamp"].as_str().unwrap().ends_with('Z'));

    let responses = of_type(&events, "response.created");
    assert_eq!(responses.len(), 3);
    let authors: std::collections::HashSet<&str> = responses.iter().map(|event| event["data"]["user"]["username"].as_str().unwrap()).collect();
    assert_eq!(authors, ["first", "second", "third"].into_iter().collect());
    assert!(responses.iter().all(|event| event["data"]["record"]["id"] == records[0].as_str() && event["data"]["user"].get("api_key").is_none()));

    let completed = of_type(&events, "record.completed");
    assert_eq!(completed.len(), 1, "a record completes once");
    assert_eq!(completed[0]["data"]["id"], records[0].as_str());
    assert_eq!(completed[0]["data"]["status"], "completed");
    assert_eq!(completed[0]["data"]["fields"]["prompt"], "one");
    assert_eq!(completed[0]["data"]["dataset"]["questions"][0]["name"], "preference");

    let deliveries = owner.get(&format!("/api/v1/webhooks/{}/deliveries", id_of(&created.body))).await;
    let items = deliveries.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|item| item["status"] == "delivered" && item["attempts"] == 1 && item["last_status_code"] == 200), "{items:#?}");
}

#[tokio::test]
async fn failed_attempts_are_retried_with_the_same_id_and_shown_to_owners() {
    let endpoint = Endpoint::default();
    endpoint.failures.lock().unwrap().extend([500, 503]);
    let url = endpoint.clone().start().await;
    let app = TestApp::spawn_with(local_config()).await;
    let owner = app.owner();
    let webhook = owner.post("/api/v1/webhooks", &json!({"url": url, "events": ["dataset.deleted"]})).await;
    let id = id_of(&webhook.body);
    assert_eq!(owner.post(&format!("/api/v1/webhooks/{id}/ping"), &json!({})).await.status, 204);
    let received = endpoint.wait_for(3).await;
    assert_eq!(received.len(), 3, "two failures, then delivered");
    assert!(received.iter().all(|message| message.id == received[0].id), "one message id across attempts");
    let ping = verify(webhook.body["secret"].as_str().unwrap(), &received[2]);
    assert_eq!((ping["type"].as_str(), ping["data"]["agent"].as_str()), (Some("ping"), Some("juror")));
    let delivery = newest_delivery(&app, &id, "delivered").await;
    assert_eq!((delivery["status"].as_str(), delivery["attempts"].as_u64(), delivery["last_status_code"].as_u64()), (Some("delivered"), Some(3), Some(200)), "{delivery}");

    // An endpoint that never succeeds: failed after the policy's three attempts, with the reason.
    endpoint.failures.lock().unwrap().extend([500, 500, 500]);
    owner.post(&format!("/api/v1/webhooks/{id}/ping"), &json!({})).await;
    let delivery = newest_delivery(&app, &id, "failed").await;
    assert_eq!((delivery["status"].as_str(), delivery["attempts"].as_u64()), (Some("failed"), Some(3)), "{delivery}");
    assert_eq!(delivery["last_error"], "the endpoint answered 500");

    // Disabled, it gets nothing; the SDK's whole-model PATCH is accepted.
    let mut model = webhook.body.clone();
    model["enabled"] = json!(false);
    let patched = owner.patch(&format!("/api/v1/webhooks/{id}"), &model).await;
    assert_eq!((patched.status, patched.body["enabled"].as_bool()), (200, Some(false)), "{patched:?}");
    let deleted = owner.delete(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(owner.get(&format!("/api/v1/webhooks/{id}/deliveries")).await.status, 404);
}

#[tokio::test]
async fn bad_webhooks_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let owner = app.owner();
    for (body, expected) in [
        (json!({"url": "http://127.0.0.1:9/hook", "events": ["record.completed"]}), "--webhooks-allow-local"),
        (json!({"url": "http://169.254.169.254/latest", "events": ["record.completed"]}), "link-local"),
        (json!({"url": "ftp://example.com/hook", "events": ["record.completed"]}), "http or https"),
        (json!({"url": "https://example.com/hook", "events": ["record.exploded"]}), "unknown event `record.exploded`"),
        (json!({"url": "https://example.com/hook", "events": []}), "at least one"),
    ] {
        let answer = owner.post("/api/v1/webhooks", &body).await;
        assert_eq!(answer.status, 422, "{body}: {answer:?}");
        assert!(answer.body.to_string().contains(expected), "{body}: {answer:?}");
    }
    assert!(owner.get("/api/v1/webhooks").await.body["items"].as_array().unwrap().is_empty(), "nothing stored");
}

/// A redirect is an answer, not a place to go: deliveries never follow one (it could lead to an
/// address the guard refuses).
#[tokio::test]
async fn redirects_are_not_followed() {
    let endpoint = Endpoint::default();
    endpoint.failures.lock().unwrap().extend([307, 307, 307]);
    let url = endpoint.clone().start().await;
    let app = TestApp::spawn_with(local_config()).await;
    let owner = app.owner();
    let id = id_of(&owner.post("/api/v1/webhooks", &json!({"url": url, "events": ["dataset.created"]})).await.body);
    owner.post(&format!("/api/v1/webhooks/{id}/ping"), &json!({})).await;
    let delivery = newest_delivery(&app, &id, "failed").await;
    assert_eq!((delivery["status"].as_str(), delivery["last_status_code"].as_u64()), (Some("failed"), Some(307)), "{delivery}");
    assert_eq!(endpoint.received().len(), 3, "each attempt made one request, none followed");
}
