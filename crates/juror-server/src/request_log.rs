//! One log line per request at `info`: its id, method, route, status and latency. The id is the
//! client's `x-request-id` when it sent one, else a new UUID; it is sent back in the response's
//! `x-request-id`, and every line logged while the request is served carries it (the request's
//! span), so one request can be followed through the logs.

use std::time::Duration;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// `router` with request ids and request logging around it.
pub(crate) fn around(router: Router) -> Router {
    router
        .layer(TraceLayer::new_for_http().make_span_with(span).on_request(()).on_response(served).on_failure(()))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The request's span: every line logged inside it names the request.
fn span(request: &Request<Body>) -> Span {
    let id = request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or("-");
    // The route's pattern, never the raw path (which holds ids and whatever a client sends).
    let route = request.extensions().get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str);
    tracing::info_span!("request", id = %id, method = %request.method(), route = %route)
}

fn served(response: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::info!(status = response.status().as_u16(), latency_ms = (latency.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0, "served");
}
