//! Juror's own: `GET /api/v1/audit-events`, the audit log of administrative actions (owners).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::error::ApiResult;
use crate::extract::{Auth, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/audit-events", get(list_audit_events))
}

/// Newest first; `before` (a sequence) pages back, `limit` is 1 to 500 (100 by default).
/// Juror's own: the audit log of administrative actions, newest first (owners).
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(("before" = Option<u64>, Query, description = "a sequence: entries older than it"), ("limit" = Option<u64>, Query, description = "1 to 500 (100)")), responses((status = 200, body = wire::Items<wire::AuditEventJson>)))]
pub(super) async fn list_audit_events(State(state): State<AppState>, Auth(caller): Auth, query: QueryParams) -> ApiResult<Response> {
    let before = match query.first("before") {
        Some(_) => Some(query.integer("before", 0, 1, i64::MAX as u64)?),
        None => None,
    };
    let limit = query.integer("limit", 100, 1, juror_app::MAX_AUDIT_PAGE)?;
    let events = state.app.audit_log(&caller, before, limit).await?;
    Ok(Json(wire::items(&events, wire::audit_event)).into_response())
}
