//! `juror generate`: candidate responses for prompts from an OpenAI-compatible server, written
//! as records into a dataset (created when missing) or appended to a JSONL file.
//!
//! Resumable: each prompt's record carries a stable external id (the prompt's id, or a hash of
//! its text), and a run skips the prompts whose records already exist, so an interrupted run
//! started again finishes the rest and duplicates nothing. Records are written as they finish.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use juror_app::{App, Caller, RecordInclude};
use juror_core::record::{DatasetSchema, RecordWrite};
use juror_generate::{generate, Api, Client, Generated, PairChoice, Ranker, RetryPolicy, RewardPick, Sampling, Settings, Strategy, Target};
use juror_train::model_dir::Scorer;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, Semaphore};

use super::admin::create_dataset;
use super::{cli_caller, find_dataset, open_app};
use crate::cli::{ApiArg, GenerateArgs, GenerationStrategyArg};
use crate::files::{id_text, rows, Format};

/// A prompt to generate for, with the id its record will carry.
#[derive(Debug, Clone)]
struct Prompt {
    id: String,
    text: String,
}

/// Where the records go (one per run, so the variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum Sink {
    Dataset { app: App, caller: Caller, schema: DatasetSchema },
    File { file: File, path: std::path::PathBuf },
}

/// What a run did, for the summary.
#[derive(Debug, Default)]
struct Tally {
    written: u64,
    failed: Vec<(String, String)>,
    kept: u64,
    generated: u64,
    regenerations: u64,
    near_duplicates: u64,
    completion_tokens: u64,
}

pub(super) async fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let settings = settings(&args)?;
    let client = Arc::new(Client::new(args.api_key.clone(), Duration::from_secs(args.timeout), RetryPolicy { max_retries: args.retries, ..RetryPolicy::default() })?);
    for target in &settings.targets {
        client.check_model(target).await.context("the model server is not usable")?;
    }
    // The database is opened only when a dataset is read or written.
    let opened = match args.dataset.is_some() || args.from_dataset.is_some() {
        true => {
            let (app, store) = open_app(&args.data).await?;
            let caller = cli_caller(&app).await?;
            Some((app, caller, store))
        }
        false => None,
    };
    let access = opened.as_ref().map(|(app, caller, _)| (app, caller));
    let mut prompts = read_prompts(&args, access).await?;
    if let Some(limit) = args.limit {
        prompts.truncate(limit);
    }
    let responses = settings.strategy.responses(settings.targets.len());
    let mut sink = open_sink(&args, access, responses).await?;
    let done = sink.done(&prompts).await?;
    let skipped = prompts.len();
    prompts.retain(|prompt| !done.contains(&prompt.id));
    let skipped = skipped - prompts.len();

    let progress = ProgressBar::new(prompts.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} prompts {per_sec} ETA {eta} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let settings = Arc::new(settings);
    let limit = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let (sender, mut receiver) = mpsc::channel::<(Prompt, anyhow::Result<Generated>)>(args.concurrency.max(1) * 2);
    let producer = {
        let (client, settings) = (client.clone(), settings.clone());
        tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for prompt in prompts {
                let Ok(permit) = limit.clone().acquire_owned().await else { break };
                let (client, settings, sender) = (client.clone(), settings.clone(), sender.clone());
                tasks.spawn(async move {
                    let result = generate(&client, &settings, &prompt.text).await.map_err(anyhow::Error::from);
                    drop(permit);
                    let _ = sender.send((prompt, result)).await;
                });
            }
            while tasks.join_next().await.is_some() {}
        })
    };
    let mut tally = Tally::default();
    while let Some((prompt, result)) = receiver.recv().await {
        match result {
            Ok(generated) => {
                sink.write(&record(&prompt, &generated, &settings)).await.with_context(|| format!("failed to store the record of prompt `{}`", prompt.id))?;
                tally.count(&generated);
            }
            Err(error) => {
                progress.println(format!("prompt `{}` failed: {error:#}", prompt.id));
                tally.failed.push((prompt.id, format!("{error:#}")));
            }
        }
        progress.inc(1);
        progress.set_message(format!("{} retries", client.retries()));
    }
    producer.await.context("the generation tasks stopped unexpectedly")?;
    sink.finish()?;
    progress.finish_and_clear();
    println!("{}", tally.summary(started.elapsed(), skipped, client.retries(), &sink.describe()));
    drop(sink);
    if let Some((_, _, store)) = opened {
        store.close().await;
    }
    if let Some((id, error)) = tally.failed.first() {
        bail!("{} prompts failed (the first, `{id}`: {error}); run the same command again to generate them", tally.failed.len());
    }
    Ok(())
}

