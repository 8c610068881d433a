//! The test harness: a real server on `127.0.0.1:0` over a fresh SQLite database, API clients for
//! each role, and builders for the workspaces, users and comparison datasets the tests share.

use std::sync::Arc;
use std::time::Duration;

use juror_app::{App, DefaultOwner};
use juror_server::ServerConfig;
use juror_store::Lifecycle;
use juror_store_sqlite::{SqliteStore, SqliteStoreOptions};
use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The default owner's API key, seeded on every fresh database.
pub const OWNER_API_KEY: &str = "argilla.apikey";
/// The default owner's workspace.
pub const OWNER_WORKSPACE: &str = "argilla";
/// The body limit the test server runs with.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A running server with its own database in a temporary directory.
pub struct TestApp {
    pub base_url: String,
    http: reqwest::Client,
    store: SqliteStore,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    // Dropped last: the database lives here.
    dir: TempDir,
}

/// A status and a JSON body (`Null` for an empty body, a string for a body that is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// A user created through the API.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub api_key: String,
}

/// Calls the API with one API key, or none.
pub struct Caller<'a> {
    app: &'a TestApp,
    api_key: Option<String>,
}

impl TestApp {
    /// Starts a server on a fresh database seeded with the default owner.
    pub async fn spawn() -> Self {
        Self::spawn_with(Self::config()).await
    }

    /// Like `spawn`, with records handed out for `lease` at a time.
    pub async fn spawn_with_lease(lease: Duration) -> Self {
        let dir = tempfile::tempdir().expect("failed to create a temporary directory");
        Self::start(dir, lease, Self::config()).await
    }

    /// Like `spawn`, with these server settings.
    pub async fn spawn_with(config: ServerConfig) -> Self {
        let dir = tempfile::tempdir().expect("failed to create a temporary directory");
        Self::start(dir, juror_app::DEFAULT_LEASE, config).await
    }

    /// The server settings of the tests: the defaults with a 1 MiB body limit.
    pub fn config() -> ServerConfig {
        ServerConfig {
            max_body_bytes: MAX_BODY_BYTES,
            ..ServerConfig::default()
        }
    }

    async fn start(dir: TempDir, lease: Duration, config: ServerConfig) -> Self {
        let store = SqliteStore::open(&SqliteStoreOptions::new(dir.path().join("juror.db")))
            .await
            .expect("failed to open the test database");
        let app = App::new(Arc::new(store.clone())).with_lease_duration(lease);
        app.ensure_default_owner(&DefaultOwner {
            username: "argilla".into(),
            password: "12345678".into(),
            api_key: OWNER_API_KEY.into(),
            workspace: OWNER_WORKSPACE.into(),
        })
        .await
        .expect("failed to seed the default owner");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("failed to bind a test port");
        let base_url = format!(
            "http://{}",
            listener.local_addr().expect("failed to read the test port")
        );
        let (shutdown, signal) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            juror_server::serve(listener, app, &config, async move {
                let _ = signal.await;
            })
            .await
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("failed to build the HTTP client");
        Self {
            base_url,
            http,
            store,
            shutdown: Some(shutdown),
            server: Some(server),
            dir,
        }
    }

