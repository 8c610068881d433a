//! The route table: one module per resource, merged here, grouped by the clients that call them.

mod audit;
mod body;
mod datasets;
mod distribution;
mod docs_page;
mod legacy;
mod openapi;
mod preferences;
mod progress;
mod quality;
mod records;
mod review;
mod responses;
mod search;
mod settings;
mod status;
mod users;
mod webhooks;
mod workspaces;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;

/// The API; the record routes take bodies up to `max_record_body_bytes` (bulk imports), every
/// other route up to [`crate::MAX_API_BODY_BYTES`].
pub(crate) fn router(max_record_body_bytes: usize) -> Router<AppState> {
    Router::new()
        // Health and version: no authentication; probes, both SDKs' handshakes.
        .merge(status::router())
        // The legacy `/api/*` calls the argilla-v1 SDK still makes.
        .merge(legacy::router())
        // `/api/v1`: users, workspaces and datasets with their settings.
        .merge(users::router())
        .merge(workspaces::router())
        .merge(datasets::router())
        .merge(settings::router())
        // `/api/v1`: records, search, answers and progress.
        .merge(records::router().layer(DefaultBodyLimit::max(max_record_body_bytes)))
        .merge(search::router())
        .merge(responses::router())
        .merge(progress::router())
        // Juror's own additions: workload distribution (leases, assignments, quotas).
        .merge(distribution::router())
        // Juror's own additions: quality control while collecting (adaptive overlap, gold).
        .merge(quality::router())
        .merge(review::router())
        // Juror's own additions: preference pairs, agreement and exports.
        .merge(preferences::router())
        // Juror's own additions: the audit log of administrative actions.
        .merge(audit::router())
        // Webhooks (Argilla's routes) and their deliveries (Juror's own).
        .merge(webhooks::router())
        // This API's OpenAPI document and a page that reads it.
        .merge(openapi::router())
        .layer(DefaultBodyLimit::max(crate::MAX_API_BODY_BYTES))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not Found"})))
}

async fn method_not_allowed() -> impl IntoResponse {
    (StatusCode::METHOD_NOT_ALLOWED, Json(json!({"detail": "Method Not Allowed"})))
}
