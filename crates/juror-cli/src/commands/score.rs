//! `juror score`: a reward model's scores for (prompt, response) rows of a file, or for a
//! dataset's records, written as JSON lines and/or as ranking suggestions on the records.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use juror_app::untrained;
use juror_train::model_dir::Scorer;
use juror_train::pairs::parse_value;
use serde_json::{json, Map, Value};

use super::train::device;
use super::{cli_caller, find_dataset, open_app};
use crate::cli::ScoreArgs;
use crate::files::{rows, Format};

/// Rows scored at once from a file.
const CHUNK: usize = 256;

fn output(path: &Path) -> anyhow::Result<Box<dyn Write + Send>> {
    Ok(if path.as_os_str() == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(BufWriter::new(File::create(path).with_context(|| format!("failed to create {}", path.display()))?))
    })
}

fn spinner(unit: &str) -> ProgressBar {
    ProgressBar::new_spinner().with_style(ProgressStyle::with_template(&format!("{{spinner}} {{pos}} {unit} · {{per_sec}} · {{elapsed}}")).unwrap_or_else(|_| ProgressStyle::default_spinner()))
}

pub(super) async fn score(args: ScoreArgs) -> anyhow::Result<()> {
    let device = device(args.cpu)?;
    let scorer = Arc::new(Scorer::load(&args.model, &device, args.batch_size)?);
    match (&args.input, &args.target.dataset) {
        (Some(input), _) => {
            let out = output(args.output.as_deref().context("give --output")?)?;
            let (input, scorer) = (input.clone(), scorer.clone());
            let written = tokio::task::spawn_blocking(move || score_file(&scorer, &input, out)).await.context("scoring stopped unexpectedly")??;
            eprintln!("scored {written} rows into {}", args.output.as_deref().unwrap_or(Path::new("-")).display());
            Ok(())
        }
        (None, Some(dataset)) => score_dataset(&args, dataset, scorer).await,
        (None, None) => anyhow::bail!("give --input or --dataset"),
    }
}

/// What one row asks to score: a response, or both sides of a pair.
enum Ask {
    Response(String, String),
    Pair(String, String, String),
}

fn ask(row: &Map<String, Value>, line: u64) -> anyhow::Result<Ask> {
    let text = |key: &str| row.get(key).and_then(Value::as_str).map(str::to_owned);
    if let (Some(prompt), Some(response)) = (text("prompt"), text("response")) {
        return Ok(Ask::Response(prompt, response));
    }
    if row.contains_key("chosen") && row.contains_key("rejected") {
        let pair = parse_value(&Value::Object(row.clone()), &format!("row {line}"))?;
        return Ok(Ask::Pair(pair.prompt, pair.chosen, pair.rejected));
    }
    anyhow::bail!("row {line}: needs `prompt` and `response` (strings), or `chosen` and `rejected`")
}

/// Scores a file's rows into JSON lines: each row as it was, with its scores added.
fn score_file(scorer: &Scorer, input: &Path, mut out: Box<dyn Write + Send>) -> anyhow::Result<usize> {
    let format = Format::from_path(input)?;
    let progress = spinner("rows");
    let mut written = 0;
    let mut chunk: Vec<(Map<String, Value>, Ask)> = Vec::new();
    let mut flush = |chunk: &mut Vec<(Map<String, Value>, Ask)>, out: &mut Box<dyn Write + Send>| -> anyhow::Result<()> {
        let mut items: Vec<(&str, &str)> = Vec::new();
        for (_, ask) in chunk.iter() {
            match ask {
                Ask::Response(prompt, response) => items.push((prompt, response)),
                Ask::Pair(prompt, chosen, rejected) => items.extend([(prompt.as_str(), chosen.as_str()), (prompt.as_str(), rejected.as_str())]),
            }
        }
        let mut scores = scorer.score(&items)?.into_iter();
        for (mut row, ask) in chunk.drain(..) {
            let mut next = || scores.next().map(|score| json!((f64::from(score) * 1e6).round() / 1e6)).unwrap_or(Value::Null);
            match ask {
                Ask::Response(..) => {
                    row.insert("score".into(), next());
                }
                Ask::Pair(..) => {
                    row.insert("chosen_score".into(), next());
                    row.insert("rejected_score".into(), next());
                }
            }
            serde_json::to_writer(&mut *out, &row)?;
            out.write_all(b"\n")?;
            written += 1;
            progress.inc(1);
        }
        Ok(())
    };
    for row in rows(input, format, |_| {})? {
        let row = row?;
        let asked = ask(&row.values, row.line).with_context(|| input.display().to_string())?;
        chunk.push((row.values, asked));
        if chunk.len() == CHUNK {
            flush(&mut chunk, &mut out)?;
        }
    }
    flush(&mut chunk, &mut out)?;
    out.flush()?;
    progress.finish_and_clear();
    anyhow::ensure!(written > 0, "{} has no rows to score", input.display());
    Ok(written)
}