    /// Shuts the server down, closes the database, and starts a new server on the same file.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let dir = std::mem::replace(
            &mut self.dir,
            tempfile::tempdir().expect("failed to create a temporary directory"),
        );
        Self::start(dir, juror_app::DEFAULT_LEASE, Self::config()).await
    }

    async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(30), server)
                .await
                .expect("the server did not shut down")
                .expect("the server task panicked")
                .expect("the server failed");
        }
        self.store.close().await;
    }

    /// A second application over the same database file, as another process (the CLI, another
    /// server) would have: its own caches, the same data.
    pub async fn other_process(&self) -> App {
        let store = SqliteStore::open(&SqliteStoreOptions::new(self.dir.path().join("juror.db")))
            .await
            .expect("failed to open the test database a second time");
        App::new(Arc::new(store))
    }

    /// The default owner.
    pub fn owner(&self) -> Caller<'_> {
        self.with_key(OWNER_API_KEY)
    }

    /// A caller with `api_key`.
    pub fn with_key(&self, api_key: &str) -> Caller<'_> {
        Caller {
            app: self,
            api_key: Some(api_key.to_owned()),
        }
    }

    /// A caller without credentials.
    pub fn anonymous(&self) -> Caller<'_> {
        Caller {
            app: self,
            api_key: None,
        }
    }

    /// The id of the default owner's workspace.
    pub async fn owner_workspace_id(&self) -> String {
        let answer = self.owner().get("/api/v1/me/workspaces").await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body["items"]
            .as_array()
            .expect("workspaces are listed under items")
            .iter()
            .find(|workspace| workspace["name"] == OWNER_WORKSPACE)
            .and_then(|workspace| workspace["id"].as_str())
            .expect("the default workspace exists")
            .to_owned()
    }

    /// Creates a workspace as the owner; returns its id.
    pub async fn create_workspace(&self, name: &str) -> String {
        let answer = self
            .owner()
            .post("/api/v1/workspaces", &json!({"name": name}))
            .await;
        assert_eq!(answer.status, 201, "{answer:?}");
        id_of(&answer.body)
    }

    /// Creates a user with `role` (owner, admin or annotator) as the owner.
    pub async fn create_user(&self, username: &str, role: &str) -> TestUser {
        let body = json!({"first_name": username, "username": username, "role": role, "password": "password1234"});
        let answer = self.owner().post("/api/v1/users", &body).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        assert_eq!(answer.body["role"], role);
        TestUser {
            id: id_of(&answer.body),
            username: username.to_owned(),
            api_key: answer.body["api_key"]
                .as_str()
                .expect("a new user has an api_key")
                .to_owned(),
        }
    }

    /// Adds a user to a workspace as the owner.
    pub async fn add_member(&self, workspace_id: &str, user: &TestUser) {
        let answer = self
            .owner()
            .post(
                &format!("/api/v1/workspaces/{workspace_id}/users"),
                &json!({"user_id": user.id}),
            )
            .await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }

    /// Creates a user with `role` who is a member of `workspace_id`.
    pub async fn create_member(&self, workspace_id: &str, username: &str, role: &str) -> TestUser {
        let user = self.create_user(username, role).await;
        self.add_member(workspace_id, &user).await;
        user
    }

    /// Creates and publishes, as the owner, a comparison dataset: text fields `prompt`,
    /// `response-1` and `response-2` (required), a required ranking question `preference` over
    /// `response-1`/`response-2`, and an optional rating question `quality` with values 1 to 5.
    pub async fn create_comparison_dataset(&self, workspace_id: &str, name: &str) -> String {
        let owner = self.owner();
        let answer = owner
            .post(
                "/api/v1/datasets",
                &json!({"name": name, "workspace_id": workspace_id}),
            )
            .await;
        assert_eq!(answer.status, 201, "{answer:?}");
        assert_eq!(answer.body["status"], "draft");
        let dataset_id = id_of(&answer.body);
        for field in ["prompt", "response-1", "response-2"] {
            let body = json!({"name": field, "title": field, "required": true, "settings": {"type": "text"}});
            let answer = owner
                .post(&format!("/api/v1/datasets/{dataset_id}/fields"), &body)
                .await;
            assert_eq!(answer.status, 201, "{answer:?}");
        }
        let preference = json!({
            "name": "preference",
            "title": "Which response is better?",
            "required": true,
            "settings": {"type": "ranking", "options": [
                {"value": "response-1", "text": "Response 1"},
                {"value": "response-2", "text": "Response 2"},
            ]},
        });
        let quality = json!({
            "name": "quality",
            "title": "How good is the better response?",
            "required": false,
            "settings": {"type": "rating", "options": (1..=5).map(|value| json!({"value": value})).collect::<Vec<_>>()},
        });
        for question in [preference, quality] {
            let answer = owner
                .post(
                    &format!("/api/v1/datasets/{dataset_id}/questions"),
                    &question,
                )
                .await;
            assert_eq!(answer.status, 201, "{answer:?}");
        }
        let answer = owner
            .put(
                &format!("/api/v1/datasets/{dataset_id}/publish"),
                &json!({}),
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.body["status"], "ready");
        dataset_id
    }

    /// A comparison dataset in the owner's workspace.
    pub async fn owner_dataset(&self) -> String {
        let workspace_id = self.owner_workspace_id().await;
        self.create_comparison_dataset(&workspace_id, "comparisons")
            .await
    }

    /// Bulk-creates records as the owner; returns their ids in order.
    pub async fn create_records(&self, dataset_id: &str, items: Vec<Value>) -> Vec<String> {
        let answer = self
            .owner()
            .post(
                &format!("/api/v1/datasets/{dataset_id}/records/bulk"),
                &json!({"items": items}),
            )
            .await;
        assert_eq!(answer.status, 201, "{answer:?}");
        answer.body["items"]
            .as_array()
            .expect("created records are listed under items")
            .iter()
            .map(id_of)
            .collect()
    }

    /// Creates one record as the owner; returns its id.
    pub async fn create_record(&self, dataset_id: &str) -> String {
        self.create_records(dataset_id, vec![comparison_record("Which is better?")])
            .await
            .remove(0)
    }

    /// Bulk-creates records as the owner, whatever the answer.
    pub async fn bulk_post(&self, dataset_id: &str, body: &Value) -> Answer {
        self.owner().post(&bulk_path(dataset_id), body).await
    }

    /// Bulk-upserts records as the owner, whatever the answer.
    pub async fn bulk_put(&self, dataset_id: &str, body: &Value) -> Answer {
        self.owner().put(&bulk_path(dataset_id), body).await
    }

    /// A server with an annotator who is a member of the owner's workspace, which holds one
    /// comparison dataset: (app, annotator, workspace id, dataset id).
    pub async fn with_annotator() -> (Self, TestUser, String, String) {
        let app = Self::spawn().await;
        let workspace_id = app.owner_workspace_id().await;
        let annotator = app.create_member(&workspace_id, "annotator", "annotator").await;
        let dataset_id = app.create_comparison_dataset(&workspace_id, "comparisons").await;
        (app, annotator, workspace_id, dataset_id)
    }

    /// The number of records in a dataset, from `/me/datasets/{id}/metrics`.
    pub async fn record_count(&self, dataset_id: &str) -> u64 {
        let answer = self
            .owner()
            .get(&format!("/api/v1/me/datasets/{dataset_id}/metrics"))
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body["records"]["count"]
            .as_u64()
            .expect("metrics carry records.count")
    }

    /// A record with all its relationships, read as the owner.
    pub async fn record(&self, record_id: &str) -> Value {
        let answer = self
            .owner()
            .get(&format!("/api/v1/records/{record_id}"))
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body
    }

    /// The responses stored on a record.
    pub async fn responses_of(&self, record_id: &str) -> Vec<Value> {
        self.record(record_id).await["responses"]
            .as_array()
            .expect("a record read by id includes its responses")
            .clone()
    }

    /// A dataset's records as the owner lists them, with responses.
    pub async fn list_records(&self, dataset_id: &str) -> Vec<Value> {
        let answer = self
            .owner()
            .get(&format!(
                "/api/v1/datasets/{dataset_id}/records?include=responses&limit=1000"
            ))
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(
            answer.body["total"].as_u64(),
            answer.body["items"]
                .as_array()
                .map(|items| items.len() as u64)
        );
        answer.body["items"]
            .as_array()
            .expect("records are listed under items")
            .clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Caller<'_> {
    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// Sends `body` as it is, labelled as JSON: for malformed and oversized bodies.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let request = self
            .request(method, path)
            .header("content-type", "application/json")
            .body(body);
        read_answer(request.send().await.expect("the request failed")).await
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        read_answer(request.send().await.expect("the request failed")).await
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .app
            .http
            .request(method, format!("{}{path}", self.app.base_url));
        match &self.api_key {
            Some(key) => request.header("X-Argilla-Api-Key", key),
            None => request,
        }
    }
}

