//! `juror-bench render`: the annotation page of a record with three 2,000-word markdown fields
//! (a prompt and two responses), rendered by the server for a logged-in labeler.
//!
//! One client fetches `GET /records/{id}` (session cookie) `--samples` times over `--records`
//! records and reports p50/p99; in the same run it fetches the same records as JSON through
//! `GET /api/v1/records/{id}`, the baseline that shares everything but the HTML rendering.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::distribution::percentile;
use crate::{start, Words, KEY};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The juror binary to measure.
    #[arg(long, default_value = "target/release/juror")]
    juror: PathBuf,
    /// Records to render, round robin.
    #[arg(long, default_value_t = 50)]
    records: usize,
    /// Words in each of the three fields.
    #[arg(long, default_value_t = 2000)]
    words: u64,
    /// Page loads measured.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
}

/// Markdown of `words` words: paragraphs, some bold, a list and a code block.
fn markdown(words: &mut Words, count: u64) -> String {
    let mut text = String::new();
    let mut written = 0;
    let mut paragraph = 0;
    while written < count {
        let size = 80.min(count - written);
        let body = words.text(size, size);
        match paragraph % 5 {
            1 => text += &format!("- {}\n- **{}**\n\n", &body[..body.len() / 2], &body[body.len() / 2..]),
            3 => text += &format!("```\n{body}\n```\n\n"),
            _ => text += &format!("{body} **{}**.\n\n", words.text(2, 2)),
        }
        written += size + if paragraph % 5 == 1 || paragraph % 5 == 3 { 0 } else { 2 };
        paragraph += 1;
    }
    text
}

async fn setup(client: &reqwest::Client, url: &str, records: usize, count: u64) -> anyhow::Result<Vec<String>> {
    let post = |path: String, body: Value| client.post(format!("{url}{path}")).header("X-Argilla-Api-Key", KEY).json(&body).send();
    let workspaces: Value = client.get(format!("{url}/api/v1/me/workspaces")).header("X-Argilla-Api-Key", KEY).send().await?.json().await?;
    let workspace = workspaces["items"][0]["id"].as_str().context("no workspace")?.to_owned();
    let dataset: Value = post("/api/v1/datasets".into(), json!({"name": "render", "workspace_id": workspace, "guidelines": "Rank the **more helpful** response first."})).await?.json().await?;
    let id = dataset["id"].as_str().context("dataset not created")?.to_owned();
    for name in ["prompt", "response-1", "response-2"] {
        post(format!("/api/v1/datasets/{id}/fields"), json!({"name": name, "title": name, "required": true, "settings": {"type": "text", "use_markdown": true}})).await?.error_for_status()?;
    }
    let ranking = json!({"type": "ranking", "options": [{"value": "response-1", "text": "1"}, {"value": "response-2", "text": "2"}]});
    post(format!("/api/v1/datasets/{id}/questions"), json!({"name": "preference", "title": "Rank", "required": true, "settings": ranking})).await?.error_for_status()?;
    client.put(format!("{url}/api/v1/datasets/{id}/publish")).header("X-Argilla-Api-Key", KEY).send().await?.error_for_status()?;
    let mut words = Words(0x2545_F491_4F6C_DD1D);
    let items: Vec<Value> = (0..records)
        .map(|_| json!({"fields": {"prompt": markdown(&mut words, count), "response-1": markdown(&mut words, count), "response-2": markdown(&mut words, count)}}))
        .collect();
    let created: Value = post(format!("/api/v1/datasets/{id}/records/bulk"), json!({"items": items})).await?.error_for_status()?.json().await?;
    created["items"].as_array().context("no records")?.iter().map(|item| item["id"].as_str().map(str::to_owned).context("no id")).collect()
}

/// Logs in as the default owner; returns the session cookie.
async fn login(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let form = client.get(format!("{url}/login")).send().await?;
    let login_cookie = form.headers().get("set-cookie").and_then(|value| value.to_str().ok()).and_then(|value| value.split(';').next()).context("no login cookie")?.to_owned();
    let html = form.text().await?;
    let token = html.split(r#"name="csrf" value=""#).nth(1).and_then(|rest| rest.split('"').next()).context("no form token")?;
    let body = format!("username=argilla&password=12345678&csrf={token}&next=/");
    let answer = client.post(format!("{url}/login")).header("cookie", login_cookie).header("content-type", "application/x-www-form-urlencoded").body(body).send().await?;
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("juror_session="))
        .and_then(|value| value.split(';').next())
        .map(str::to_owned)
        .context("login failed")
}

async fn measure(client: &reqwest::Client, requests: impl Iterator<Item = reqwest::RequestBuilder>) -> anyhow::Result<(Vec<Duration>, usize)> {
    let mut latencies = Vec::new();
    let mut bytes = 0;
    for request in requests {
        let started = Instant::now();
        let response = client.execute(request.build()?).await?;
        if !response.status().is_success() {
            bail!("{} answered {}", response.url(), response.status());
        }
        bytes = response.bytes().await?.len();
        latencies.push(started.elapsed());
    }
    latencies.sort();
    Ok((latencies, bytes))
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let (server, _) = start(&args.juror).await?;
    let url = &server.url;
    let records = setup(&client, url, args.records, args.words).await?;
    let session = login(&client, url).await?;
    let pages = (0..args.samples).map(|index| client.get(format!("{url}/records/{}", records[index % records.len()])).header("cookie", &session));
    let json = (0..args.samples).map(|index| client.get(format!("{url}/api/v1/records/{}", records[index % records.len()])).header("X-Argilla-Api-Key", KEY));
    // Warm both paths (caches, connections) before measuring.
    measure(&client, pages.clone().take(50)).await?;
    let (page_latencies, page_bytes) = measure(&client, pages).await?;
    let (json_latencies, json_bytes) = measure(&client, json).await?;
    println!(
        "annotation page, 3 fields x {} words of markdown ({} KB of HTML), {} loads: p50 {:.2} ms, p99 {:.2} ms",
        args.words,
        page_bytes / 1024,
        args.samples,
        percentile(&page_latencies, 0.5),
        percentile(&page_latencies, 0.99)
    );
    println!(
        "same records as API JSON ({} KB): p50 {:.2} ms, p99 {:.2} ms; rendering costs {:.1}x the JSON read at p50",
        json_bytes / 1024,
        percentile(&json_latencies, 0.5),
        percentile(&json_latencies, 0.99),
        percentile(&page_latencies, 0.5) / percentile(&json_latencies, 0.5)
    );
    Ok(())
}
