//! `juror-bench soak`: mixed traffic at a fixed rate for minutes, to show that memory and
//! latency stay flat.
//!
//! At once, each at its own fixed pace (never faster, so the server is loaded, not saturated):
//! labelers doing next-plus-submit cycles, a labeler searching (a text query and a sort) and a
//! full preference export once a minute, all on one dataset of a fixed size, while a client
//! imports batches of new records into a second dataset (so the searched dataset does not grow,
//! and a growing latency would mean a leak, not more data). Every `--window` seconds the
//! server's resident memory and CPU are read and each kind's latencies summarised.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use tokio::time::MissedTickBehavior;

use crate::distribution::{percentile, ranking, setup};
use crate::{cpu_seconds, create_named_dataset, rss_kib, start, Words, KEY};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The juror binary to measure.
    #[arg(long, default_value = "target/release/juror")]
    juror: PathBuf,
    /// How long the traffic runs.
    #[arg(long, default_value_t = 10)]
    minutes: u64,
    /// Seconds per reported window.
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// Records in the labeled dataset.
    #[arg(long, default_value_t = 20_000)]
    records: usize,
    /// Concurrent labelers.
    #[arg(long, default_value_t = 16)]
    labelers: usize,
    /// Next-plus-submit cycles per second, all labelers together.
    #[arg(long, default_value_t = 50)]
    cycles_per_second: u64,
    /// Records imported per second (in batches of 100).
    #[arg(long, default_value_t = 50)]
    imports_per_second: u64,
    /// Seconds between two searches.
    #[arg(long, default_value_t = 2)]
    search_every: u64,
}

/// The kinds of traffic, in report order.
const KINDS: [&str; 4] = ["cycle", "import", "search", "export"];

/// Latencies of the current window, by kind, and the errors seen.
#[derive(Default)]
struct Window {
    latencies: [Vec<Duration>; 4],
    errors: u64,
}

type Shared = Arc<Mutex<Window>>;

fn record(shared: &Shared, kind: usize, started: Instant, ok: bool) {
    if let Ok(mut window) = shared.lock() {
        window.latencies[kind].push(started.elapsed());
        if !ok {
            window.errors += 1;
        }
    }
}

/// Runs `step` every `period` until `deadline`.
async fn paced<F, Fut>(period: Duration, deadline: Instant, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while Instant::now() < deadline {
        ticks.tick().await;
        step().await;
    }
}

async fn labeler(url: String, dataset: String, key: String, period: Duration, deadline: Instant, shared: Shared) {
    let client = reqwest::Client::new();
    paced(period, deadline, || async {
        let started = Instant::now();
        let ok = async {
            let next: Value = client.post(format!("{url}/api/v1/me/datasets/{dataset}/records/next")).header("X-Argilla-Api-Key", &key).send().await?.error_for_status()?.json().await?;
            let record = next["record"]["id"].as_str().context("nothing left to label")?.to_owned();
            client.post(format!("{url}/api/v1/records/{record}/responses")).header("X-Argilla-Api-Key", &key).json(&ranking()).send().await?.error_for_status()?;
            Ok::<_, anyhow::Error>(())
        }
        .await
        .is_ok();
        record(&shared, 0, started, ok);
    })
    .await;
}

async fn importer(url: String, dataset: String, period: Duration, deadline: Instant, shared: Shared) {
    let client = reqwest::Client::new();
    let mut words = Words(0x5EED_50A4);
    let mut made = 0usize;
    paced(period, deadline, || {
        let items: Vec<Value> = (made..made + 100)
            .map(|index| json!({"external_id": format!("soak-{index}"), "fields": {"prompt": words.text(8, 30), "response-1": words.text(100, 300), "response-2": words.text(100, 300)}}))
            .collect();
        made += 100;
        let (client, url, dataset, shared) = (&client, &url, &dataset, &shared);
        async move {
            let started = Instant::now();
            let response = client.put(format!("{url}/api/v1/datasets/{dataset}/records/bulk")).header("X-Argilla-Api-Key", KEY).json(&json!({"items": items})).send().await;
            record(shared, 1, started, response.is_ok_and(|response| response.status().is_success()));
        }
    })
    .await;
}

