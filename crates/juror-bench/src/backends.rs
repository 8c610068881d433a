//! `juror-bench backends`: one load on each way of running Juror, in one run, so the figures
//! compare: SQLite (one server), PostgreSQL with one replica, PostgreSQL with two replicas.
//!
//! For each: a bulk import of `--records` records (two clients, batches of 1,000; records/s), then
//! `--labelers` labelers doing next+submit cycles for `--seconds` on that dataset with
//! `min_submitted=2`, labeler `i` on replica `i % replicas` (cycles/s, and the CPU all replicas
//! used per cycle). PostgreSQL runs on the same machine; its own CPU is reported beside.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;

use crate::distribution::{add_labelers, cycles};
use crate::{bodies, cpu_seconds, create_dataset, import, start_with, Server, KEY};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The juror binary to measure.
    #[arg(long, default_value = "target/release/juror")]
    juror: PathBuf,
    /// A PostgreSQL server's maintenance database, where each run gets a fresh database
    /// (e.g. the URL `scripts/postgres.sh start DIR` prints).
    #[arg(long)]
    postgres: String,
    /// Records imported and labeled.
    #[arg(long, default_value_t = 20_000)]
    records: usize,
    /// Concurrent labelers.
    #[arg(long, default_value_t = 64)]
    labelers: usize,
    /// How long the labelers work.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Times each setup is measured, alternating.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
}

/// A fresh database on the PostgreSQL server; its URL.
async fn fresh_database(admin: &str, run: usize) -> anyhow::Result<String> {
    let name = format!("juror_bench_{}_{run}", std::process::id());
    juror_store_postgres::create_database(admin, &name).await.context("failed to create a database on the PostgreSQL server")
}

/// Whether a process is PostgreSQL's: its server (`.../bin/postgres`) or one of its backends
/// (`postgres: user database ...`), not a juror whose arguments name a postgres:// URL.
fn is_postgres(pid: u32) -> bool {
    let Ok(command) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let program = String::from_utf8_lossy(command.split(|byte| *byte == 0).next().unwrap_or_default()).into_owned();
    program.ends_with("/postgres") || program.starts_with("postgres:")
}

/// The CPU seconds PostgreSQL's processes have used so far (those alive now).
fn postgres_cpu() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0.0 };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()))
        .filter(|pid| is_postgres(*pid))
        .map(|pid| cpu_seconds(pid).unwrap_or(0.0))
        .sum()
}

async fn measure(args: &Args, label: &str, servers: &[Server]) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = &servers[0].url;
    let dataset = create_dataset(&client, url).await?;
    client
        .patch(format!("{url}/api/v1/datasets/{dataset}"))
        .header("X-Argilla-Api-Key", KEY)
        .json(&json!({"distribution": {"strategy": "overlap", "min_submitted": 2}}))
        .send()
        .await?
        .error_for_status()?;
    let (bodies, _) = bodies(args.records, 1000);
    let imported = import(url, &dataset, bodies, 2, true).await?;
    let keys = add_labelers(&client, url, &dataset, args.labelers).await?;
    let urls: Vec<String> = servers.iter().map(|server| server.url.clone()).collect();
    let juror_cpu = || servers.iter().map(|server| cpu_seconds(server.child_id()).unwrap_or(0.0)).sum::<f64>();
    let (juror_before, postgres_before) = (juror_cpu(), postgres_cpu());
    let (done, elapsed) = cycles(&urls, &dataset, keys, args.seconds).await?;
    let (juror_used, postgres_used) = (juror_cpu() - juror_before, postgres_cpu() - postgres_before);
    println!(
        "{label}: import {:.0} records/s; cycles {:.0}/s ({done} in {:.1} s); CPU per cycle: juror {:.0} µs, PostgreSQL {:.0} µs",
        args.records as f64 / imported.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        juror_used * 1e6 / done.max(1) as f64,
        postgres_used * 1e6 / done.max(1) as f64,
    );
    Ok(())
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let mut run = 0;
    for _ in 0..args.rounds {
        {
            let (server, _) = start_with(&args.juror, &[]).await?;
            measure(&args, "SQLite, one server", &[server]).await?;
        }
        for replicas in [1, 2] {
            run += 1;
            let database = fresh_database(&args.postgres, run).await?;
            let mut servers = Vec::new();
            for _ in 0..replicas {
                servers.push(start_with(&args.juror, &["--database-url", &database]).await?.0);
            }
            measure(&args, &format!("PostgreSQL, {replicas} replica{}", if replicas == 1 { "" } else { "s" }), &servers).await?;
        }
    }
    Ok(())
}
