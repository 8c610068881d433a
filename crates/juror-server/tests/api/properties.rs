//! Property tests of the request bodies: valid bodies of each kind with a part replaced, removed
//! or added, and arbitrary JSON. Every one gets an answer below 500, and one that is refused
//! changes nothing.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::helpers::{comparison_record, id_of, submitted_response, TestApp, TestUser};

/// Keys the API reads, so that generated objects often hit a real code path.
const KEYS: &[&str] = &[
    "items", "fields", "prompt", "response-1", "response-2", "values", "preference", "quality", "value", "rank", "status", "metadata", "vectors",
    "suggestions", "responses", "id", "external_id", "name", "title", "settings", "type", "options", "required", "user_id", "question_id",
    "query", "text", "q", "field", "filters", "and", "scope", "entity", "property", "sort", "order", "record_id", "ge", "le", "values",
    "guidelines", "distribution", "min_submitted", "use_markdown", "visible_for_annotators", "score", "agent", "vector", "dimensions",
];

/// Texts the API gives meaning to, mixed with arbitrary ones.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["response-1", "response-2", "submitted", "draft", "discarded", "ranking", "rating", "text", "terms", "asc", "desc", "record", "metadata", "response", ""])
            .prop_map(str::to_owned),
        "[a-z0-9 é\u{1F600}-]{0,16}",
        "[\\x00-\\x7f]{0,8}",
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..8).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |number| number.is_finite()).prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::from), number(), text().prop_map(Value::from)];
    leaf.prop_recursive(4, 32, 4, |inner| {
        let key = prop_oneof![prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned), "[a-z_]{1,8}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..4).prop_map(|map: BTreeMap<String, Value>| Value::Object(map.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// What to do to a valid body.
#[derive(Debug, Clone)]
enum Change {
    Replace(Value),
    Remove,
    Add(String, Value),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        json_value().prop_map(Change::Replace),
        Just(Change::Remove),
        (prop::sample::select(KEYS.to_vec()), json_value()).prop_map(|(key, value)| Change::Add(key.to_owned(), value)),
    ]
}

/// `body` with `change` applied at the node the `path` choices lead to.
fn changed(mut body: Value, path: &[Index], change: Change) -> Value {
    let mut node = &mut body;
    for choice in path {
        let children = match node {
            Value::Object(map) if !map.is_empty() => map.len(),
            Value::Array(items) if !items.is_empty() => items.len(),
            _ => break,
        };
        let index = choice.index(children);
        node = match node {
            Value::Object(map) => map.values_mut().nth(index).unwrap(),
            Value::Array(items) => &mut items[index],
            _ => unreachable!(),
        };
    }
    match change {
        Change::Replace(value) => *node = value,
        Change::Remove => match node {
            Value::Object(map) => {
                let first = map.keys().next().cloned();
                if let Some(key) = first {
                    map.remove(&key);
                }
            }
            Value::Array(items) => {
                items.pop();
            }
            other => *other = Value::Null,
        },
        Change::Add(key, value) => match node {
            Value::Object(map) => {
                map.insert(key, value);
            }
            Value::Array(items) => items.push(value),
            other => *other = json!({key: value}),
        },
    }
    body
}

/// A request to send: valid, changed, or arbitrary.
fn body_from(valid: Value) -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (prop::collection::vec(any::<Index>(), 0..5), change()).prop_map(move |(path, change)| changed(valid.clone(), &path, change)),
        1 => json_value(),
    ]
}

/// The server and what the bodies act on.
struct World {
    app: TestApp,
    annotator: TestUser,
    dataset: String,
    draft: String,
    records: Vec<String>,
}

impl World {
    async fn new() -> Self {
        let (app, annotator, workspace, dataset) = TestApp::with_annotator().await;
        let owner = app.owner();
        let topic = json!({"name": "topic", "title": "Topic", "settings": {"type": "terms"}});
        assert_eq!(owner.post(&format!("/api/v1/datasets/{dataset}/metadata-properties"), &topic).await.status, 201);
        let vector = json!({"name": "embedding", "title": "Embedding", "dimensions": 2});
        assert_eq!(owner.post(&format!("/api/v1/datasets/{dataset}/vectors-settings"), &vector).await.status, 201);
        let records = app.create_records(&dataset, (0..3).map(|index| comparison_record(&format!("prompt {index}"))).collect()).await;
        let draft = owner.post("/api/v1/datasets", &json!({"name": "draft", "workspace_id": workspace})).await;
        let draft = id_of(&draft.body);
        Self { app, annotator, dataset, draft, records }
    }

