//! Health and version endpoints; they need no credentials.

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::AppState;

/// The Argilla server version the legacy SDK checks against (it warns on a different minor).
const LEGACY_API_VERSION: &str = "1.29.1";
/// The Argilla server version whose `/api/v1` Juror serves.
const API_VERSION: &str = "2.8.0";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/api/_info", get(info))
        .route("/api/_status", get(legacy_status))
        .route("/api/v1/version", get(version))
        .route("/api/v1/status", get(status))
        .route("/api/v1/settings", get(settings))
}

/// A static page for whoever opens the server in a browser; the labeling UI will live here.
async fn home() -> Html<&'static str> {
    Html(HOME_PAGE)
}

const HOME_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Juror</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}code,pre{background:#f4f4f4;border-radius:4px;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}</style>
</head><body>
<h1>Juror is running</h1>
<p>Juror collects human preference data for reward models and DPO. It serves Argilla's API, so the Argilla Python SDKs work against it unchanged.</p>
<h2>Try it</h2>
<pre>curl -H 'X-Argilla-Api-Key: argilla.apikey' http://127.0.0.1:6900/api/v1/me/datasets</pre>
<pre>import argilla as rg
client = rg.Argilla(api_url="http://127.0.0.1:6900", api_key="argilla.apikey")
for dataset in client.datasets:
    print(dataset.name)</pre>
<p>Health: <a href="/api/_status">/api/_status</a> &middot; API version: <a href="/api/v1/version">/api/v1/version</a></p>
</body></html>
"#;

async fn info() -> Json<Value> {
    Json(json!({"version": LEGACY_API_VERSION}))
}

async fn legacy_status() -> Json<Value> {
    Json(json!({"version": LEGACY_API_VERSION, "elasticsearch": {}, "mem_info": {}, "juror": env!("CARGO_PKG_VERSION")}))
}

async fn version() -> Json<Value> {
    Json(json!({"version": API_VERSION}))
}

async fn status() -> Json<Value> {
    Json(json!({"version": API_VERSION, "search_engine": {"name": "juror"}, "memory": {}}))
}

async fn settings() -> Json<Value> {
    Json(json!({
        "argilla": {"show_huggingface_space_persistent_storage_warning": false, "share_your_progress_enabled": false},
        "huggingface": null,
    }))
}
