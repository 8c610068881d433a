//! The OpenAPI document: it describes every route the API serves and nothing else, each
//! operation documents what it answers, and it matches the snapshot in `docs/openapi.json`, so
//! a change to the API shows up in review. After an intended change, write the new snapshot with
//! `JUROR_BLESS_OPENAPI=1 cargo test -p juror-server --test api openapi`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::helpers::TestApp;
use crate::matrix::route_table;

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

async fn served_document() -> Value {
    let app = TestApp::spawn().await;
    let answer = app.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body
}

#[tokio::test]
async fn the_document_describes_every_route_and_only_those() {
    let document = served_document().await;
    assert_eq!(document["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                described.insert((method.to_uppercase(), path.clone()));
                let responses = operation["responses"].as_object().unwrap();
                assert!(responses.keys().any(|status| status.starts_with('2')), "{method} {path} documents no success");
                for name in path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}')) {
                    let declared = operation["parameters"].as_array().is_some_and(|parameters| parameters.iter().any(|parameter| parameter["in"] == "path" && parameter["name"] == name));
                    assert!(declared, "{method} {path} does not declare its path parameter {name}");
                }
            }
        }
    }
    let served = route_table("src/api");
    let undescribed: Vec<_> = served.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&served).collect();
    assert!(undescribed.is_empty(), "routes the OpenAPI document does not describe: {undescribed:?}");
    assert!(unserved.is_empty(), "operations the OpenAPI document describes but nothing serves: {unserved:?}");
}

#[tokio::test]
async fn the_document_matches_its_snapshot() {
    let document = served_document().await;
    let snapshot_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let current = format!("{}\n", serde_json::to_string_pretty(&document).unwrap());
    if std::env::var_os("JUROR_BLESS_OPENAPI").is_some() {
        std::fs::write(&snapshot_path, &current).unwrap();
        return;
    }
    let snapshot = std::fs::read_to_string(&snapshot_path).unwrap_or_default();
    if snapshot != current {
        let first = snapshot.lines().zip(current.lines()).position(|(old, new)| old != new).unwrap_or_else(|| snapshot.lines().count().min(current.lines().count()));
        let context = |text: &str| text.lines().skip(first.saturating_sub(3)).take(8).collect::<Vec<_>>().join("\n");
        panic!(
            "the API changed: /api/v1/openapi.json differs from docs/openapi.json from line {}.\nsnapshot:\n{}\nserved:\n{}\nIf the change is intended, run JUROR_BLESS_OPENAPI=1 cargo test -p juror-server --test api openapi and commit docs/openapi.json.",
            first + 1,
            context(&snapshot),
            context(&current)
        );
    }
}

#[tokio::test]
async fn the_docs_page_lists_the_operations() {
    let app = TestApp::spawn().await;
    let page = app.anonymous().get("/api/v1/docs").await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap_or_default();
    for expected in ["POST /api/v1/me/datasets/{dataset_id}/records/next", "PUT /api/v1/datasets/{dataset_id}/records/bulk", "RecordJson", "X-Argilla-Api-Key", "GET /api/v1/webhooks"] {
        assert!(html.contains(expected), "the docs page lacks {expected}");
    }
}
