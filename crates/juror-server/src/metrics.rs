//! `GET /metrics` in Prometheus's (OpenMetrics) text format, when the server is started with
//! metrics on: requests by route, method and status with latency histograms, the labeling
//! loop's hand-outs and answers, webhook delivery attempts and the queue's length, live leases, group commits and database connections. Open to
//! anyone who reaches it, or only with `Authorization: Bearer TOKEN`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use crate::AppState;

/// Who may read `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// No `/metrics` route (the default).
    Off,
    /// Anyone who reaches the server (behind a firewall, or on loopback).
    Open,
    /// Requests with `Authorization: Bearer TOKEN`.
    Token(String),
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

type Latencies = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The request counts and latencies this server has measured.
#[derive(Debug)]
pub struct Metrics {
    access: MetricsAccess,
    requests: Family<RequestLabels, Counter>,
    latency: Latencies,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    pub fn new(access: MetricsAccess) -> Option<Arc<Self>> {
        (access != MetricsAccess::Off).then(|| Arc::new(Self { access, requests: Family::default(), latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram) }))
    }
}

/// The `/metrics` route.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// Counts each request by its route's pattern (never the raw path), method and status.
pub(crate) async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str).to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    metrics.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status: response.status().as_u16() }).inc();
    metrics.latency.get_or_create(&RouteLabels { method, route }).observe(elapsed);
    response
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(metrics) = state.metrics.as_ref() else { return StatusCode::NOT_FOUND.into_response() };
    if let MetricsAccess::Token(token) = &metrics.access {
        let given = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer ")).unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a bearer token is needed\n").into_response();
        }
    }
    let mut registry = Registry::default();
    registry.register("juror_http_requests", "HTTP requests served, by route pattern, method and status", metrics.requests.clone());
    registry.register("juror_http_request_duration_seconds", "Time to serve a request until its response starts", metrics.latency.clone());

    let activity = state.app.activity();
    let handouts: Family<KindLabels, Counter> = Family::default();
    handouts.get_or_create(&KindLabels { kind: "record" }).inc_by(activity.handed_out);
    handouts.get_or_create(&KindLabels { kind: "nothing_left" }).inc_by(activity.nothing_left);
    registry.register("juror_handouts", "Next-record calls, by whether a record was handed out", handouts);
    let answers: Family<KindLabels, Counter> = Family::default();
    for (kind, count) in [("submitted", activity.submitted), ("draft", activity.drafts), ("discarded", activity.discarded)] {
        answers.get_or_create(&KindLabels { kind }).inc_by(count);
    }
    registry.register("juror_answers", "Answers stored, by status", answers);
    let deliveries: Family<OutcomeLabels, Counter> = Family::default();
    for (outcome, count) in [("delivered", activity.deliveries_delivered), ("retried", activity.deliveries_retried), ("failed", activity.deliveries_given_up)] {
        deliveries.get_or_create(&OutcomeLabels { outcome }).inc_by(count);
    }
    registry.register("juror_webhook_attempts", "Webhook delivery attempts by this server, by outcome: delivered, to be retried, or failed for good", deliveries);

    let store = state.app.store_stats();
    let connections: Family<KindLabels, Gauge> = Family::default();
    connections.get_or_create(&KindLabels { kind: "idle" }).set(i64::from(store.idle_connections));
    connections.get_or_create(&KindLabels { kind: "busy" }).set(i64::from(store.connections.saturating_sub(store.idle_connections)));
    registry.register("juror_database_connections", "Database connections of this server, idle or busy", connections);
    let groups = Counter::<u64>::default();
    groups.inc_by(store.group_commits);
    registry.register("juror_group_commits", "Groups the labeling loop's writes were committed in (SQLite)", groups);
    let grouped = Counter::<u64>::default();
    grouped.inc_by(store.group_commit_writes);
    registry.register("juror_group_commit_writes", "Writes committed in those groups; divided by the groups, the mean group size", grouped);
    let leases = Gauge::<i64>::default();
    match state.app.live_leases().await {
        Ok(count) => {
            leases.set(i64::try_from(count).unwrap_or(i64::MAX));
            registry.register("juror_live_leases", "Unexpired leases on records, in every dataset", leases);
        }
        Err(error) => tracing::warn!(error = %error, "failed to count live leases for /metrics"),
    }
    let pending = Gauge::<i64>::default();
    match state.app.pending_deliveries().await {
        Ok(count) => {
            pending.set(i64::try_from(count).unwrap_or(i64::MAX));
            registry.register("juror_webhook_deliveries_pending", "Webhook deliveries waiting for an attempt, of every server", pending);
        }
        Err(error) => tracing::warn!(error = %error, "failed to count pending webhook deliveries for /metrics"),
    }

    let mut body = String::new();
    if encode(&mut body, &registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response()
}