impl Tally {
    fn count(&mut self, generated: &Generated) {
        self.written += 1;
        self.kept += generated.candidates.len() as u64;
        self.generated += generated.generated as u64;
        self.regenerations += u64::from(generated.regenerations);
        self.near_duplicates += u64::from(generated.near_duplicate);
        // Token counts are per request; a request with `n` choices is counted once.
        self.completion_tokens += generated
            .candidates
            .iter()
            .map(|candidate| candidate.completion.completion_tokens.unwrap_or(0) / u64::from(candidate.completion.choices_in_request.max(1)))
            .sum::<u64>();
    }

    fn summary(&self, elapsed: Duration, skipped: usize, retries: u64, target: &str) -> String {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        format!(
            "generated {} records into {target} in {seconds:.1} s ({:.2} prompts/s): {} candidates kept of {} generated ({} regenerations), {} flagged as near-duplicates, {} retries, {} failed; {} completion tokens ({:.1} tokens/s); {skipped} prompts already done were skipped",
            self.written,
            self.written as f64 / seconds,
            self.kept,
            self.generated,
            self.regenerations,
            self.near_duplicates,
            retries,
            self.failed.len(),
            self.completion_tokens,
            self.completion_tokens as f64 / seconds,
        )
    }
}

/// The run's settings from the flags, checked before anything is sent.
fn settings(args: &GenerateArgs) -> anyhow::Result<Settings> {
    let targets: Vec<Target> = match (args.endpoints.len(), args.models.len()) {
        (1, _) => args.models.iter().map(|model| Target { endpoint: args.endpoints[0].clone(), model: model.clone() }).collect(),
        (_, 1) => args.endpoints.iter().map(|endpoint| Target { endpoint: endpoint.clone(), model: args.models[0].clone() }).collect(),
        (endpoints, models) if endpoints == models => {
            args.endpoints.iter().zip(&args.models).map(|(endpoint, model)| Target { endpoint: endpoint.clone(), model: model.clone() }).collect()
        }
        (endpoints, models) => bail!("{endpoints} endpoints and {models} models: give one endpoint, one model, or as many of each"),
    };
    let strategy = match args.strategy {
        GenerationStrategyArg::Samples => Strategy::Samples { count: args.candidates },
        GenerationStrategyArg::Temperatures => Strategy::Temperatures(args.temperatures.clone()),
        GenerationStrategyArg::Models => Strategy::Models,
        GenerationStrategyArg::BestOfK => Strategy::BestOfK { k: args.k },
    };
    juror_generate::strategy::check(&strategy, &targets).map_err(anyhow::Error::msg)?;
    if !(0.0..=1.0).contains(&args.similarity_threshold) {
        bail!("--similarity-threshold must be between 0 and 1");
    }
    Ok(Settings {
        strategy,
        targets,
        api: match args.api {
            ApiArg::Chat => Api::Chat,
            ApiArg::Completions => Api::Completions,
        },
        system: args.system.clone(),
        sampling: Sampling { temperature: args.temperature, top_p: args.top_p, top_k: args.top_k, max_tokens: Some(args.max_tokens), stop: args.stop.clone(), seed: args.seed },
        per_request: args.n.max(1),
        similarity_threshold: args.similarity_threshold,
        max_regenerations: args.max_regenerations,
        reward: reward_pick(args)?,
    })
}

/// A reward model's scores as best-of-k's ranker.
struct ModelRanker(Scorer);

impl Ranker for ModelRanker {
    fn scores(&self, prompt: &str, responses: &[&str]) -> Result<Vec<f32>, String> {
        let items: Vec<(&str, &str)> = responses.iter().map(|response| (prompt, *response)).collect();
        self.0.score(&items).map_err(|error| error.to_string())
    }
}

/// The reward model `--reward-model` names, loaded once for the run.
fn reward_pick(args: &GenerateArgs) -> anyhow::Result<Option<RewardPick>> {
    let Some(dir) = &args.reward_model else { return Ok(None) };
    if args.strategy != GenerationStrategyArg::BestOfK {
        bail!("--reward-model picks best-of-k's pair: add --strategy best-of-k");
    }
    let scorer = Scorer::load(dir, &super::train::device(false)?, 16)?;
    let choice = if args.closest_pair { PairChoice::Closest } else { PairChoice::Extremes };
    Ok(Some(RewardPick { ranker: Arc::new(ModelRanker(scorer)), choice }))
}

