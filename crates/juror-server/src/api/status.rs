//! Health and version endpoints; they need no credentials.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/_info", get(info))
        .route("/api/_status", get(legacy_status))
        .route("/api/v1/version", get(version))
        .route("/api/v1/status", get(status))
        .route("/api/v1/settings", get(settings))
}

/// The legacy SDK's version check.
#[utoipa::path(get, path = "/api/_info", tag = "status", security(()), responses((status = 200, body = wire::VersionJson)))]
pub(super) async fn info() -> Json<wire::VersionJson> {
    Json(wire::VersionJson { version: wire::LEGACY_API_VERSION })
}

/// The legacy health check: 200 while the server serves.
#[utoipa::path(get, path = "/api/_status", tag = "status", security(()), responses((status = 200, body = wire::LegacyStatusJson)))]
pub(super) async fn legacy_status() -> Json<wire::LegacyStatusJson> {
    Json(wire::LegacyStatusJson { version: wire::LEGACY_API_VERSION, elasticsearch: json!({}), mem_info: json!({}), juror: env!("CARGO_PKG_VERSION") })
}

/// The Argilla version whose API this is.
#[utoipa::path(get, path = "/api/v1/version", tag = "status", security(()), responses((status = 200, body = wire::VersionJson)))]
pub(super) async fn version() -> Json<wire::VersionJson> {
    Json(wire::VersionJson { version: wire::API_VERSION })
}

#[utoipa::path(get, path = "/api/v1/status", tag = "status", security(()), responses((status = 200, body = wire::StatusJson)))]
pub(super) async fn status() -> Json<wire::StatusJson> {
    Json(wire::StatusJson { version: wire::API_VERSION, search_engine: wire::SearchEngineJson { name: "juror" }, memory: json!({}) })
}

/// The UI settings the v2 SDK reads.
#[utoipa::path(get, path = "/api/v1/settings", tag = "status", security(()), responses((status = 200, body = wire::SettingsJson)))]
pub(super) async fn settings() -> Json<wire::SettingsJson> {
    Json(wire::SettingsJson {
        argilla: wire::ArgillaSettingsJson { show_huggingface_space_persistent_storage_warning: false, share_your_progress_enabled: false },
        huggingface: None,
    })
}
