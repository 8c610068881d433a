//! `juror-bench quality`: what quality control costs the labeling loop. The same next+submit load
//! runs three times in one invocation, each on a fresh server: with quality control off; with
//! adaptive overlap on (min 2, max 5: each answer's recount reads the record's votes and its
//! labelers' gold answers); and with adaptive overlap and gold records served at 10% (each
//! hand-out reads the labeler's gold standing, and may serve a gold record). Reported: cycles/s of
//! each as a ratio of the first, server CPU per cycle, and judgments per completed record.

use anyhow::Context;
use serde_json::{json, Value};

use crate::distribution::{cycles, setup};
use crate::{cpu_seconds, start, KEY};

/// The same labeling loop as `juror-bench webhooks`.
pub(crate) use crate::webhooks::Args;

/// What is on in a run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Controls {
    Off,
    Adaptive,
    AdaptiveAndGold,
}

struct Outcome {
    rate: f64,
    cpu_per_cycle_us: f64,
    judgments_per_completed: f64,
}

async fn put(client: &reqwest::Client, url: &str, path: &str, body: Value) -> anyhow::Result<()> {
    let response = client.put(format!("{url}{path}")).header("X-Argilla-Api-Key", KEY).json(&body).send().await?;
    anyhow::ensure!(response.status().is_success(), "{path} answered {}: {}", response.status(), response.text().await.unwrap_or_default());
    Ok(())
}

async fn run_once(args: &Args, controls: Controls) -> anyhow::Result<Outcome> {
    let client = reqwest::Client::new();
    let (server, _) = start(&args.juror).await?;
    let (dataset, keys) = setup(&client, &server.url, args.records, args.labelers, 2).await?;
    let adaptive = json!({"question": "preference", "min": 2, "max": 5});
    match controls {
        Controls::Off => {}
        Controls::Adaptive => put(&client, &server.url, &format!("/api/v1/datasets/{dataset}/quality"), json!({"adaptive": adaptive})).await?,
        Controls::AdaptiveAndGold => {
            // The last 200 records are gold, with the verdict the bench's labelers give.
            let listed: Value = client.get(format!("{}/api/v1/datasets/{dataset}/records?offset={}&limit=200", server.url, args.records - 200)).header("X-Argilla-Api-Key", KEY).send().await?.json().await?;
            let verdict = json!({"question": "preference", "chosen": "response-1", "rejected": "response-2"});
            let items: Vec<Value> = listed["items"].as_array().context("no records listed")?.iter().map(|record| json!({"record_id": record["id"], "verdict": verdict})).collect();
            put(&client, &server.url, &format!("/api/v1/datasets/{dataset}/gold"), json!({"items": items})).await?;
            put(&client, &server.url, &format!("/api/v1/datasets/{dataset}/quality"), json!({"adaptive": adaptive, "gold": {"rate": 0.1}})).await?;
        }
    }
    let cpu_before = cpu_seconds(server.child_id())?;
    let (done, elapsed) = cycles(std::slice::from_ref(&server.url), &dataset, keys, args.seconds).await?;
    let cpu = cpu_seconds(server.child_id())? - cpu_before;
    let progress: Value = client.get(format!("{}/api/v1/datasets/{dataset}/progress", server.url)).header("X-Argilla-Api-Key", KEY).send().await?.json().await?;
    let completed = progress["completed"].as_u64().unwrap_or(0);
    Ok(Outcome { rate: done as f64 / elapsed.as_secs_f64(), cpu_per_cycle_us: cpu * 1e6 / done.max(1) as f64, judgments_per_completed: done as f64 / completed.max(1) as f64 })
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let off = run_once(&args, Controls::Off).await?;
    let adaptive = run_once(&args, Controls::Adaptive).await?;
    let gold = run_once(&args, Controls::AdaptiveAndGold).await?;
    println!("quality: {} labelers, {} records, min_submitted=2, {} s per run", args.labelers, args.records, args.seconds);
    for (name, outcome) in [("off", &off), ("adaptive overlap", &adaptive), ("adaptive + gold at 10%", &gold)] {
        println!(
            "  {name:<24} {:.0} cycles/s ({:.2}), {:.0} µs server CPU per cycle, {:.2} cycles per completed record",
            outcome.rate,
            outcome.rate / off.rate,
            outcome.cpu_per_cycle_us,
            outcome.judgments_per_completed
        );
    }
    Ok(())
}
