//! `juror-bench`: measures a real `juror` process the way users meet it.
//!
//! - start-up: from spawn to the first 200 on `/api/_status`, on an empty data directory;
//! - idle memory: resident set size after start-up;
//! - bulk import: records of a prompt and two 100-300-word responses (about 3 KB each) pushed
//!   through `PUT /api/v1/datasets/{id}/records/bulk` by several clients at once.
//!
//! - generate: `juror generate` against a running model server, compared with a bare client.
//! - render: the annotation page of a record with three 2,000-word markdown fields.
//!
//! - distribution: next-plus-submit cycles per second with concurrent labelers, and the latency
//!   of the next-record call as the dataset grows.
//! - soak: minutes of mixed traffic at a fixed rate, with memory and latency per window.
//!
//! Run it against a release build: `cargo build --release -p juror-cli -p juror-bench` then
//! `target/release/juror-bench import` or `target/release/juror-bench distribution`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use serde_json::{json, Value};

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, clap::Subcommand)]
enum Bench {
    /// Start-up time, idle memory and bulk import throughput.
    Import(Args),
    /// Next-plus-submit cycles with concurrent labelers, and next-record latency by dataset size.
    Distribution(distribution::Args),
    /// The same import and labeling load on SQLite, on PostgreSQL, and on two PostgreSQL replicas.
    Backends(backends::Args),
    /// Server-side render time of the annotation page for long markdown records.
    Render(render::Args),
    /// `juror generate` against a model server, against a bare client, at several concurrencies.
    Generate(generate::Args),
    /// `juror export` of a million preference pairs: wall time and peak memory of the child.
    Export(export::Args),
    /// Minutes of mixed labeling, import, search and export at a fixed rate: memory and latency over time.
    Soak(soak::Args),
    /// The labeling loop without webhooks, with an endpoint that answers, and with one that is down.
    Webhooks(webhooks::Args),
    /// The labeling loop with quality control off, with adaptive overlap, and with gold records too.
    Quality(quality::Args),
}

#[derive(Debug, clap::Args)]
struct Args {
    /// The juror binary to measure.
    #[arg(long, default_value = "target/release/juror")]
    juror: PathBuf,
    /// Records to import.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Records per request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Use the argilla-v1 SDK's `POST .../records` (answers 204, no body) instead of the v2 upsert.
    #[arg(long)]
    v1: bool,
    /// Start-up measurements to take (the median is reported).
    #[arg(long, default_value_t = 5)]
    startups: usize,
}

mod backends;
mod distribution;
mod export;
mod generate;
mod render;
mod quality;
mod soak;
mod webhooks;

pub(crate) const KEY: &str = "argilla.apikey";

pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    _data: tempfile::TempDir,
}

impl Server {
    /// The process id of the running juror.
    pub(crate) fn child_id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts juror on an empty data directory and returns it with its time to first answer.
pub(crate) async fn start(juror: &PathBuf) -> anyhow::Result<(Server, Duration)> {
    start_with(juror, &[]).await
}

/// The same, with more `juror serve` arguments (`--database-url`, ...).
pub(crate) async fn start_with(juror: &PathBuf, extra: &[&str]) -> anyhow::Result<(Server, Duration)> {
    let data = tempfile::tempdir()?;
    let port = free_port()?;
    let started = Instant::now();
    let child = Command::new(juror)
        .args(["serve", "--port", &port.to_string(), "--data-dir"])
        .arg(data.path())
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("failed to start {}", juror.display()))?;
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    loop {
        if let Ok(response) = client.get(format!("{url}/api/_status")).send().await {
            if response.status().is_success() {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("juror did not answer within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    Ok((Server { child, url, _data: data }, elapsed))
}

/// CPU time (user + system) a process has used so far, in seconds.
pub(crate) fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let after = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks / 100.0)
}

pub(crate) fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).context("no VmRSS line")?;
    Ok(line.split_whitespace().nth(1).context("no VmRSS value")?.parse()?)
}

/// A deterministic pseudo-random generator, so every run sends the same records.
pub(crate) struct Words(pub(crate) u64);