/// The prompts, from a file or from a dataset's prompt field, each with its record's id.
async fn read_prompts(args: &GenerateArgs, access: Option<(&App, &Caller)>) -> anyhow::Result<Vec<Prompt>> {
    let mut prompts = Vec::new();
    let mut seen = HashSet::new();
    if let Some(path) = &args.prompts {
        for row in rows(path, Format::from_path(path)?, |_| {})? {
            let row = row?;
            let text = match row.values.get(&args.prompt_column) {
                Some(Value::String(text)) if !text.trim().is_empty() => text.clone(),
                Some(Value::String(_)) | Some(Value::Null) | None => bail!("line {}: no `{}` (the prompt column; see --prompt-column)", row.line, args.prompt_column),
                Some(other) => bail!("line {}: `{}` must be text, got {other}", row.line, args.prompt_column),
            };
            let id = match &args.id_column {
                Some(column) => row.values.get(column).and_then(id_text).with_context(|| format!("line {}: no `{column}` (see --id-column)", row.line))?,
                None => row.values.get("external_id").or_else(|| row.values.get("id")).and_then(id_text).unwrap_or_else(|| prompt_id(&text)),
            };
            if seen.insert(id.clone()) {
                prompts.push(Prompt { id, text });
            }
        }
    } else if let (Some(name), Some((app, caller))) = (&args.from_dataset, access) {
        let schema = find_dataset(app, caller, name, None).await?;
        if args.dataset.as_deref() == Some(name.as_str()) {
            bail!("--from-dataset and --dataset name the same dataset; write to another one");
        }
        let mut pages = app.record_pages(caller, schema.dataset.id, RecordInclude::default()).await?;
        while let Some(page) = pages.next(app).await? {
            for (record, _) in page {
                let Some(text) = record.fields.get(&args.prompt_field).and_then(Value::as_str).filter(|text| !text.trim().is_empty()) else { continue };
                let id = record.external_id.clone().unwrap_or_else(|| record.id.to_string());
                if seen.insert(id.clone()) {
                    prompts.push(Prompt { id, text: text.to_owned() });
                }
            }
        }
    }
    Ok(prompts)
}

/// A stable id for a prompt without one: the start of its text's SHA-256.
fn prompt_id(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("prompt-{}", digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect::<String>())
}

/// The record of a prompt: the prompt, `response-1..N`, and the provenance in the metadata.
fn record(prompt: &Prompt, generated: &Generated, settings: &Settings) -> RecordWrite {
    let mut fields = Map::new();
    fields.insert("prompt".into(), json!(prompt.text));
    let mut provenance = Map::new();
    for (index, candidate) in generated.candidates.iter().enumerate() {
        let name = format!("response-{}", index + 1);
        fields.insert(name.clone(), json!(candidate.text()));
        provenance.insert(name, candidate.provenance(settings.api));
    }
    let metadata = json!({
        "generation": {"strategy": settings.strategy.name(), "responses": provenance},
        "similarity": (generated.similarity * 1000.0).round() / 1000.0,
        "near_duplicate": generated.near_duplicate,
        "regenerations": generated.regenerations,
    });
    RecordWrite { external_id: Some(prompt.id.clone()), fields: Some(fields), metadata: metadata.as_object().cloned(), ..RecordWrite::default() }
}

/// The settings of a dataset made for generated candidates: the guide's fields and ranking.
fn dataset_settings(responses: usize) -> Value {
    let names: Vec<String> = (1..=responses).map(|index| format!("response-{index}")).collect();
    let mut fields = vec![json!({"name": "prompt", "title": "Prompt", "required": true, "settings": {"type": "text", "use_markdown": true}})];
    fields.extend(names.iter().enumerate().map(|(index, name)| json!({"name": name, "title": format!("Response {}", index + 1), "required": true, "settings": {"type": "text", "use_markdown": true}})));
    let options: Vec<Value> = names.iter().enumerate().map(|(index, name)| json!({"value": name, "text": format!("Response {}", index + 1)})).collect();
    json!({
        "guidelines": "Read the prompt, then rank the responses from best (1) to worst by how helpful, correct and harmless they are. Give equal ranks only when you truly cannot choose.",
        "fields": fields,
        "questions": [{"name": "preference", "title": "Rank the responses", "required": true, "settings": {"type": "ranking", "options": options}}],
    })
}

