//! Juror's HTTP server: the Argilla-compatible API on axum.
//!
//! This crate is the only one that knows HTTP and JSON wire shapes. Handlers extract the request,
//! convert wire types to `juror-app` inputs, call one use case, and convert the result back.
//! Argilla's quirks (status codes, error envelopes, legacy routes) live here and nowhere else.

mod api;
mod error;
mod extract;
mod metrics;
mod request_log;
mod ui;
mod webhooks;
mod wire;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;
use juror_app::App;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;
pub use metrics::{Metrics, MetricsAccess};
pub use webhooks::{AddressGuard, WebhookConfig};

/// Server settings that are not the application's.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest body the record routes accept (bulk imports), in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client, for the login throttle.
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a request may take until its response starts; slower ones get 408.
    pub request_timeout: Duration,
    /// How long a connection may take to send a request head, or stay idle between requests,
    /// before it is closed.
    pub idle_timeout: Duration,
    /// Whether `/metrics` is served, and to whom.
    pub metrics: MetricsAccess,
    /// How webhook events are delivered.
    pub webhooks: WebhookConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { max_body_bytes: 64 * 1024 * 1024, trusted_proxies: Vec::new(), request_timeout: Duration::from_secs(120), idle_timeout: Duration::from_secs(60), metrics: MetricsAccess::Off, webhooks: WebhookConfig::default() }
    }
}

/// Largest body of every API route but the record routes.
pub const MAX_API_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Largest body of a web UI form.
pub const MAX_FORM_BODY_BYTES: usize = 1024 * 1024;
/// Largest body of the login form.
pub const MAX_LOGIN_BODY_BYTES: usize = 16 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// See [`ServerConfig::trusted_proxies`].
    pub trusted_proxies: Arc<[IpAddr]>,
    /// The request metrics, when `/metrics` is on.
    pub metrics: Option<Arc<Metrics>>,
    /// Which addresses webhooks may be pointed at.
    pub webhook_guard: Arc<AddressGuard>,
}

/// The whole HTTP surface for `app`.
pub fn router(app: App, config: &ServerConfig) -> Router {
    let measured = Metrics::new(config.metrics.clone());
    let state = AppState { app, trusted_proxies: config.trusted_proxies.clone().into(), metrics: measured.clone(), webhook_guard: Arc::new(config.webhooks.guard.clone()) };
    let mut routes = api::router(config.max_body_bytes).merge(ui::router());
    if measured.is_some() {
        routes = routes.merge(metrics::router());
    }
    let mut routes = routes
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(CatchPanicLayer::custom(error::panic_response));
    if let Some(measured) = measured {
        routes = routes.layer(axum::middleware::from_fn_with_state(measured, metrics::track));
    }
    request_log::around(routes)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests (for at
/// most 30 s).
///
/// Each connection is HTTP/1.1 with keep-alive; a connection that sends no complete request head
/// within `config.idle_timeout` (a slow client, or an idle keep-alive connection) is closed.
///
/// Beside it runs the webhook delivery worker, stopped with the server.
pub async fn serve(listener: TcpListener, app: App, config: &ServerConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let mut config = config.clone();
    if let Ok(address) = listener.local_addr() {
        config.webhooks.guard = config.webhooks.guard.with_own(address.ip());
    }
    let config = &config;
    let router = router(app.clone(), config);
    let (stop_deliveries, stopped) = tokio::sync::watch::channel(false);
    let deliveries = tokio::spawn(webhooks::run(app, config.webhooks.clone(), stopped));
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %error, "failed to accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The client address, for the login throttle, as axum's `ConnectInfo` carries it.
        let service = router.clone().map_request(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request.map(axum::body::Body::new)
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.idle_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error: {error}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), connections.shutdown()).await.is_err() {
        tracing::warn!("requests still running 30 s after shutdown began were cut off");
    }
    // Attempts in flight are cut off; their claims run out and another start retries them.
    let _ = stop_deliveries.send(true);
    let _ = deliveries.await;
    Ok(())
}
