//! `/api/v1/webhooks`: Argilla's webhook routes (owners), and Juror's own
//! `GET /api/v1/webhooks/{id}/deliveries`, each delivery's state and last attempt.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use juror_app::{AppError, Caller, NewWebhook, WebhookPatch};
use juror_core::ids::WebhookId;
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::{bool_key, nullable_string_key, required_key, string_key, Patch};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, PathId, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/api/v1/webhooks/{webhook_id}", patch(update_webhook).delete(delete_webhook))
        .route("/api/v1/webhooks/{webhook_id}/ping", post(ping_webhook))
        .route("/api/v1/webhooks/{webhook_id}/deliveries", get(list_deliveries))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct NewWebhookBody {
    url: String,
    events: Vec<String>,
    description: Option<String>,
}

/// The keys `PATCH /api/v1/webhooks/{id}` reads; others (the SDK sends its whole model) are
/// ignored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct WebhookPatchBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
    /// `null` clears it.
    description: Option<String>,
}

/// A URL this server may deliver to, checked before it is stored when its host is an address
/// (names are checked at each delivery, where they resolve); only owners are told.
fn reachable(state: &AppState, caller: &Caller, url: &str) -> ApiResult<()> {
    if !caller.is_owner() {
        return Err(AppError::Forbidden.into());
    }
    state.webhook_guard.check_url(url.trim()).map_err(|message| ApiError::request(vec!["body".into(), "url".into()], "value_error", message))
}

/// Every webhook, with its secret (owners).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", responses((status = 200, body = wire::Items<wire::WebhookJson>)))]
pub(super) async fn list_webhooks(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Response> {
    Ok(Json(wire::items(&state.app.list_webhooks(&caller).await?, wire::webhook)).into_response())
}

/// Subscribes an endpoint to events; it gets a fresh signing secret (owners).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhookBody, responses((status = 201, body = wire::WebhookJson)))]
pub(super) async fn create_webhook(State(state): State<AppState>, Auth(caller): Auth, ApiJson(body): ApiJson<NewWebhookBody>) -> ApiResult<Response> {
    reachable(&state, &caller, &body.url)?;
    let webhook = state.app.create_webhook(&caller, NewWebhook { url: body.url, events: body.events, description: body.description }).await?;
    Ok((StatusCode::CREATED, Json(wire::webhook(&webhook))).into_response())
}

/// Keys not named here (`id`, `secret`, the times: the SDK sends its whole model) are ignored.
#[utoipa::path(patch, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", request_body = WebhookPatchBody, responses((status = 200, body = wire::WebhookJson)))]
pub(super) async fn update_webhook(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WebhookId>, ApiJson(body): ApiJson<Patch>) -> ApiResult<Response> {
    let url = string_key(&body, "url")?;
    if let Some(url) = &url {
        reachable(&state, &caller, url)?;
    }
    let events = match required_key(&body, "events")? {
        None => None,
        Some(value) => Some(
            value
                .as_array()
                .and_then(|items| items.iter().map(|item| item.as_str().map(str::to_owned)).collect::<Option<Vec<String>>>())
                .ok_or_else(|| ApiError::request(vec!["body".into(), "events".into()], "value_error", "events must be a list of event names"))?,
        ),
    };
    let patch = WebhookPatch { url, events, enabled: bool_key(&body, "enabled")?, description: nullable_string_key(&body, "description")? };
    Ok(Json(wire::webhook(&state.app.update_webhook(&caller, id, patch).await?)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", responses((status = 200, body = wire::WebhookJson)))]
pub(super) async fn delete_webhook(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WebhookId>) -> ApiResult<Response> {
    Ok(Json(wire::webhook(&state.app.delete_webhook(&caller, id).await?)).into_response())
}

/// Queues a `ping` event; its outcome shows in the webhook's deliveries.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/ping", tag = "webhooks", responses((status = 204)))]
pub(super) async fn ping_webhook(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WebhookId>) -> ApiResult<StatusCode> {
    state.app.ping_webhook(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Newest first; `limit` is 1 to 500 (100 by default).
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks", params(("limit" = Option<u64>, Query, description = "1 to 500 (100)")), responses((status = 200, body = wire::Items<wire::DeliveryJson>)))]
pub(super) async fn list_deliveries(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<WebhookId>, query: QueryParams) -> ApiResult<Response> {
    let limit = query.integer("limit", 100, 1, juror_app::MAX_DELIVERY_PAGE)?;
    Ok(Json(wire::items(&state.app.webhook_deliveries(&caller, id, limit).await?, wire::delivery)).into_response())
}
