//! The authorization matrix: every API route, called as each kind of caller, with the status each
//! must get. The routes are read from the route table's source (`src/api/*.rs`), so a route added
//! without a row here fails the test, and a row for a route that is gone fails it too.
//!
//! Callers, in the order of each row's statuses: the owner, an admin of the workspace, an admin of
//! another workspace, an annotator of the workspace, an annotator of another workspace, and a
//! caller without a key. Every call that can change something runs against fresh resources made
//! for it alone, so one caller's success never changes what the next one meets.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{comparison_record, id_of, submitted_response, TestApp, TestUser};

/// The callers of a row, in order.
const CALLERS: [&str; 6] = ["owner", "admin", "admin elsewhere", "annotator", "annotator elsewhere", "anonymous"];

/// Anyone, with or without a key.
fn public(ok: u16) -> [u16; 6] {
    [ok; 6]
}

/// Anyone with a key.
fn signed_in(ok: u16) -> [u16; 6] {
    [ok, ok, ok, ok, ok, 401]
}

/// Owners only.
fn owners(ok: u16) -> [u16; 6] {
    [ok, 403, 403, 403, 403, 401]
}

/// Owners and admins of the workspace.
fn managers(ok: u16) -> [u16; 6] {
    [ok, ok, 403, 403, 403, 401]
}

/// Owners and every member of the workspace.
fn members(ok: u16) -> [u16; 6] {
    [ok, ok, 403, ok, 403, 401]
}

/// One route called one way: the route as the table names it, the concrete path and body with
/// `{name}` (path) and `$name` (body) standing for the fixture's ids, and the statuses by caller.
struct Row {
    method: Method,
    route: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: [u16; 6],
    /// A GET that changes something (the web UI's "Start labeling" leases a record).
    leases: bool,
}

fn row(method: Method, route: &'static str, expect: [u16; 6]) -> Row {
    Row { method, route, path: route, body: None, expect, leases: false }
}

impl Row {
    fn at(mut self, path: &'static str) -> Self {
        self.path = path;
        self
    }

    fn body(mut self, body: &'static str) -> Self {
        self.body = Some(body);
        self
    }

    fn leasing(mut self) -> Self {
        self.leases = true;
        self
    }

    fn changes_something(&self) -> bool {
        self.leases || (self.method != Method::GET && !self.route.ends_with("/records/search"))
    }
}

