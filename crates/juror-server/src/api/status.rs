//! Health and version endpoints; they need no credentials.

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
        .route("/api/_info", get(info))
        .route("/api/_status", get(legacy_status))
        .route("/api/v1/version", get(version))
        .route("/api/v1/status", get(status))
        .route("/api/v1/settings", get(settings))
}

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