async fn read_answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .expect("failed to read the response body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer { status, body }
}

/// The bulk record route of a dataset.
pub fn bulk_path(dataset_id: &str) -> String {
    format!("/api/v1/datasets/{dataset_id}/records/bulk")
}

/// The entries of a 200 list answer: `{"items": [...]}`, or a bare list (the legacy routes).
pub fn listed(answer: &Answer) -> Vec<Value> {
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body.get("items").unwrap_or(&answer.body).as_array().unwrap_or_else(|| panic!("not a list: {answer:?}")).clone()
}

/// The `id` of a JSON object.
pub fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// A valid record for the comparison dataset.
pub fn comparison_record(prompt: &str) -> Value {
    json!({"fields": {"prompt": prompt, "response-1": "first answer", "response-2": "second answer"}})
}

/// A ranking answer for `preference`.
pub fn ranking(entries: &[(&str, Value)]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|(value, rank)| json!({"value": value, "rank": rank}))
            .collect(),
    )
}

/// A complete submitted response: response-1 ranked first.
pub fn submitted_response() -> Value {
    json!({"status": "submitted", "values": {"preference": {"value": ranking(&[("response-1", json!(1)), ("response-2", json!(2))])}}})
}

/// Asserts Argilla's 401 body.
pub fn assert_unauthorized(answer: &Answer) {
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({"detail": {"code": "argilla.api.errors::UnauthorizedError", "params": {"detail": "Could not validate credentials"}}})
    );
}

/// Asserts Argilla's 403 body.
pub fn assert_forbidden(answer: &Answer) {
    assert_eq!(answer.status, 403, "{answer:?}");
    assert_eq!(
        answer.body,
        json!({"detail": {"code": "argilla.api.errors::ForbiddenOperationError", "params": {"detail": "Operation not allowed"}}})
    );
}

/// Asserts a 422 request-shape error (`ValidationError`) and returns its first error.
pub fn assert_request_invalid(answer: &Answer) -> &Value {
    assert_eq!(answer.status, 422, "{answer:?}");
    assert_eq!(
        answer.body["detail"]["code"], "argilla.api.errors::ValidationError",
        "{answer:?}"
    );
    let errors = answer.body["detail"]["params"]["errors"]
        .as_array()
        .expect("a ValidationError lists errors");
    assert!(!errors.is_empty(), "{answer:?}");
    for error in errors {
        assert!(
            error["type"].is_string() && error["msg"].is_string() && error["loc"].is_array(),
            "{error}"
        );
    }
    &errors[0]
}

/// Asserts a 422 domain error, `{"detail": "<message>"}`, and returns the message.
pub fn assert_invalid(answer: &Answer) -> &str {
    assert_eq!(answer.status, 422, "{answer:?}");
    answer.body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("detail is not a message: {answer:?}"))
}