    /// Everything a refused request must leave as it was, as the owner reads it.
    async fn state(&self) -> Value {
        let owner = self.app.owner();
        let records = owner.get(&format!("/api/v1/datasets/{}/records?include=responses&include=suggestions&include=vectors&limit=1000", self.dataset)).await;
        let dataset = owner.get(&format!("/api/v1/datasets/{}", self.dataset)).await;
        let fields = owner.get(&format!("/api/v1/datasets/{}/fields", self.draft)).await;
        let questions = owner.get(&format!("/api/v1/datasets/{}/questions", self.draft)).await;
        json!([records.body, dataset.body, fields.body, questions.body])
    }
}

/// One kind of request: method, path, who sends it, and a valid body to start from.
struct Case {
    method: Method,
    path: String,
    as_annotator: bool,
    valid: Value,
}

fn cases(world: &World) -> Vec<Case> {
    let (dataset, draft, record) = (&world.dataset, &world.draft, &world.records[0]);
    let case = |method: Method, path: String, as_annotator: bool, valid: Value| Case { method, path, as_annotator, valid };
    let mut full_record = comparison_record("new prompt");
    full_record["metadata"] = json!({"topic": "tone"});
    full_record["vectors"] = json!({"embedding": [0.5, 0.25]});
    full_record["external_id"] = json!("external-1");
    vec![
        case(Method::POST, format!("/api/v1/datasets/{dataset}/records/bulk"), false, json!({"items": [full_record, comparison_record("another")]})),
        case(Method::PUT, format!("/api/v1/datasets/{dataset}/records/bulk"), false, json!({"items": [{"id": record, "metadata": {"topic": "edited"}, "suggestions": [{"question_name": "quality", "value": 4}]}]})),
        case(Method::POST, format!("/api/v1/records/{record}/responses"), true, submitted_response()),
        case(Method::POST, "/api/v1/me/responses/bulk".into(), true, json!({"items": [{"record_id": world.records[1], "status": "submitted", "values": submitted_response()["values"]}]})),
        case(Method::PATCH, format!("/api/v1/datasets/{dataset}"), false, json!({"guidelines": "Rank them.", "distribution": {"strategy": "overlap", "min_submitted": 2}})),
        case(Method::POST, format!("/api/v1/datasets/{draft}/fields"), false, json!({"name": "prompt", "title": "Prompt", "required": true, "settings": {"type": "text", "use_markdown": true}})),
        case(
            Method::POST,
            format!("/api/v1/datasets/{draft}/questions"),
            false,
            json!({"name": "rank", "title": "Rank", "required": true, "settings": {"type": "ranking", "options": [{"value": "a", "text": "A"}, {"value": "b", "text": "B"}]}}),
        ),
        case(
            Method::POST,
            format!("/api/v1/me/datasets/{dataset}/records/search"),
            true,
            json!({"query": {"text": {"q": "prompt", "field": "prompt"}}, "filters": {"and": [{"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]}]}, "sort": [{"scope": {"entity": "record", "property": "inserted_at"}, "order": "desc"}]}),
        ),
    ]
}

#[test]
fn any_body_gets_an_answer_below_500_and_a_refused_one_changes_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let world = runtime.block_on(World::new());
    for case in cases(&world) {
        let mut runner = TestRunner::new(Config { cases: std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(40), failure_persistence: None, ..Config::default() });
        let result = runner.run(&body_from(case.valid.clone()), |body| {
            runtime.block_on(async {
                let before = world.state().await;
                let client = if case.as_annotator { world.app.with_key(&world.annotator.api_key) } else { world.app.owner() };
                let answer = client.send(case.method.clone(), &case.path, Some(&body)).await;
                prop_assert!(answer.status < 500, "{} {} answered {}: {}\nbody: {body}", case.method, case.path, answer.status, answer.body);
                if answer.status >= 400 {
                    prop_assert!(answer.body.get("detail").is_some(), "a refusal says why: {:?}", answer);
                    let after = world.state().await;
                    prop_assert_eq!(&before, &after, "{} {} was refused ({}) but changed something\nbody: {}", case.method, case.path, answer.status, body);
                }
                Ok::<(), TestCaseError>(())
            })
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
    }
}