async fn searcher(url: String, dataset: String, key: String, period: Duration, deadline: Instant, shared: Shared) {
    let client = reqwest::Client::new();
    let body = json!({"query": {"text": {"q": "careful reason"}}, "sort": [{"scope": {"entity": "record", "property": "inserted_at"}, "order": "desc"}]});
    paced(period, deadline, || async {
        let started = Instant::now();
        let response = client.post(format!("{url}/api/v1/me/datasets/{dataset}/records/search?limit=20")).header("X-Argilla-Api-Key", &key).json(&body).send().await;
        let ok = match response {
            Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
            _ => false,
        };
        record(&shared, 2, started, ok);
    })
    .await;
}

async fn exporter(url: String, dataset: String, deadline: Instant, shared: Shared) {
    let client = reqwest::Client::new();
    paced(Duration::from_secs(60), deadline, || async {
        let started = Instant::now();
        let response = client.get(format!("{url}/api/v1/datasets/{dataset}/preferences/export?format=trl")).header("X-Argilla-Api-Key", KEY).send().await;
        let ok = match response {
            Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
            _ => false,
        };
        record(&shared, 3, started, ok);
    })
    .await;
}

fn summary(latencies: &mut [Duration]) -> String {
    if latencies.is_empty() {
        return "-".into();
    }
    latencies.sort();
    format!("{} × p50 {:.1} / p99 {:.1}", latencies.len(), percentile(latencies, 0.5), percentile(latencies, 0.99))
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let (server, _) = start(&args.juror).await?;
    let (dataset, keys) = setup(&client, &server.url, args.records, args.labelers, 2).await?;
    let pid = server.child_id();
    let shared = Shared::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.minutes * 60);
    let per_labeler = Duration::from_secs_f64(args.labelers as f64 / args.cycles_per_second.max(1) as f64);
    let mut tasks = Vec::new();
    for key in &keys {
        tasks.push(tokio::spawn(labeler(server.url.clone(), dataset.clone(), key.clone(), per_labeler, deadline, shared.clone())));
    }
    let incoming = create_named_dataset(&client, &server.url, "incoming").await?;
    let import_period = Duration::from_secs_f64(100.0 / args.imports_per_second.max(1) as f64);
    tasks.push(tokio::spawn(importer(server.url.clone(), incoming, import_period, deadline, shared.clone())));
    let search_period = Duration::from_secs(args.search_every.max(1));
    tasks.push(tokio::spawn(searcher(server.url.clone(), dataset.clone(), keys[0].clone(), search_period, deadline, shared.clone())));
    tasks.push(tokio::spawn(exporter(server.url.clone(), dataset.clone(), deadline, shared.clone())));

    println!(
        "soak: {} min; {} labelers at {} cycles/s, a search every {} s and an export a minute on {} records; {} records/s imported into another dataset",
        args.minutes, args.labelers, args.cycles_per_second, args.search_every, args.records, args.imports_per_second
    );
    println!("| window end (s) | RSS (MiB) | server CPU (%) | cycles, ms | imports (100 records), ms | searches, ms | exports, ms | errors |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let (mut rss_seen, mut p99_seen) = (Vec::new(), Vec::new());
    let mut cpu_before = cpu_seconds(pid)?;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(args.window)).await;
        let mut window = std::mem::take(&mut *shared.lock().map_err(|_| anyhow::anyhow!("window poisoned"))?);
        let rss = rss_kib(pid)? as f64 / 1024.0;
        let cpu = cpu_seconds(pid)?;
        let busy = 100.0 * (cpu - cpu_before) / args.window as f64;
        cpu_before = cpu;
        if !window.latencies[0].is_empty() {
            window.latencies[0].sort();
            p99_seen.push(percentile(&window.latencies[0], 0.99));
        }
        rss_seen.push(rss);
        let cells: Vec<String> = window.latencies.iter_mut().map(|latencies| summary(latencies)).collect();
        println!("| {} | {rss:.0} | {busy:.0} | {} | {} | {} | {} | {} |", started.elapsed().as_secs(), cells[0], cells[1], cells[2], cells[3], window.errors);
    }
    for task in tasks {
        task.await?;
    }
    let kinds = KINDS.join(", ");
    if let (Some(first), Some(last)) = (rss_seen.first(), rss_seen.last()) {
        let peak = rss_seen.iter().cloned().fold(0.0, f64::max);
        println!("RSS: first window {first:.0} MiB, last {last:.0} MiB, peak {peak:.0} MiB (last/first {:.2})", last / first);
    }
    if let (Some(first), Some(last)) = (p99_seen.first(), p99_seen.last()) {
        println!("labeling cycle p99: first window {first:.1} ms, last {last:.1} ms (last/first {:.2}); traffic kinds: {kinds}", last / first);
    }
    Ok(())
}
