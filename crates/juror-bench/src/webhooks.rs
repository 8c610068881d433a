//! `juror-bench webhooks`: what webhooks cost the labeling loop. The same next+submit load runs
//! three times in one invocation, each on a fresh server: without webhooks; with a webhook for
//! `response.created` and `record.completed` whose endpoint (a sink in this process) answers
//! at once; and with the same webhook pointed at a port where nothing listens, so every
//! delivery fails and is retried. Reported: cycles/s of each as a ratio of the first, the
//! events enqueued per cycle, and how long the sink waited for the last delivery after the load
//! stopped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use crate::distribution::{cycles, owner_post, setup};
use crate::{cpu_seconds, start_with, KEY};

/// The labeling loop a bench runs: the binary, the dataset's size, the labelers, how long.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The juror binary to measure.
    #[arg(long, default_value = "target/release/juror")]
    pub(crate) juror: PathBuf,
    /// Records in the dataset the labelers work on.
    #[arg(long, default_value_t = 20_000)]
    pub(crate) records: usize,
    /// Concurrent labelers.
    #[arg(long, default_value_t = 32)]
    pub(crate) labelers: usize,
    /// How long the labelers work in each run.
    #[arg(long, default_value_t = 10)]
    pub(crate) seconds: u64,
}

/// Where the webhook points in a run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Endpoint {
    None,
    Sink,
    Dead,
}

/// A webhook endpoint in this process: counts what it receives and answers 204.
async fn sink() -> anyhow::Result<(String, Arc<AtomicU64>)> {
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, received))
}

struct Outcome {
    rate: f64,
    cpu_per_cycle_us: f64,
    pending_after: u64,
    drained_in: Option<Duration>,
    received: u64,
}

async fn pending(client: &reqwest::Client, url: &str, webhook: &str) -> anyhow::Result<u64> {
    let deliveries: Value = client.get(format!("{url}/api/v1/webhooks/{webhook}/deliveries?limit=500")).header("X-Argilla-Api-Key", KEY).send().await?.json().await?;
    Ok(deliveries["items"].as_array().map_or(0, |items| items.iter().filter(|item| item["status"] == "pending").count() as u64))
}

async fn run_once(args: &Args, endpoint: Endpoint) -> anyhow::Result<Outcome> {
    let client = reqwest::Client::new();
    let (server, _) = start_with(&args.juror, &["--webhooks-allow-local"]).await?;
    let (dataset, keys) = setup(&client, &server.url, args.records, args.labelers, 2).await?;
    let (sink_url, received) = sink().await?;
    let dead = format!("http://127.0.0.1:{}/hook", crate::free_port()?);
    let webhook = match endpoint {
        Endpoint::None => None,
        Endpoint::Sink | Endpoint::Dead => {
            let target = if endpoint == Endpoint::Sink { &sink_url } else { &dead };
            let created = owner_post(&client, &server.url, "/api/v1/webhooks", json!({"url": target, "events": ["response.created", "record.completed"]})).await?;
            Some(created["id"].as_str().context("no webhook id")?.to_owned())
        }
    };
    // Let the webhook reach the server's one-second cache before the load starts.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let cpu_before = cpu_seconds(server.child_id())?;
    let (done, elapsed) = cycles(std::slice::from_ref(&server.url), &dataset, keys, args.seconds).await?;
    let cpu = cpu_seconds(server.child_id())? - cpu_before;
    let stopped = Instant::now();
    let mut drained_in = None;
    let mut pending_after = 0;
    if let Some(webhook) = &webhook {
        pending_after = pending(&client, &server.url, webhook).await?;
        if endpoint == Endpoint::Sink {
            // Every cycle is one response.created, every second one completes a record.
            let expected = done + done / 2;
            while received.load(Ordering::Relaxed) < expected && stopped.elapsed() < Duration::from_secs(120) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            drained_in = Some(stopped.elapsed());
        }
    }
    Ok(Outcome { rate: done as f64 / elapsed.as_secs_f64(), cpu_per_cycle_us: cpu * 1e6 / done.max(1) as f64, pending_after, drained_in, received: received.load(Ordering::Relaxed) })
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let none = run_once(&args, Endpoint::None).await?;
    let sink = run_once(&args, Endpoint::Sink).await?;
    let dead = run_once(&args, Endpoint::Dead).await?;
    println!("webhooks: {} labelers, {} records, min_submitted=2, {} s per run", args.labelers, args.records, args.seconds);
    println!("  no webhook:        {:.0} cycles/s, {:.0} µs server CPU per cycle", none.rate, none.cpu_per_cycle_us);
    println!(
        "  endpoint answers:  {:.0} cycles/s ({:.2} of none), {:.0} µs per cycle; {} deliveries received, queue drained {:.1} s after the load stopped ({} pending then)",
        sink.rate,
        sink.rate / none.rate,
        sink.cpu_per_cycle_us,
        sink.received,
        sink.drained_in.map_or(f64::NAN, |drained| drained.as_secs_f64()),
        sink.pending_after
    );
    println!(
        "  endpoint down:     {:.0} cycles/s ({:.2} of none), {:.0} µs per cycle; {} deliveries waiting to be retried (first 500 listed)",
        dead.rate,
        dead.rate / none.rate,
        dead.cpu_per_cycle_us,
        dead.pending_after
    );
    Ok(())
}