impl Words {
    const VOCABULARY: [&'static str; 32] = [
        "model", "answer", "helpful", "the", "a", "response", "because", "data", "people", "prefer", "clear", "short",
        "explain", "reason", "careful", "step", "first", "then", "result", "example", "and", "of", "to", "is", "that",
        "with", "for", "this", "it", "can", "more", "less",
    ];

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn text(&mut self, min_words: u64, max_words: u64) -> String {
        let count = min_words + self.next() % (max_words - min_words + 1);
        let mut text = String::with_capacity(count as usize * 7);
        for index in 0..count {
            if index > 0 {
                text.push(' ');
            }
            text.push_str(Self::VOCABULARY[(self.next() % 32) as usize]);
        }
        text
    }
}

pub(crate) async fn create_dataset(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    create_named_dataset(client, url, "bench").await
}

/// A published prompt/response-1/response-2 dataset with a ranking question.
pub(crate) async fn create_named_dataset(client: &reqwest::Client, url: &str, name: &str) -> anyhow::Result<String> {
    let workspaces: Value = client.get(format!("{url}/api/v1/me/workspaces")).header("X-Argilla-Api-Key", KEY).send().await?.json().await?;
    let workspace = workspaces["items"][0]["id"].as_str().context("no workspace")?.to_owned();
    let post = |path: String, body: Value| client.post(format!("{url}{path}")).header("X-Argilla-Api-Key", KEY).json(&body).send();
    let dataset: Value = post("/api/v1/datasets".into(), json!({"name": name, "workspace_id": workspace})).await?.json().await?;
    let id = dataset["id"].as_str().context("dataset not created")?.to_owned();
    for name in ["prompt", "response-1", "response-2"] {
        post(format!("/api/v1/datasets/{id}/fields"), json!({"name": name, "title": name, "required": true, "settings": {"type": "text"}})).await?.error_for_status()?;
    }
    let ranking = json!({"type": "ranking", "options": [{"value": "response-1", "text": "1"}, {"value": "response-2", "text": "2"}]});
    post(format!("/api/v1/datasets/{id}/questions"), json!({"name": "preference", "title": "Rank", "required": true, "settings": ranking})).await?.error_for_status()?;
    client.put(format!("{url}/api/v1/datasets/{id}/publish")).header("X-Argilla-Api-Key", KEY).send().await?.error_for_status()?;
    Ok(id)
}

/// Request bodies, serialised before the clock starts.
pub(crate) fn bodies(records: usize, batch: usize) -> (Vec<Vec<u8>>, usize) {
    let mut words = Words(0x9E37_79B9_7F4A_7C15);
    let mut bodies = Vec::new();
    let mut bytes = 0;
    let mut made = 0;
    while made < records {
        let size = batch.min(records - made);
        let items: Vec<Value> = (0..size)
            .map(|offset| {
                json!({"external_id": format!("r{}", made + offset), "fields": {
                    "prompt": words.text(8, 30), "response-1": words.text(100, 300), "response-2": words.text(100, 300)}})
            })
            .collect();
        let body = serde_json::to_vec(&json!({"items": items})).expect("bodies serialise");
        bytes += body.len();
        bodies.push(body);
        made += size;
    }
    (bodies, bytes)
}