async fn open_sink(args: &GenerateArgs, access: Option<(&App, &Caller)>, responses: usize) -> anyhow::Result<Sink> {
    if let Some(path) = &args.output {
        return Ok(Sink::File { file: open_output(path)?, path: path.clone() });
    }
    let name = args.dataset.clone().context("give --dataset or --output")?;
    let (app, caller) = access.context("the database is not open")?;
    let schema = match find_dataset(app, caller, &name, args.workspace.as_deref()).await {
        Ok(schema) => schema,
        Err(_) => {
            let workspace = match &args.workspace {
                Some(workspace) => app.find_workspace_by_name(caller, workspace).await?.with_context(|| format!("no workspace named `{workspace}`"))?,
                None => app.my_workspaces(caller).await?.into_iter().next().context("there is no workspace yet: add one with `juror workspace add NAME`")?,
            };
            let dataset = create_dataset(app, caller, name.clone(), workspace.id, &dataset_settings(responses)).await?;
            eprintln!("created dataset `{name}` in workspace `{}`", workspace.name);
            app.get_schema(caller, dataset.id).await?
        }
    };
    for needed in std::iter::once("prompt".to_owned()).chain((1..=responses).map(|index| format!("response-{index}"))) {
        if !schema.fields.iter().any(|field| field.name == needed) {
            bail!("dataset `{name}` has no field `{needed}`: generated records need `prompt` and `response-1` to `response-{responses}`");
        }
    }
    Ok(Sink::Dataset { app: app.clone(), caller: caller.clone(), schema })
}

/// Opens the output for appending, dropping a last line that a crash left half written.
fn open_output(path: &Path) -> anyhow::Result<File> {
    let file = OpenOptions::new().create(true).read(true).append(true).open(path).with_context(|| format!("failed to open {}", path.display()))?;
    file.set_len(complete_lines_length(&file)?)?;
    Ok(file)
}

/// The length of `file` up to and including its last newline, read from the end backwards: the
/// part a run that was cut off left whole.
fn complete_lines_length(mut file: &File) -> std::io::Result<u64> {
    let mut end = file.metadata()?.len();
    let mut chunk = vec![0; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(newline) = part.iter().rposition(|&byte| byte == b'\n') {
            return Ok(start + newline as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

impl Sink {
    /// The ids of the prompts whose records are already written.
    async fn done(&mut self, prompts: &[Prompt]) -> anyhow::Result<HashSet<String>> {
        match self {
            Self::Dataset { app, caller, schema } => {
                let ids: Vec<String> = prompts.iter().map(|prompt| prompt.id.clone()).collect();
                Ok(app.existing_external_ids(caller, schema.dataset.id, &ids).await?)
            }
            Self::File { path, .. } => {
                let mut done = HashSet::new();
                for line in BufReader::new(File::open(&*path)?).lines() {
                    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(&line?) {
                        if let Some(Value::String(id)) = object.get("external_id") {
                            done.insert(id.clone());
                        }
                    }
                }
                Ok(done)
            }
        }
    }

    async fn write(&mut self, write: &RecordWrite) -> anyhow::Result<()> {
        match self {
            Self::Dataset { app, caller, schema } => {
                app.upsert_records(caller, schema.dataset.id, vec![write.clone()]).await?;
            }
            Self::File { file, .. } => {
                // The shape `juror import` reads: fields as columns, the provenance as `metadata`.
                let mut line = write.fields.clone().unwrap_or_default();
                line.insert("external_id".into(), json!(write.external_id));
                line.insert("metadata".into(), write.metadata.clone().map_or(Value::Null, Value::Object));
                let mut text = serde_json::to_string(&line)?;
                text.push('\n');
                file.write_all(text.as_bytes())?;
                file.flush()?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if let Self::File { file, .. } = self {
            file.sync_all()?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        match self {
            Self::Dataset { schema, .. } => format!("dataset `{}`", schema.dataset.name),
            Self::File { path, .. } => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_ids_are_stable_and_distinct() {
        assert_eq!(prompt_id("What is DPO?"), prompt_id("What is DPO?"));
        assert_ne!(prompt_id("What is DPO?"), prompt_id("What is RLHF?"));
        assert!(prompt_id("x").starts_with("prompt-") && prompt_id("x").len() == 23);
    }

    #[test]
    fn a_half_written_last_line_is_dropped_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "{\"external_id\": \"a\"}\n{\"external_id\": \"b\", \"pro").unwrap();
        let mut file = open_output(&path).unwrap();
        file.write_all(b"{\"external_id\": \"c\"}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"external_id\": \"a\"}\n{\"external_id\": \"c\"}\n");
        // The cut-off line is longer than one chunk of the backward search.
        let long = format!("{{\"external_id\": \"d\", \"prompt\": \"{}", "x".repeat(200_000));
        std::fs::write(&path, format!("{{\"external_id\": \"a\"}}\n{long}")).unwrap();
        drop(open_output(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"external_id\": \"a\"}\n");
        std::fs::write(&path, long).unwrap();
        drop(open_output(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "no whole line at all");
    }

    #[test]
    fn the_created_dataset_ranks_every_response() {
        let settings = dataset_settings(3);
        assert_eq!(settings["fields"].as_array().unwrap().len(), 4);
        assert_eq!(settings["questions"][0]["settings"]["options"][2]["value"], "response-3");
    }
}
