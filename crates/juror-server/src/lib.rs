//! Juror's HTTP server: the Argilla-compatible API on axum.
//!
//! This crate is the only one that knows HTTP and JSON wire shapes. Handlers extract the request,
//! convert wire types to `juror-app` inputs, call one use case, and convert the result back.
//! Argilla's quirks (status codes, error envelopes, legacy routes) live here and nowhere else.

mod api;
mod error;
mod extract;
mod ui;
mod wire;

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use juror_app::App;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// Server settings that are not the application's.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { max_body_bytes: 64 * 1024 * 1024 }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
}

/// The whole HTTP surface for `app`.
pub fn router(app: App, config: &ServerConfig) -> Router {
    api::router()
        .merge(ui::router())
        .with_state(AppState { app })
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http())
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(listener: TcpListener, app: App, config: &ServerConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let router = router(app, config);
    // The client address slows down password guessing per address.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}
