//! `juror serve`: open the data, make sure there is an owner, and serve until a signal.

use std::time::{Duration, Instant};

use anyhow::Context;
use juror_app::DefaultOwner;
use juror_core::webhook::RetryPolicy;
use juror_server::{AddressGuard, MetricsAccess, ServerConfig, WebhookConfig};
use tokio::net::TcpListener;

use super::{lock_data_dir, open_app};
use crate::cli::{LogFormat, ServeArgs};
use crate::database::Database;
use crate::demo;

pub(super) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let started = Instant::now();
    // Two servers never share one SQLite file; on PostgreSQL, replicas are the point.
    let _lock = match args.data.database()? {
        Database::Sqlite(data_dir) => Some(lock_data_dir(data_dir)?),
        Database::Postgres(_) => None,
    };
    let (app, store) = open_app(&args.data).await?;
    tracing::info!(database = %store.describe(), "opened {}", store.describe());
    let app = app.with_lease_duration(std::time::Duration::from_secs(args.lease_minutes.saturating_mul(60)));
    let owner = DefaultOwner {
        username: args.owner.owner_username,
        password: args.owner.owner_password,
        api_key: args.owner.owner_api_key,
        workspace: args.owner.workspace,
    };
    let created_owner = app.ensure_default_owner(&owner).await.context("failed to create the default owner")?;
    if args.demo {
        demo::load(&app, &owner.workspace).await.context("failed to load the demo dataset")?;
    }
    if !is_loopback(&args.host) && !args.allow_default_credentials {
        let well_known = app.well_known_credentials().await.context("failed to check for default credentials")?;
        if !well_known.is_empty() {
            anyhow::bail!(
                "refusing to listen on {}, which other machines can reach, while anyone can log in with the well-known defaults ({}). \
                 Change them (`juror user set-password --username NAME`, `juror user rotate-key --username NAME`), \
                 or start with --allow-default-credentials",
                args.host,
                well_known.join("; ")
            );
        }
    }
    let address = format!("{}:{}", args.host, args.port);
    let listener = TcpListener::bind(&address).await.with_context(|| format!("failed to listen on {address}"))?;
    let url = format!("http://{}", listener.local_addr().context("failed to read the bound address")?);
    tracing::info!(url = %url, elapsed_ms = started.elapsed().as_millis() as u64, "juror is ready at {url}");
    // People read the text format, log collectors the JSON one: only people get these lines
    // (and the key, which does not belong in collected logs).
    if args.log_format == LogFormat::Text {
        println!("Juror is ready at {url}");
        if created_owner {
            println!("Created the owner `{}` in workspace `{}`; API key: {}", owner.username, owner.workspace, owner.api_key);
        }
    } else if created_owner {
        tracing::info!(owner = %owner.username, workspace = %owner.workspace, "created the default owner");
    }
    let config = ServerConfig {
        max_body_bytes: args.max_body_mib.saturating_mul(1024 * 1024),
        trusted_proxies: args.trusted_proxies,
        request_timeout: std::time::Duration::from_secs(args.request_timeout_secs.max(1)),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout_secs.max(1)),
        metrics: match (&args.metrics_token, args.metrics) {
            (Some(token), _) if !token.is_empty() => MetricsAccess::Token(token.clone()),
            (_, true) => MetricsAccess::Open,
            _ => MetricsAccess::Off,
        },
        webhooks: WebhookConfig {
            retry: RetryPolicy { base: Duration::from_millis(args.webhooks_retry_ms), max_attempts: args.webhooks_max_attempts, ..RetryPolicy::default() },
            attempt_timeout: Duration::from_secs(args.webhooks_timeout_secs),
            guard: AddressGuard::new(args.webhooks_allow_local, Vec::new()),
            ..WebhookConfig::default()
        },
    };
    juror_server::serve(listener, app, &config, shutdown_signal()).await.context("server failed")?;
    store.close().await;
    tracing::info!("juror stopped");
    Ok(())
}

/// Whether `host` is reachable from this machine only; names other than `localhost` count as
/// reachable from elsewhere.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// Log lines at `info` (or `JUROR_LOG`'s filter) on standard output, as text or JSON; each line
/// logged while a request is served names the request (`juror_server`'s request span).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JUROR_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colors = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let lines = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(colors);
    match format {
        LogFormat::Text => lines.init(),
        LogFormat::Json => lines.json().with_current_span(true).with_span_list(false).init(),
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_loopback_addresses_and_localhost_are_loopback() {
        for host in ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["0.0.0.0", "::", "192.168.1.4", "10.0.0.1", "juror.example.org", ""] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
