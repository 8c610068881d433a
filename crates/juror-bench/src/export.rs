//! `juror-bench export`: `juror export` of a million preference pairs, timed as a user runs it.
//!
//! Setup (untimed): a `juror serve` on a fresh data directory gets a dataset of `--records`
//! records, each a prompt and `--options` responses with one ranking question over them, and
//! `--labelers` labelers who each rank every record, all sent through the bulk upsert with the
//! responses embedded; then the server is stopped. 100,000 records of 5 options give 10 pairs a
//! record, 1,000,000 pairs.
//!
//! Timed: the real `juror export` binary as a child process, to TRL JSON lines and to Parquet
//! (majority), and to JSON lines with the reliability model (two passes over the data), each with
//! `--keep-ties` so every pair is written. For each: wall time, and the child's peak resident set
//! (`VmHWM`, polled every 2 ms until it exits). Baselines on the same machine and files: the same
//! rows read straight from SQLite (no decoding), and a plain copy of the output file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::{Words, KEY};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The juror binary to measure.
    #[arg(long, default_value = "target/release/juror")]
    juror: PathBuf,
    /// Records in the dataset.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// Responses (ranking options) per record.
    #[arg(long, default_value_t = 5)]
    options: usize,
    /// Labelers, each ranking every record.
    #[arg(long, default_value_t = 2)]
    labelers: usize,
    /// Keep the data here and reuse it when it is already there (same flags), instead of a
    /// fresh temporary directory: for measuring one change after another.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    if args.options < 2 {
        bail!("--options must be at least 2");
    }
    let temporary = tempfile::tempdir()?;
    let data = args.data_dir.clone().unwrap_or_else(|| temporary.path().to_owned());
    let started = Instant::now();
    let bytes = if data.join("juror.db").exists() { 0 } else { setup(&args, &data).await? };
    let pairs = args.records * args.options * (args.options - 1) / 2;
    println!(
        "dataset: {} records of {} responses, {} labelers ranking each ({:.0} MB of record JSON): {pairs} pairs; set up in {:.1} s",
        args.records,
        args.options,
        args.labelers,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let scan = raw_scan(&data).await?;
    println!("baseline: the same records and responses read straight from SQLite, no decoding: {:.2} s", scan.as_secs_f64());
    let out = tempfile::tempdir()?;
    for (label, file, extra) in [
        ("trl, JSON lines, majority", "pairs.jsonl", &[][..]),
        ("trl, Parquet, majority", "pairs.parquet", &[][..]),
        ("trl, JSON lines, reliability", "reliable.jsonl", &["--strategy", "reliability"][..]),
    ] {
        let output = out.path().join(file);
        let (elapsed, peak_kib, stderr) = export(&args.juror, &data, &output, extra)?;
        let size = std::fs::metadata(&output)?.len();
        let written: usize = stderr.split_whitespace().nth(1).and_then(|count| count.parse().ok()).unwrap_or(0);
        if written != pairs {
            bail!("expected {pairs} pairs, `juror export` said: {stderr}");
        }
        let copy_started = Instant::now();
        std::fs::copy(&output, out.path().join("copy"))?;
        let copy = copy_started.elapsed();
        std::fs::remove_file(out.path().join("copy"))?;
        println!(
            "{label}: {:.2} s, peak RSS {:.1} MiB, {:.0} MB written ({:.0} pairs/s); copying the file takes {:.2} s, so export / (SQLite read + copy) = {:.1}x",
            elapsed.as_secs_f64(),
            peak_kib as f64 / 1024.0,
            size as f64 / 1e6,
            pairs as f64 / elapsed.as_secs_f64(),
            copy.as_secs_f64(),
            elapsed.as_secs_f64() / (scan + copy).as_secs_f64()
        );
        std::fs::remove_file(&output)?;
    }
    Ok(())
}

/// Runs `juror export` to `output` and returns its wall time, its peak RSS in KiB and its stderr.
fn export(juror: &Path, data: &Path, output: &Path, extra: &[&str]) -> anyhow::Result<(Duration, u64, String)> {
    let started = Instant::now();
    let mut child = Command::new(juror)
        .arg("export")
        .arg("--data-dir")
        .arg(data)
        .args(["--dataset", "bench-export", "--format", "trl", "--keep-ties", "--output"])
        .arg(output)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to start {}", juror.display()))?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        // VmHWM is the high-water mark, so polling misses at most the last interval's growth.
        if let Some(kib) = std::fs::read_to_string(&status_file).ok().as_deref().and_then(vm_hwm_kib) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().context("no stderr")?, &mut stderr)?;
    if !status.success() {
        bail!("juror export failed: {stderr}");
    }
    Ok((elapsed, peak, stderr))
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    status.lines().find(|line| line.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// Creates the dataset through a `juror serve` on `data`, stops the server, and returns the
/// bytes of record JSON sent.
async fn setup(args: &Args, data: &Path) -> anyhow::Result<usize> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut server = Command::new(&args.juror)
        .args(["serve", "--port", &port.to_string(), "--data-dir"])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("failed to start {}", args.juror.display()))?;
    let url = format!("http://127.0.0.1:{port}");
    let result = fill(args, &url).await;
    // SIGTERM, so the server checkpoints and the export does not start by replaying its WAL.
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    server.wait()?;
    result
}

