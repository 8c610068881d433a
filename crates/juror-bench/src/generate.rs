//! `juror-bench generate`: `juror generate` against a running OpenAI-compatible server (a local
//! llama-server in BENCHMARKS.md) at several concurrencies, each compared in the same run with a
//! bare client that sends the same requests and does nothing else. Sampled answers differ in
//! length from run to run, so the ratio is taken in generated tokens per second: it is Juror's
//! overhead. The server's own decode speed (its `timings.predicted_per_second`) is reported too.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The juror binary to measure.
    #[arg(long, default_value = "target/release/juror")]
    juror: PathBuf,
    /// Base URL of the model server.
    #[arg(long)]
    endpoint: String,
    /// Model name on that server.
    #[arg(long)]
    model: String,
    /// Prompts per measurement (two candidates each).
    #[arg(long, default_value_t = 16)]
    prompts: usize,
    /// Tokens per candidate.
    #[arg(long, default_value_t = 64)]
    max_tokens: u32,
    /// Concurrencies to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,8")]
    concurrency: Vec<usize>,
}

fn prompts(count: usize, round: usize) -> Vec<String> {
    (0..count).map(|index| format!("In two sentences, describe item number {index} of list {round}.")).collect()
}

/// The bare client: the same two requests per prompt (seeds 1 and 2), `concurrency` prompts at
/// a time. Returns the wall time, completion tokens and the server's mean decode speed.
async fn bare(args: &Args, prompts: Vec<String>, concurrency: usize) -> anyhow::Result<(Duration, u64, f64)> {
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", args.endpoint.trim_end_matches('/'));
    let queue = Arc::new(std::sync::Mutex::new(prompts));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, queue, model, max_tokens) = (client.clone(), url.clone(), queue.clone(), args.model.clone(), args.max_tokens);
        tasks.push(tokio::spawn(async move {
            let (mut tokens, mut speeds) = (0u64, Vec::new());
            loop {
                let Some(prompt) = queue.lock().map_err(|_| anyhow::anyhow!("queue poisoned"))?.pop() else { break };
                for seed in [1, 2] {
                    let body = json!({"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0.9, "seed": seed});
                    let answer: Value = client.post(&url).json(&body).send().await?.error_for_status()?.json().await?;
                    tokens += answer["usage"]["completion_tokens"].as_u64().unwrap_or(0);
                    speeds.extend(answer["timings"]["predicted_per_second"].as_f64());
                }
            }
            anyhow::Ok((tokens, speeds))
        }));
    }
    let (mut tokens, mut speeds) = (0, Vec::new());
    for task in tasks {
        let (task_tokens, task_speeds) = task.await??;
        tokens += task_tokens;
        speeds.extend(task_speeds);
    }
    let speed = if speeds.is_empty() { 0.0 } else { speeds.iter().sum::<f64>() / speeds.len() as f64 };
    Ok((started.elapsed(), tokens, speed))
}

/// `juror generate` as a user runs it, into a JSONL file.
fn juror(args: &Args, prompts: Vec<String>, concurrency: usize) -> anyhow::Result<(Duration, u64)> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    let lines: String = prompts.iter().enumerate().map(|(index, prompt)| format!("{}\n", json!({"id": index, "prompt": prompt}))).collect();
    std::fs::write(&input, lines)?;
    let output = dir.path().join("out.jsonl");
    let started = Instant::now();
    let status = Command::new(&args.juror)
        .args(["generate", "--endpoint", &args.endpoint, "--model", &args.model, "--temperature", "0.9", "--seed", "1"])
        .args(["--max-tokens", &args.max_tokens.to_string(), "--concurrency", &concurrency.to_string(), "--max-regenerations", "0"])
        .arg("--prompts")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .stdout(std::process::Stdio::null())
        .status()
        .context("failed to run juror generate")?;
    let elapsed = started.elapsed();
    if !status.success() {
        bail!("juror generate failed: {status}");
    }
    let mut tokens = 0;
    for line in std::fs::read_to_string(&output)?.lines() {
        let record: Value = serde_json::from_str(line)?;
        for response in record["metadata"]["generation"]["responses"].as_object().into_iter().flat_map(|object| object.values()) {
            tokens += response["completion_tokens"].as_u64().unwrap_or(0);
        }
    }
    Ok((elapsed, tokens))
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    for (round, &concurrency) in args.concurrency.iter().enumerate() {
        // Bare, Juror, Juror, bare: each sees a warm and a cold-ish server once.
        let mut bare_runs = Vec::new();
        let mut juror_runs = Vec::new();
        let mut speeds = Vec::new();
        for (step, juror_first) in [(0, false), (1, true), (2, true), (3, false)] {
            let prompts = prompts(args.prompts, round * 4 + step);
            if juror_first {
                let juror_args = (&args, prompts, concurrency);
                juror_runs.push(tokio::task::block_in_place(|| juror(juror_args.0, juror_args.1, juror_args.2))?);
            } else {
                let (elapsed, tokens, speed) = bare(&args, prompts, concurrency).await?;
                bare_runs.push((elapsed, tokens));
                speeds.push(speed);
            }
        }
        let rate = |runs: &[(Duration, u64)]| {
            let seconds: f64 = runs.iter().map(|run| run.0.as_secs_f64()).sum();
            let tokens: u64 = runs.iter().map(|run| run.1).sum();
            (args.prompts as f64 * runs.len() as f64 / seconds, tokens as f64 / seconds)
        };
        let ((bare_prompts, bare_tokens), (juror_prompts, juror_tokens)) = (rate(&bare_runs), rate(&juror_runs));
        println!(
            "concurrency {concurrency}: juror generate {juror_prompts:.2} prompts/s ({juror_tokens:.0} tokens/s); bare client {bare_prompts:.2} prompts/s ({bare_tokens:.0} tokens/s); juror/bare in tokens/s = {:.2}; server decode {:.0} tokens/s per request",
            juror_tokens / bare_tokens,
            speeds.iter().sum::<f64>() / speeds.len().max(1) as f64
        );
    }
    Ok(())
}