pub(crate) async fn import(url: &str, dataset: &str, bodies: Vec<Vec<u8>>, clients: usize, v1: bool) -> anyhow::Result<Duration> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let queue = queue.clone();
        let endpoint = if v1 { format!("{url}/api/v1/datasets/{dataset}/records") } else { format!("{url}/api/v1/datasets/{dataset}/records/bulk") };
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            loop {
                let body = queue.lock().map_err(|_| anyhow::anyhow!("queue poisoned"))?.pop();
                let Some(body) = body else { return Ok::<_, anyhow::Error>(()) };
                let request = if v1 { client.post(&endpoint) } else { client.put(&endpoint) };
                let response = request.header("X-Argilla-Api-Key", KEY).header("Content-Type", "application/json").body(body).send().await?;
                if !response.status().is_success() {
                    bail!("bulk write failed: {} {}", response.status(), response.text().await.unwrap_or_default());
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

/// The floor under any import: the same rows written straight into SQLite, with the same
/// durability settings, one transaction per batch, no HTTP, JSON parsing or validation.
async fn raw_sqlite(bodies: &[Vec<u8>]) -> anyhow::Result<Duration> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::{Connection, QueryBuilder, Sqlite};
    let directory = tempfile::tempdir()?;
    let options = SqliteConnectOptions::new()
        .filename(directory.path().join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .page_size(16384);
    let mut connection = sqlx::SqliteConnection::connect_with(&options).await?;
    sqlx::query("CREATE TABLE records (id TEXT NOT NULL UNIQUE, external_id TEXT UNIQUE, fields TEXT NOT NULL)").execute(&mut connection).await?;
    let batches: Vec<Vec<(String, String)>> = bodies
        .iter()
        .map(|body| {
            let value: Value = serde_json::from_slice(body).expect("bodies are JSON");
            value["items"].as_array().expect("items").iter().map(|item| (item["external_id"].to_string(), item["fields"].to_string())).collect()
        })
        .collect();
    let started = Instant::now();
    for (batch_index, batch) in batches.iter().enumerate() {
        let mut transaction = connection.begin().await?;
        let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO records (id, external_id, fields) ");
        insert.push_values(batch.iter().enumerate(), |mut row, (index, (external_id, fields))| {
            row.push_bind(format!("{batch_index}-{index}")).push_bind(external_id).push_bind(fields);
        });
        insert.build().execute(&mut *transaction).await?;
        transaction.commit().await?;
    }
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().bench {
        Bench::Import(args) => import_bench(args).await,
        Bench::Distribution(args) => distribution::run(args).await,
        Bench::Backends(args) => backends::run(args).await,
        Bench::Render(args) => render::run(args).await,
        Bench::Generate(args) => generate::run(args).await,
        Bench::Export(args) => export::run(args).await,
        Bench::Soak(args) => soak::run(args).await,
        Bench::Webhooks(args) => webhooks::run(args).await,
        Bench::Quality(args) => quality::run(args).await,
    }
}

async fn import_bench(args: Args) -> anyhow::Result<()> {
    let mut startups = Vec::new();
    for _ in 0..args.startups {
        let (server, elapsed) = start(&args.juror).await?;
        startups.push(elapsed);
        drop(server);
    }
    startups.sort();
    let median_startup = startups[startups.len() / 2];

    let (server, _) = start(&args.juror).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_kib(server.child.id())?;
    let client = reqwest::Client::new();
    let dataset = create_dataset(&client, &server.url).await?;
    let (bodies, bytes) = bodies(args.records, args.batch);
    let raw = raw_sqlite(&bodies).await?;
    let cpu_before = cpu_seconds(server.child.id())?;
    let elapsed = import(&server.url, &dataset, bodies, args.clients, args.v1).await?;
    let server_cpu = cpu_seconds(server.child.id())? - cpu_before;
    let loaded_rss = rss_kib(server.child.id())?;
    let metrics: Value = client.get(format!("{}/api/v1/me/datasets/{dataset}/metrics", server.url)).header("X-Argilla-Api-Key", KEY).send().await?.json().await?;
    let stored = metrics["records"]["count"].as_u64().unwrap_or(0);
    if stored != args.records as u64 {
        bail!("expected {} records stored, found {stored}", args.records);
    }
    let seconds = elapsed.as_secs_f64();
    println!("start-up (median of {}): {:.1} ms", args.startups, median_startup.as_secs_f64() * 1000.0);
    println!("idle RSS: {:.1} MiB", idle_rss as f64 / 1024.0);
    println!(
        "bulk import ({}): {} records ({:.0} MB of JSON, {} per request, {} clients) in {:.2} s = {:.0} records/s, {:.1} MB/s",
        if args.v1 { "POST .../records, v1" } else { "PUT .../records/bulk, v2" },
        args.records,
        bytes as f64 / 1e6,
        args.batch,
        args.clients,
        seconds,
        args.records as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );
    println!(
        "server CPU for the import: {:.2} core-seconds = {:.0} records per core-second (the load generator shares the 2 cores)",
        server_cpu,
        args.records as f64 / server_cpu
    );
    let raw_rate = args.records as f64 / raw.as_secs_f64();
    println!(
        "raw SQLite baseline (same rows, same durability, no HTTP/JSON/validation): {:.0} records/s; juror reaches {:.0}% of it",
        raw_rate,
        100.0 * (args.records as f64 / seconds) / raw_rate
    );
    println!("RSS after import: {:.1} MiB", loaded_rss as f64 / 1024.0);
    Ok(())
}