fn rows() -> Vec<Row> {
    use Method as M;
    vec![
        // Health and version.
        row(M::GET, "/api/_info", public(200)),
        row(M::GET, "/api/_status", public(200)),
        row(M::GET, "/api/v1/version", public(200)),
        row(M::GET, "/api/v1/status", public(200)),
        row(M::GET, "/api/v1/settings", public(200)),
        // The legacy routes of the argilla-v1 SDK.
        row(M::GET, "/api/me", signed_in(200)),
        row(M::GET, "/api/users", owners(200)),
        row(M::POST, "/api/users", owners(200)).body(r#"{"username": "legacy-$unique", "password": "password1234"}"#),
        row(M::DELETE, "/api/users/{user_id}", owners(200)),
        row(M::POST, "/api/workspaces", owners(200)).body(r#"{"name": "legacy-$unique"}"#),
        row(M::GET, "/api/workspaces/{workspace_id}/users", managers(200)),
        row(M::POST, "/api/workspaces/{workspace_id}/users/{user_id}", owners(200)),
        row(M::DELETE, "/api/workspaces/{workspace_id}/users/{user_id}", managers(200)).at("/api/workspaces/{workspace_id}/users/{member_id}"),
        // Users.
        row(M::GET, "/api/v1/me", signed_in(200)),
        row(M::GET, "/api/v1/users", owners(200)),
        row(M::POST, "/api/v1/users", owners(201)).body(r#"{"username": "user-$unique", "first_name": "New", "password": "password1234"}"#),
        row(M::GET, "/api/v1/users/{user_id}", owners(200)),
        row(M::PATCH, "/api/v1/users/{user_id}", owners(200)).body(r#"{"first_name": "Renamed"}"#),
        row(M::DELETE, "/api/v1/users/{user_id}", owners(200)),
        row(M::GET, "/api/v1/users/{user_id}/workspaces", owners(200)),
        row(M::POST, "/api/v1/users/{user_id}/api-key", owners(200)).body("{}"),
        // Workspaces.
        row(M::GET, "/api/v1/me/workspaces", signed_in(200)),
        row(M::POST, "/api/v1/workspaces", owners(201)).body(r#"{"name": "workspace-$unique"}"#),
        row(M::GET, "/api/v1/workspaces/{workspace_id}", members(200)),
        row(M::DELETE, "/api/v1/workspaces/{workspace_id}", owners(200)).at("/api/v1/workspaces/{empty_workspace_id}"),
        row(M::GET, "/api/v1/workspaces/{workspace_id}/users", managers(200)),
        row(M::POST, "/api/v1/workspaces/{workspace_id}/users", owners(201)).body(r#"{"user_id": "$user_id"}"#),
        row(M::DELETE, "/api/v1/workspaces/{workspace_id}/users/{user_id}", managers(200)).at("/api/v1/workspaces/{workspace_id}/users/{member_id}"),
        // Datasets.
        row(M::GET, "/api/v1/me/datasets", signed_in(200)),
        row(M::POST, "/api/v1/datasets", managers(201)).body(r#"{"name": "dataset-$unique", "workspace_id": "$workspace_id"}"#),
        row(M::GET, "/api/v1/datasets/{dataset_id}", members(200)),
        row(M::PATCH, "/api/v1/datasets/{dataset_id}", managers(200)).body(r#"{"guidelines": "Rank them."}"#),
        row(M::DELETE, "/api/v1/datasets/{dataset_id}", managers(200)),
        row(M::PUT, "/api/v1/datasets/{dataset_id}/publish", managers(200)).at("/api/v1/datasets/{draft_dataset_id}/publish").body("{}"),
        // Settings: fields and questions change on a draft dataset.
        row(M::GET, "/api/v1/datasets/{dataset_id}/fields", members(200)),
        row(M::POST, "/api/v1/datasets/{dataset_id}/fields", managers(201))
            .at("/api/v1/datasets/{draft_dataset_id}/fields")
            .body(r#"{"name": "extra", "title": "Extra", "required": false, "settings": {"type": "text"}}"#),
        row(M::PATCH, "/api/v1/fields/{field_id}", managers(200)).body(r#"{"title": "Renamed"}"#),
        row(M::DELETE, "/api/v1/fields/{field_id}", managers(200)),
        row(M::GET, "/api/v1/datasets/{dataset_id}/questions", members(200)),
        row(M::POST, "/api/v1/datasets/{dataset_id}/questions", managers(201))
            .at("/api/v1/datasets/{draft_dataset_id}/questions")
            .body(r#"{"name": "note", "title": "Note", "required": false, "settings": {"type": "text"}}"#),
        row(M::PATCH, "/api/v1/questions/{question_id}", managers(200)).body(r#"{"title": "Renamed"}"#),
        row(M::DELETE, "/api/v1/questions/{question_id}", managers(200)),
        row(M::POST, "/api/v1/datasets/{dataset_id}/metadata-properties", managers(201)).body(r#"{"name": "length", "title": "Length", "settings": {"type": "integer"}}"#),
        row(M::GET, "/api/v1/me/datasets/{dataset_id}/metadata-properties", members(200)),
        row(M::PATCH, "/api/v1/metadata-properties/{property_id}", managers(200)).at("/api/v1/metadata-properties/{metadata_property_id}").body(r#"{"title": "Renamed"}"#),
        row(M::DELETE, "/api/v1/metadata-properties/{property_id}", managers(200)).at("/api/v1/metadata-properties/{metadata_property_id}"),
        row(M::GET, "/api/v1/metadata-properties/{property_id}/metrics", members(200)).at("/api/v1/metadata-properties/{metadata_property_id}/metrics"),
        row(M::GET, "/api/v1/datasets/{dataset_id}/vectors-settings", members(200)),
        row(M::POST, "/api/v1/datasets/{dataset_id}/vectors-settings", managers(201)).body(r#"{"name": "other", "title": "Other", "dimensions": 3}"#),
        row(M::PATCH, "/api/v1/vectors-settings/{vector_settings_id}", managers(200)).body(r#"{"title": "Renamed"}"#),
        row(M::DELETE, "/api/v1/vectors-settings/{vector_settings_id}", managers(200)),
        // Records.
        row(M::GET, "/api/v1/datasets/{dataset_id}/records", managers(200)),
        row(M::POST, "/api/v1/datasets/{dataset_id}/records", managers(204)).body(r#"{"items": [{"fields": {"prompt": "p", "response-1": "a", "response-2": "b"}}]}"#),
        row(M::PATCH, "/api/v1/datasets/{dataset_id}/records", managers(204)).body(r#"{"items": [{"id": "$record_id", "metadata": {"topic": "edited"}}]}"#),
        row(M::DELETE, "/api/v1/datasets/{dataset_id}/records", managers(204)).at("/api/v1/datasets/{dataset_id}/records?ids={record_id}"),
        row(M::POST, "/api/v1/datasets/{dataset_id}/records/bulk", managers(201)).body(r#"{"items": [{"fields": {"prompt": "p", "response-1": "a", "response-2": "b"}}]}"#),
        row(M::PUT, "/api/v1/datasets/{dataset_id}/records/bulk", managers(200)).body(r#"{"items": [{"id": "$record_id", "metadata": {"topic": "edited"}}]}"#),
        row(M::GET, "/api/v1/records/{record_id}", members(200)),
        row(M::PATCH, "/api/v1/records/{record_id}", managers(200)).body(r#"{"metadata": {"topic": "edited"}}"#),
        row(M::DELETE, "/api/v1/records/{record_id}", managers(200)),
        row(M::POST, "/api/v1/datasets/{dataset_id}/records/search", managers(200)).body("{}"),
        row(M::POST, "/api/v1/me/datasets/{dataset_id}/records/search", members(200)).body("{}"),
        // Answers and suggestions. The response is the workspace annotator's own.
        row(M::POST, "/api/v1/records/{record_id}/responses", members(201)).body(submitted()),
        row(M::PUT, "/api/v1/responses/{response_id}", members(200)).body(submitted()),
        row(M::DELETE, "/api/v1/responses/{response_id}", members(200)),
        row(M::POST, "/api/v1/me/responses/bulk", signed_in(200)).body(r#"{"items": [{"record_id": "$record_id", "status": "draft", "values": {}}]}"#),
        row(M::GET, "/api/v1/records/{record_id}/suggestions", members(200)),
        row(M::PUT, "/api/v1/records/{record_id}/suggestions", managers(201))
            .at("/api/v1/records/{record_id}/suggestions")
            .body(r#"{"question_id": "$ranking_question_id", "value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}"#),
        row(M::DELETE, "/api/v1/records/{record_id}/suggestions", managers(204)).at("/api/v1/records/{answered_record_id}/suggestions?ids={suggestion_id}"),
        row(M::DELETE, "/api/v1/suggestions/{suggestion_id}", managers(200)),
        // Progress.
        row(M::GET, "/api/v1/datasets/{dataset_id}/progress", members(200)),
        row(M::GET, "/api/v1/datasets/{dataset_id}/users/progress", members(200)),
        row(M::GET, "/api/v1/me/datasets/{dataset_id}/metrics", members(200)),
        // Workload distribution.
        row(M::POST, "/api/v1/me/datasets/{dataset_id}/records/next", members(200)).body("{}"),
        row(M::DELETE, "/api/v1/records/{record_id}/lease", members(200)),
        row(M::POST, "/api/v1/records/{record_id}/skip", members(200)).body("{}"),
        row(M::GET, "/api/v1/datasets/{dataset_id}/leases", managers(200)),
        row(M::GET, "/api/v1/datasets/{dataset_id}/assignments", managers(200)),
        row(M::PUT, "/api/v1/datasets/{dataset_id}/assignments", managers(204)).body(r#"{"items": [{"record_id": "$record_id", "user_ids": ["$annotator_id"]}]}"#),
        row(M::POST, "/api/v1/datasets/{dataset_id}/assignments/split", managers(200)).body(r#"{"user_ids": ["$annotator_id"], "overlap": 1}"#),
        row(M::GET, "/api/v1/datasets/{dataset_id}/quotas", managers(200)),
        row(M::PUT, "/api/v1/datasets/{dataset_id}/quotas/{user_id}", managers(200)).at("/api/v1/datasets/{dataset_id}/quotas/{annotator_id}").body(r#"{"max_records": 5}"#),
        row(M::GET, "/api/v1/datasets/{dataset_id}/quality", managers(200)),
        row(M::PUT, "/api/v1/datasets/{dataset_id}/quality", managers(200)).body(r#"{"adaptive": {"question": "preference"}, "gold": {"rate": 0.2}}"#),
        row(M::GET, "/api/v1/datasets/{dataset_id}/quality/labelers", managers(200)),
        row(M::POST, "/api/v1/datasets/{dataset_id}/quality/labelers/{user_id}/resume", managers(200)).at("/api/v1/datasets/{dataset_id}/quality/labelers/{annotator_id}/resume"),
        row(M::GET, "/api/v1/datasets/{dataset_id}/gold", managers(200)),
        row(M::PUT, "/api/v1/datasets/{dataset_id}/gold", managers(200))
            .body(r#"{"items": [{"record_id": "$record_id", "verdict": {"question": "preference", "chosen": "response-1", "rejected": "response-2"}}]}"#),
        row(M::DELETE, "/api/v1/datasets/{dataset_id}/gold", managers(200)).at("/api/v1/datasets/{dataset_id}/gold?ids={record_id}"),
        row(M::GET, "/api/v1/datasets/{dataset_id}/reviewers", managers(200)),
        row(M::PUT, "/api/v1/datasets/{dataset_id}/reviewers/{user_id}", managers(204)).at("/api/v1/datasets/{dataset_id}/reviewers/{annotator_id}"),
        row(M::DELETE, "/api/v1/datasets/{dataset_id}/reviewers/{user_id}", managers(204)).at("/api/v1/datasets/{dataset_id}/reviewers/{annotator_id}"),
        row(M::GET, "/api/v1/datasets/{dataset_id}/review-queue", managers(200)),
        // No verdict yet: reviewers learn there is none, others may not ask.
        row(M::GET, "/api/v1/records/{record_id}/adjudication", [404, 404, 403, 403, 403, 401]),
        row(M::PUT, "/api/v1/records/{record_id}/adjudication", managers(200))
            .body(r#"{"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}], "note": "clearer"}"#),
        // The audit log.
        row(M::GET, "/api/v1/audit-events", owners(200)),
        // This API's description.
        row(M::GET, "/api/v1/openapi.json", public(200)),
        row(M::GET, "/api/v1/docs", public(200)),
        // Webhooks and their deliveries.
        row(M::GET, "/api/v1/webhooks", owners(200)),
        row(M::POST, "/api/v1/webhooks", owners(201)).body(r#"{"url": "https://hooks.example.invalid/new", "events": ["record.completed"]}"#),
        row(M::PATCH, "/api/v1/webhooks/{webhook_id}", owners(200)).body(r#"{"enabled": false}"#),
        row(M::DELETE, "/api/v1/webhooks/{webhook_id}", owners(200)),
        row(M::POST, "/api/v1/webhooks/{webhook_id}/ping", owners(204)),
        row(M::GET, "/api/v1/webhooks/{webhook_id}/deliveries", owners(200)),
        // Preference data.
        row(M::GET, "/api/v1/datasets/{dataset_id}/preferences/metrics", managers(200)),
        row(M::GET, "/api/v1/datasets/{dataset_id}/preferences/export", managers(200)),
    ]
}

fn submitted() -> &'static str {
    r#"{"status": "submitted", "values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}}"#
}

/// The people of the matrix: a member of each role in the workspace and another workspace.
struct People {
    workspace: String,
    admin: TestUser,
    admin_elsewhere: TestUser,
    annotator: TestUser,
    annotator_elsewhere: TestUser,
}

impl People {
    async fn new(app: &TestApp) -> Self {
        let workspace = app.owner_workspace_id().await;
        let elsewhere = app.create_workspace("elsewhere").await;
        Self {
            admin: app.create_member(&workspace, "admin", "admin").await,
            admin_elsewhere: app.create_member(&elsewhere, "admin-elsewhere", "admin").await,
            annotator: app.create_member(&workspace, "annotator", "annotator").await,
            annotator_elsewhere: app.create_member(&elsewhere, "annotator-elsewhere", "annotator").await,
            workspace,
        }
    }

    fn key(&self, caller: usize) -> Option<&str> {
        match caller {
            0 => Some(crate::helpers::OWNER_API_KEY),
            1 => Some(&self.admin.api_key),
            2 => Some(&self.admin_elsewhere.api_key),
            3 => Some(&self.annotator.api_key),
            4 => Some(&self.annotator_elsewhere.api_key),
            _ => None,
        }
    }
}

/// Fresh resources for one call: ids by name.
async fn fixture(app: &TestApp, people: &People, unique: usize) -> HashMap<&'static str, String> {
    let owner = app.owner();
    let dataset = app.create_comparison_dataset(&people.workspace, &format!("matrix-{unique}")).await;
    let topic = json!({"name": "topic", "title": "Topic", "settings": {"type": "terms"}});
    let property = owner.post(&format!("/api/v1/datasets/{dataset}/metadata-properties"), &topic).await;
    let vectors = owner.post(&format!("/api/v1/datasets/{dataset}/vectors-settings"), &json!({"name": "embedding", "title": "Embedding", "dimensions": 2})).await;
    let records = app.create_records(&dataset, (0..3).map(|index| comparison_record(&format!("prompt {index}"))).collect()).await;
    let response = app.with_key(&people.annotator.api_key).post(&format!("/api/v1/records/{}/responses", records[0]), &submitted_response()).await;
    assert_eq!(response.status, 201, "{response:?}");
    let questions = owner.get(&format!("/api/v1/datasets/{dataset}/questions")).await;
    let ranking_question = questions.body["items"].as_array().unwrap().iter().find(|question| question["name"] == "preference").map(id_of).unwrap();
    let suggestion_body = json!({"question_id": ranking_question, "value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]});
    let suggestion = owner.put(&format!("/api/v1/records/{}/suggestions", records[0]), &suggestion_body).await;

    let draft = owner.post("/api/v1/datasets", &json!({"name": format!("draft-{unique}"), "workspace_id": people.workspace})).await;
    let draft = id_of(&draft.body);
    let field = owner.post(&format!("/api/v1/datasets/{draft}/fields"), &json!({"name": "prompt", "title": "Prompt", "required": true, "settings": {"type": "text"}})).await;
    let question = owner
        .post(&format!("/api/v1/datasets/{draft}/questions"), &json!({"name": "good", "title": "Good?", "required": true, "settings": {"type": "label_selection", "options": [{"value": "yes", "text": "Yes"}, {"value": "no", "text": "No"}]}}))
        .await;
    // Subscribed to an event the matrix makes rarely; deliveries to `.invalid` fail and wait.
    let webhook = owner.post("/api/v1/webhooks", &json!({"url": format!("https://hooks.example.invalid/matrix-{unique}"), "events": ["dataset.deleted"]})).await;
    for (what, answer) in [("webhook", &webhook), ("property", &property), ("vectors", &vectors), ("suggestion", &suggestion), ("field", &field), ("question", &question)] {
        assert_eq!(answer.status, 201, "{what}: {answer:?}");
    }

    let loner = app.create_user(&format!("loner-{unique}"), "annotator").await;
    let member = app.create_member(&people.workspace, &format!("member-{unique}"), "annotator").await;
    let empty_workspace = app.create_workspace(&format!("empty-{unique}")).await;
    HashMap::from([
        ("unique", unique.to_string()),
        ("workspace_id", people.workspace.clone()),
        ("empty_workspace_id", empty_workspace),
        ("user_id", loner.id),
        ("member_id", member.id),
        ("annotator_id", people.annotator.id.clone()),
        ("dataset_id", dataset),
        ("draft_dataset_id", draft),
        ("record_id", records[1].clone()),
        ("answered_record_id", records[0].clone()),
        ("response_id", id_of(&response.body)),
        ("suggestion_id", id_of(&suggestion.body)),
        ("ranking_question_id", ranking_question),
        ("metadata_property_id", id_of(&property.body)),
        ("vector_settings_id", id_of(&vectors.body)),
        ("field_id", id_of(&field.body)),
        ("question_id", id_of(&question.body)),
        ("webhook_id", id_of(&webhook.body)),
    ])
}

/// `template` with each `{open}name{close}` replaced by the fixture's id of that name.
fn fill(template: &str, ids: &HashMap<&'static str, String>, open: char, close: &str) -> String {
    let mut text = template.to_owned();
    for (name, value) in ids {
        text = text.replace(&format!("{open}{name}{close}"), value);
    }
    let unfilled = if open == '$' { text.contains('$') } else { text.contains(open) };
    assert!(!unfilled, "a placeholder without an id in {text}");
    text
}

#[tokio::test]
async fn every_route_answers_each_caller_as_the_role_model_says() {
    let rows = rows();
    assert_one_row_per_route(&rows, "src/api");

    let app = TestApp::spawn().await;
    let people = People::new(&app).await;
    let shared = fixture(&app, &people, 0).await;
    let mut unique = 0;
    let mut wrong = Vec::new();
    for row in &rows {
        // A refused call changes nothing, so a row's resources are made again only after a call
        // that succeeded.
        let mut ids = shared.clone();
        let mut spent = row.changes_something();
        for (caller, expected) in row.expect.iter().enumerate() {
            if spent {
                unique += 1;
                ids = fixture(&app, &people, unique).await;
            }
            let path = fill(row.path, &ids, '{', "}");
            let body: Option<Value> = row.body.map(|body| serde_json::from_str(&fill(body, &ids, '$', "")).unwrap_or_else(|error| panic!("row body for {}: {error}", row.route)));
            let client = match people.key(caller) {
                Some(key) => app.with_key(key),
                None => app.anonymous(),
            };
            let answer = client.send(row.method.clone(), &path, body.as_ref()).await;
            spent = row.changes_something() && (200..300).contains(&answer.status);
            if answer.status != *expected {
                wrong.push(format!("{} {} as {}: expected {expected}, got {} {}", row.method, row.route, CALLERS[caller], answer.status, answer.body));
            }
        }
    }
    assert!(wrong.is_empty(), "{} calls answered otherwise:\n{}", wrong.len(), wrong.join("\n"));
}

/// Fails unless `rows` has exactly one row for each route the files of `folder` serve.
fn assert_one_row_per_route(rows: &[Row], folder: &str) {
    let listed: BTreeSet<(String, String)> = rows.iter().map(|row| (row.method.to_string(), row.route.to_owned())).collect();
    assert_eq!(listed.len(), rows.len(), "a route has two rows");
    let served = route_table(folder);
    let missing: Vec<_> = served.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&served).collect();
    assert!(missing.is_empty(), "routes of {folder} without a row in the authorization matrix: {missing:?}");
    assert!(stale.is_empty(), "rows for routes that {folder} does not serve: {stale:?}");
}

/// Every (method, route) served from the files of `folder` (`src/api`, `src/ui`), read from
/// their `.route(...)` calls.
pub(crate) fn route_table(folder: &str) -> BTreeSet<(String, String)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for call in route_calls(&source) {
            let path = call.split('"').nth(1).unwrap_or_else(|| panic!("a route without a path: {call}")).to_owned();
            for method in methods_in(&call) {
                routes.insert((method.to_owned(), path.clone()));
            }
        }
    }
    assert!(routes.len() > 10, "the route table was not found: {routes:?}");
    routes
}

/// The argument text of each `.route(` call, up to its closing parenthesis.
fn route_calls(source: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for (start, _) in source.match_indices(".route(") {
        let text = &source[start + ".route(".len()..];
        let mut depth = 1;
        let end = text
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map(|(index, _)| index)
            .expect("an unclosed .route(");
        calls.push(text[..end].to_owned());
    }
    calls
}

/// The HTTP methods a route's handler chain names (`get(..)`, `.post(..)`, `routing::delete(..)`).
fn methods_in(call: &str) -> Vec<&'static str> {
    let after_path = call.splitn(3, '"').nth(2).unwrap_or_default();
    [("get", "GET"), ("post", "POST"), ("put", "PUT"), ("patch", "PATCH"), ("delete", "DELETE")]
        .into_iter()
        .filter(|(name, _)| {
            after_path.match_indices(&format!("{name}(")).any(|(index, _)| index == 0 || !after_path[..index].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        })
        .map(|(_, method)| method)
        .collect()
}

/// The web UI's routes, as the same callers logged in through the login form (the anonymous
/// caller has no session). Every POST carries the session's form token; the `$password`
/// placeholder is the caller's own password.
fn ui_rows() -> Vec<Row> {
    use Method as M;
    let pages = |ok: u16| [ok, ok, ok, ok, ok, 303];
    let members_ui = |ok: u16| [ok, ok, 403, ok, 403, 303];
    let managers_ui = |ok: u16| [ok, ok, 403, 403, 403, 303];
    vec![
        row(M::GET, "/assets/app.js", public(200)),
        row(M::GET, "/assets/app.css", public(200)),
        row(M::GET, "/login", public(200)),
        // Without the login form's own cookie-bound token, a login is refused whoever sends it.
        row(M::POST, "/login", public(403)).body("username=argilla&password=12345678"),
        row(M::POST, "/logout", [303; 6]).body(""),
        row(M::GET, "/", pages(200)),
        row(M::GET, "/account", pages(200)),
        row(M::POST, "/account/password", pages(200)).body("current=$password&new=$password"),
        row(M::GET, "/datasets/{id}", members_ui(200)).at("/datasets/{dataset_id}"),
        // Taking a record is a POST with the form token; the GET only leads to the dataset page.
        row(M::GET, "/datasets/{id}/next", [303; 6]).at("/datasets/{dataset_id}/next"),
        row(M::POST, "/datasets/{id}/next", members_ui(303)).at("/datasets/{dataset_id}/next").body("").leasing(),
        row(M::GET, "/records/{id}", members_ui(200)).at("/records/{record_id}"),
        row(M::POST, "/records/{id}", members_ui(303)).at("/records/{record_id}").body("action=discard"),
        row(M::GET, "/records/{id}/diff", members_ui(200)).at("/records/{record_id}/diff"),
        // Admins of any workspace open the admin home (it lists what they manage); annotators do not.
        row(M::GET, "/admin", [200, 200, 200, 403, 403, 303]),
        row(M::GET, "/admin/datasets/{id}", managers_ui(200)).at("/admin/datasets/{dataset_id}"),
        row(M::GET, "/admin/datasets/{id}/quality", managers_ui(200)).at("/admin/datasets/{dataset_id}/quality"),
        row(M::POST, "/admin/datasets/{id}/quality", managers_ui(303)).at("/admin/datasets/{dataset_id}/quality").body("gold=on&gold.rate=0.2&repeats=on&repeats.rate=0.1"),
        row(M::POST, "/admin/datasets/{id}/labelers/{user_id}/resume", managers_ui(303)).at("/admin/datasets/{dataset_id}/labelers/{annotator_id}/resume").body(""),
        row(M::GET, "/admin/audit", [200, 403, 403, 403, 403, 303]),
        row(M::GET, "/review/datasets/{id}", managers_ui(200)).at("/review/datasets/{dataset_id}"),
        row(M::GET, "/review/records/{id}", managers_ui(200)).at("/review/records/{record_id}"),
        row(M::POST, "/review/records/{id}", managers_ui(303)).at("/review/records/{record_id}").body("rank.response-1=1&rank.response-2=2&note=clearer"),
    ]
}

/// A browser session: its cookie and its form token.
struct Session {
    cookie: String,
    csrf: String,
}

fn cookie_named(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get_all("set-cookie").iter().filter_map(|value| value.to_str().ok()).find_map(|value| {
        let pair = value.split(';').next()?;
        let (key, value) = pair.split_once('=')?;
        (key == name && !value.is_empty()).then(|| format!("{key}={value}"))
    })
}

fn hidden_csrf(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).unwrap_or_else(|| panic!("no form token in {html}")) + marker.len();
    html[start..].split('"').next().unwrap_or_default().to_owned()
}

async fn log_in(http: &reqwest::Client, base: &str, username: &str, password: &str) -> Session {
    let form = http.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie = cookie_named(&form, "juror_login").expect("the login form sets its cookie");
    let token = hidden_csrf(&form.text().await.unwrap());
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs([("username", username), ("password", password), ("csrf", &token), ("next", "/")]).finish();
    let answer = http.post(format!("{base}/login")).header("cookie", login_cookie).header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
    let cookie = cookie_named(&answer, "juror_session").unwrap_or_else(|| panic!("{username} could not log in: {}", answer.status()));
    let account = http.get(format!("{base}/account")).header("cookie", &cookie).send().await.unwrap();
    Session { csrf: hidden_csrf(&account.text().await.unwrap()), cookie }
}

#[tokio::test]
async fn every_page_answers_each_caller_as_the_role_model_says() {
    let rows = ui_rows();
    assert_one_row_per_route(&rows, "src/ui");

    let app = TestApp::spawn().await;
    let people = People::new(&app).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let passwords = ["12345678", "password1234", "password1234", "password1234", "password1234", ""];
    let usernames = ["argilla", "admin", "admin-elsewhere", "annotator", "annotator-elsewhere", ""];
    let mut unique = 0;
    let mut wrong = Vec::new();
    for row in &rows {
        let mut ids = fixture(&app, &people, { unique += 1; unique }).await;
        for (caller, expected) in row.expect.iter().enumerate() {
            if row.changes_something() && caller > 0 {
                unique += 1;
                ids = fixture(&app, &people, unique).await;
            }
            // A fresh session per call: a logout or password change must not touch the next call.
            let session = match caller {
                5 => None,
                _ => Some(log_in(&http, &app.base_url, usernames[caller], passwords[caller]).await),
            };
            let path = fill(row.path, &ids, '{', "}");
            let mut request = http.request(row.method.clone(), format!("{}{path}", app.base_url));
            if let Some(session) = &session {
                request = request.header("cookie", &session.cookie);
            }
            if let Some(body) = row.body {
                let mut body = body.replace("$password", passwords[caller]);
                if let Some(session) = &session {
                    body = format!("{body}&csrf={}", session.csrf);
                }
                request = request.header("content-type", "application/x-www-form-urlencoded").body(body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            if status != *expected {
                wrong.push(format!("{} {} as {}: expected {expected}, got {status}", row.method, row.route, CALLERS[caller]));
            }
        }
    }
    assert!(wrong.is_empty(), "{} pages answered otherwise:\n{}", wrong.len(), wrong.join("\n"));
}