async fn fill(args: &Args, url: &str) -> anyhow::Result<usize> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{url}/api/_status")).send().await.map_or(true, |answer| !answer.status().is_success()) {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("juror did not answer within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let send = |method: reqwest::Method, path: String, body: Value| client.request(method, format!("{url}{path}")).header("X-Argilla-Api-Key", KEY).json(&body).send();
    let answer = |response: reqwest::Response| async move {
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("setup request answered {status}: {body}");
        }
        Ok(body)
    };
    let workspaces = answer(client.get(format!("{url}/api/v1/me/workspaces")).header("X-Argilla-Api-Key", KEY).send().await?).await?;
    let workspace = workspaces["items"][0]["id"].as_str().context("no workspace")?.to_owned();
    let dataset = answer(send(reqwest::Method::POST, "/api/v1/datasets".into(), json!({"name": "bench-export", "workspace_id": workspace})).await?).await?;
    let id = dataset["id"].as_str().context("dataset not created")?.to_owned();
    let names: Vec<String> = (1..=args.options).map(|index| format!("response-{index}")).collect();
    for name in std::iter::once("prompt").chain(names.iter().map(String::as_str)) {
        answer(send(reqwest::Method::POST, format!("/api/v1/datasets/{id}/fields"), json!({"name": name, "title": name, "required": true, "settings": {"type": "text"}})).await?).await?;
    }
    let options: Vec<Value> = names.iter().map(|name| json!({"value": name, "text": name})).collect();
    let question = json!({"name": "preference", "title": "Rank", "required": true, "settings": {"type": "ranking", "options": options}});
    answer(send(reqwest::Method::POST, format!("/api/v1/datasets/{id}/questions"), question).await?).await?;
    answer(send(reqwest::Method::PUT, format!("/api/v1/datasets/{id}/publish"), json!({})).await?).await?;
    let mut labelers = Vec::new();
    for index in 0..args.labelers {
        let name = format!("labeler-{index}");
        let user = answer(send(reqwest::Method::POST, "/api/v1/users".into(), json!({"username": name, "first_name": name, "password": "bench-password", "role": "annotator"})).await?).await?;
        let user_id = user["id"].as_str().context("user not created")?.to_owned();
        answer(send(reqwest::Method::POST, format!("/api/v1/workspaces/{workspace}/users"), json!({"user_id": user_id})).await?).await?;
        labelers.push(user_id);
    }

    let mut words = Words(0x2545_F491_4F6C_DD1D);
    let mut bytes = 0;
    let endpoint = format!("{url}/api/v1/datasets/{id}/records/bulk");
    for first in (0..args.records).step_by(500) {
        let items: Vec<Value> = (first..args.records.min(first + 500))
            .map(|index| {
                let mut fields = serde_json::Map::new();
                fields.insert("prompt".into(), json!(words.text(8, 30)));
                for name in &names {
                    fields.insert(name.clone(), json!(words.text(20, 60)));
                }
                // Each labeler ranks the options in a rotation of the record's order, so they
                // disagree on some pairs and the strategies have something to resolve.
                let responses: Vec<Value> = labelers
                    .iter()
                    .enumerate()
                    .map(|(labeler, user_id)| {
                        let ranks: Vec<Value> =
                            names.iter().enumerate().map(|(option, name)| json!({"value": name, "rank": (option + index + labeler) % names.len() + 1})).collect();
                        json!({"user_id": user_id, "status": "submitted", "values": {"preference": {"value": ranks}}})
                    })
                    .collect();
                json!({"external_id": format!("r{index}"), "fields": fields, "responses": responses})
            })
            .collect();
        let body = serde_json::to_vec(&json!({"items": items}))?;
        bytes += body.len();
        let response = client.put(&endpoint).header("X-Argilla-Api-Key", KEY).header("Content-Type", "application/json").body(body).send().await?;
        if !response.status().is_success() {
            bail!("bulk write failed: {} {}", response.status(), response.text().await.unwrap_or_default());
        }
    }
    Ok(bytes)
}

/// Reads every record's fields and every response's values of the database in `data`, as
/// `juror export` must, without decoding them: the floor under any export from this store.
async fn raw_scan(data: &Path) -> anyhow::Result<Duration> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{Connection, Row};
    let options = SqliteConnectOptions::new().filename(data.join("juror.db")).read_only(true);
    let mut connection = sqlx::SqliteConnection::connect_with(&options).await?;
    let started = Instant::now();
    let mut bytes = 0;
    for row in sqlx::query("SELECT id, fields FROM records").fetch_all(&mut connection).await? {
        bytes += row.try_get::<&str, _>(1)?.len();
    }
    for row in sqlx::query("SELECT record_id, user_id, \"values\" FROM responses").fetch_all(&mut connection).await? {
        bytes += row.try_get::<Option<&str>, _>(2)?.map_or(0, str::len);
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(bytes > 0, "the database is empty");
    connection.close().await?;
    Ok(elapsed)
}
