//! `juror-bench distribution`: the labeling loop under load.
//!
//! - cycles: `--labelers` concurrent HTTP clients, each its own annotator, repeat "next record,
//!   submit a ranking" on a `--records` dataset with `min_submitted=2` for `--seconds`;
//! - latency: one client calls next (and releases the lease) on datasets of each `--sizes`
//!   size, and the p50/p99 of the next-record call are reported.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::{bodies, cpu_seconds, create_dataset, import, start, KEY};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The juror binary to measure.
    #[arg(long, default_value = "target/release/juror")]
    juror: PathBuf,
    /// Records in the dataset the labelers work on.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Concurrent labelers.
    #[arg(long, default_value_t = 64)]
    labelers: usize,
    /// How long the labelers work.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Dataset sizes for the next-record latency, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    sizes: Vec<usize>,
    /// Next-record calls per latency measurement.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
}

pub(crate) async fn owner_post(client: &reqwest::Client, url: &str, path: &str, body: Value) -> anyhow::Result<Value> {
    let response = client.post(format!("{url}{path}")).header("X-Argilla-Api-Key", KEY).json(&body).send().await?;
    if !response.status().is_success() {
        bail!("{path} answered {}: {}", response.status(), response.text().await.unwrap_or_default());
    }
    Ok(response.json().await.unwrap_or(Value::Null))
}

/// A dataset of `records` records with `min_submitted`, and the API keys of `labelers` annotators.
pub(crate) async fn setup(client: &reqwest::Client, url: &str, records: usize, labelers: usize, min_submitted: u32) -> anyhow::Result<(String, Vec<String>)> {
    let dataset = create_dataset(client, url).await?;
    let patch = json!({"distribution": {"strategy": "overlap", "min_submitted": min_submitted}});
    client.patch(format!("{url}/api/v1/datasets/{dataset}")).header("X-Argilla-Api-Key", KEY).json(&patch).send().await?.error_for_status()?;
    let (bodies, _) = bodies(records, 1000);
    import(url, &dataset, bodies, 2, true).await?;
    let keys = add_labelers(client, url, &dataset, labelers).await?;
    Ok((dataset, keys))
}

/// `labelers` new annotators in the server's first workspace; their API keys.
pub(crate) async fn add_labelers(client: &reqwest::Client, url: &str, dataset: &str, labelers: usize) -> anyhow::Result<Vec<String>> {
    let workspaces: Value = client.get(format!("{url}/api/v1/me/workspaces")).header("X-Argilla-Api-Key", KEY).send().await?.json().await?;
    let workspace = workspaces["items"][0]["id"].as_str().context("no workspace")?.to_owned();
    let mut keys = Vec::with_capacity(labelers);
    for index in 0..labelers {
        let name = format!("bench-{index}-{}", dataset.get(..8).unwrap_or("x"));
        let user = owner_post(client, url, "/api/v1/users", json!({"username": name, "first_name": name, "password": "bench-password", "role": "annotator"})).await?;
        let user_id = user["id"].as_str().context("user not created")?;
        owner_post(client, url, &format!("/api/v1/workspaces/{workspace}/users"), json!({"user_id": user_id})).await?;
        keys.push(user["api_key"].as_str().context("no api key")?.to_owned());
    }
    Ok(keys)
}

pub(crate) fn ranking() -> Value {
    json!({"status": "submitted", "values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}})
}

/// Labelers doing next+submit cycles for `seconds`, labeler `i` on server `i % urls.len()`;
/// the cycles done and the time taken.
pub(crate) async fn cycles(urls: &[String], dataset: &str, keys: Vec<String>, seconds: u64) -> anyhow::Result<(u64, Duration)> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (index, key) in keys.into_iter().enumerate() {
        let (done, stop, url, dataset) = (done.clone(), stop.clone(), urls[index % urls.len()].clone(), dataset.to_owned());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let next: Value = client
                    .post(format!("{url}/api/v1/me/datasets/{dataset}/records/next"))
                    .header("X-Argilla-Api-Key", &key)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let Some(record) = next["record"]["id"].as_str() else { return Ok::<_, anyhow::Error>(()) };
                client
                    .post(format!("{url}/api/v1/records/{record}/responses"))
                    .header("X-Argilla-Api-Key", &key)
                    .json(&ranking())
                    .send()
                    .await?
                    .error_for_status()?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    for task in tasks {
        task.await??;
    }
    Ok((done.load(Ordering::Relaxed), elapsed))
}

/// The HTTP floor: the same clients calling `GET /api/v1/me` (authentication and a small JSON
/// answer, no database) as fast as they can; returns requests per second.
async fn floor(url: &str, keys: &[String], seconds: u64) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for key in keys {
        let (done, stop, url, key) = (done.clone(), stop.clone(), url.to_owned(), key.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                client.get(format!("{url}/api/v1/me")).header("X-Argilla-Api-Key", &key).send().await?.error_for_status()?.bytes().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    for task in tasks {
        task.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64())
}

/// Next-record latencies of one client on an idle server, releasing each lease so the dataset
/// stays open.
async fn latencies(url: &str, dataset: &str, key: &str, samples: usize) -> anyhow::Result<Vec<Duration>> {
    let client = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let next: Value = client
            .post(format!("{url}/api/v1/me/datasets/{dataset}/records/next"))
            .header("X-Argilla-Api-Key", key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        latencies.push(started.elapsed());
        let record = next["record"]["id"].as_str().context("no open record")?;
        client.delete(format!("{url}/api/v1/records/{record}/lease")).header("X-Argilla-Api-Key", key).send().await?.error_for_status()?;
    }
    latencies.sort();
    Ok(latencies)
}

/// The `fraction` quantile of sorted latencies, in milliseconds.
pub(crate) fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    {
        let (server, _) = start(&args.juror).await?;
        let (dataset, keys) = setup(&client, &server.url, args.records, args.labelers, 2).await?;
        let floor_rate = floor(&server.url, &keys, args.seconds.min(5)).await?;
        let cpu_before = cpu_seconds(server.child_id())?;
        let (cycles, elapsed) = cycles(std::slice::from_ref(&server.url), &dataset, keys, args.seconds).await?;
        let server_cpu = cpu_seconds(server.child_id())? - cpu_before;
        println!(
            "cycles: {} labelers, {} records, min_submitted=2: {cycles} next+submit cycles in {:.1} s = {:.0} cycles/s",
            args.labelers,
            args.records,
            elapsed.as_secs_f64(),
            cycles as f64 / elapsed.as_secs_f64()
        );
        println!(
            "HTTP floor: the same {} clients on GET /api/v1/me: {floor_rate:.0} requests/s; a cycle is two requests, so the cycles reach {:.0}% of the floor",
            args.labelers,
            100.0 * 2.0 * cycles as f64 / elapsed.as_secs_f64() / floor_rate
        );
        println!(
            "server CPU during the cycles: {server_cpu:.1} core-seconds of {:.1} available = {:.0} µs per cycle",
            2.0 * elapsed.as_secs_f64(),
            server_cpu * 1e6 / cycles.max(1) as f64
        );
    }
    for size in &args.sizes {
        let (server, _) = start(&args.juror).await?;
        let (dataset, keys) = setup(&client, &server.url, *size, 1, 1).await?;
        let sorted = latencies(&server.url, &dataset, &keys[0], args.samples).await?;
        println!(
            "next-record latency at {size} records ({} calls, one client): p50 {:.2} ms, p99 {:.2} ms",
            args.samples,
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.99)
        );
    }
    Ok(())
}