/// Scores a dataset's records: each response field's score as a JSON line, and with
/// `--as-suggestions` the model's ranking written on every record it was not trained on.
async fn score_dataset(args: &ScoreArgs, name: &str, scorer: Arc<Scorer>) -> anyhow::Result<()> {
    let target = &args.target;
    let (app, store) = open_app(&target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, name, target.workspace.as_deref()).await?;
    let mut pages = app.records_to_score(&caller, schema.dataset.id, target.question.as_deref(), target.prompt_field.as_deref()).await?;
    let about = scorer.about();
    let trained: HashSet<String> = if about.dataset_id.as_deref() == Some(&schema.dataset.id.to_string()) { about.trained_records.iter().cloned().collect() } else { HashSet::new() };
    let model_name = args.model.canonicalize().ok().and_then(|path| path.file_name().map(|name| name.to_string_lossy().into_owned())).unwrap_or_else(|| "model".into());
    let mut out = args.output.as_deref().map(output).transpose()?;
    let progress = spinner("records");
    let (mut scored, mut suggested, mut skipped) = (0usize, 0usize, 0usize);
    while let Some(page) = pages.next_page(&app).await? {
        let (page, trained_here) = if args.as_suggestions { untrained(page, &trained) } else { (page, 0) };
        skipped += trained_here;
        let scorer = scorer.clone();
        let (page, scores) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let items: Vec<(&str, &str)> = page.iter().flat_map(|record| record.responses.iter().map(|(_, text)| (record.prompt.as_str(), text.as_str()))).collect();
            let scores = scorer.score(&items)?;
            Ok((page, scores))
        })
        .await
        .context("scoring stopped unexpectedly")??;
        let mut scores = scores.into_iter();
        for record in &page {
            let record_scores: Vec<(String, f32)> = record.responses.iter().map(|(field, _)| (field.clone(), scores.next().unwrap_or_default())).collect();
            if let Some(out) = &mut out {
                for (field, score) in &record_scores {
                    let line = json!({"record_id": record.record_id.to_string(), "external_id": record.external_id, "response": field, "score": score, "trained": trained.contains(&record.record_id.to_string())});
                    serde_json::to_writer(&mut *out, &line)?;
                    out.write_all(b"\n")?;
                }
            }
            if args.as_suggestions && record_scores.len() >= 2 {
                app.suggest_ranking(&caller, &pages, record.record_id, &record_scores, &model_name).await?;
                suggested += 1;
            }
            scored += 1;
            progress.inc(1);
        }
    }
    if let Some(out) = &mut out {
        out.flush()?;
    }
    progress.finish_and_clear();
    store.close().await;
    eprint!("scored the responses of {scored} records of `{name}` (question `{}`)", pages.settings().question);
    if args.as_suggestions {
        eprint!("; wrote {suggested} suggestions as juror-reward-model/{model_name}; left out {skipped} records the model was trained on");
    }
    eprintln!();
    Ok(())
}
