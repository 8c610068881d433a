//! `juror train`: a reward model from preference pairs (a dataset's or a TRL file's).
//!
//! Output directory: the model (`model.safetensors`, `config.json`, `tokenizer.json`,
//! `reward_model.json`), `report.json`, `chart.svg`, and `checkpoints/epoch-N/` after each epoch
//! (`checkpoints/interrupted/` after Ctrl+C or `--stop-after`), each with the `state.json` that
//! `--resume` goes on from.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use juror_train::checkpoint;
use juror_train::config::BertConfig;
use juror_train::model_dir::{self, About};
use juror_train::pairs::{split_by_prompt, TextPair};
use juror_train::run::{run, EpochFigures, History, Moment, Outcome, Position, RunData, RunSettings, StepFigures, Watcher};
use juror_train::tokenize::PairTokenizer;
use juror_train::{Device, TrainSettings, Trainer, TrainingPair};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::pair_source::{self, PairSource};
use crate::cli::{ScheduleArg, TrainArgs};

/// Where a checkpoint stands, beside its model files.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    position: Position,
    history: History,
    /// A hash of the training and held-out pairs and of the settings: resuming needs the same.
    fingerprint: String,
}

const STATE: &str = "state.json";
const CHECKPOINTS: &str = "checkpoints";
const INTERRUPTED: &str = "interrupted";

/// The device the arguments ask for: a GPU where the `cuda` feature is built in, else the CPU.
pub(super) fn device(cpu: bool) -> anyhow::Result<Device> {
    if cpu || !cfg!(feature = "cuda") {
        return Ok(Device::Cpu);
    }
    Device::new_cuda(0).context("no usable GPU (pass --cpu to train on the CPU)")
}

/// `--held-out`: a count of pairs, or a share of them.
fn held_out_count(spec: &str, pairs: usize) -> anyhow::Result<usize> {
    let bad = || format!("--held-out must be a count of pairs (500) or a share between 0 and 1 (0.2), not `{spec}`");
    if spec.contains('.') {
        let share: f64 = spec.parse().ok().filter(|share| (0.0..1.0).contains(share)).with_context(bad)?;
        Ok((share * pairs as f64).round() as usize)
    } else {
        spec.parse().with_context(bad)
    }
}

fn check(args: &TrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.epochs > 0, "--epochs must be at least 1");
    anyhow::ensure!(args.batch_size > 0, "--batch-size must be at least 1");
    anyhow::ensure!((0.0..1.0).contains(&args.warmup), "--warmup is a share of the steps, from 0 to below 1");
    anyhow::ensure!(args.learning_rate >= 0.0 && args.head_learning_rate > 0.0, "learning rates must be positive");
    anyhow::ensure!(args.backbone.join(checkpoint::CONFIG).is_file(), "{} is not a model directory: it has no config.json", args.backbone.display());
    Ok(())
}

pub(super) async fn train(args: TrainArgs) -> anyhow::Result<()> {
    check(&args)?;
    let source = pair_source::read(&args.source, args.keep_ties, args.weighted).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    let (flag, signalled) = (stop.clone(), interrupted.clone());
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            signalled.store(true, Ordering::Relaxed);
            flag.store(true, Ordering::Relaxed);
            eprintln!("\nstopping after this step, then saving a checkpoint");
        }
    });
    let outcome = tokio::task::spawn_blocking(move || train_blocking(&args, source, &stop)).await.context("training stopped unexpectedly")??;
    if outcome == Outcome::Interrupted && interrupted.load(Ordering::Relaxed) {
        std::process::exit(130);
    }
    Ok(())
}

/// The pairs split into training and held-out sets, with the records trained on.
struct Split {
    train: Vec<TextPair>,
    held_out: Vec<TextPair>,
    trained_records: Vec<String>,
}

fn split(args: &TrainArgs, source: PairSource) -> anyhow::Result<Split> {
    let (train, held_out) = match &args.eval_pairs {
        Some(path) => (source.pairs, pair_source::file_pairs(path)?),
        None => {
            let count = held_out_count(&args.held_out, source.pairs.len())?;
            split_by_prompt(source.pairs, count, args.seed)
        }
    };
    anyhow::ensure!(!train.is_empty(), "no pairs left to train on after holding {} out: lower --held-out", held_out.len());
    let prompts: HashSet<&str> = train.iter().map(|pair| pair.prompt.as_str()).collect();
    let mut trained_records: Vec<String> = prompts.iter().filter_map(|prompt| source.records_by_prompt.get(*prompt)).flatten().cloned().collect();
    trained_records.sort();
    trained_records.dedup();
    Ok(Split { train, held_out, trained_records })
}

fn fingerprint(split: &Split, args: &TrainArgs) -> String {
    let mut hash = Sha256::new();
    for pair in split.train.iter().chain(&split.held_out) {
        for text in [&pair.prompt, &pair.chosen, &pair.rejected] {
            hash.update((text.len() as u64).to_le_bytes());
            hash.update(text.as_bytes());
        }
        hash.update(pair.target.to_le_bytes());
        hash.update(pair.weight.to_le_bytes());
    }
    hash.update(format!(
        "{} {} {} {} {} {} {} {} {} {} {} {}",
        split.train.len(),
        args.epochs,
        args.batch_size,
        args.max_length,
        args.learning_rate,
        args.head_learning_rate,
        args.weight_decay,
        args.warmup,
        args.max_grad_norm,
        args.freeze_backbone,
        args.freeze_word_embeddings,
        args.seed
    ));
    // Only a schedule other than the first one counts, so that checkpoints written before the
    // flag existed still resume.
    if args.schedule != ScheduleArg::Linear {
        hash.update(format!(" {:?}", args.schedule));
    }
    format!("{:x}", hash.finalize())
}

fn tokenize(tokenizer: &PairTokenizer, pairs: &[TextPair]) -> anyhow::Result<Vec<TrainingPair>> {
    Ok(pairs.iter().map(|pair| tokenizer.training_pair(pair)).collect::<Result<_, _>>()?)
}

/// The checkpoint with the most steps in `output/checkpoints`, with its state.
fn latest_checkpoint(output: &Path) -> anyhow::Result<Option<(PathBuf, State)>> {
    let dir = output.join(CHECKPOINTS);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(None) };
    let mut best: Option<(PathBuf, State)> = None;
    for entry in entries {
        let path = entry?.path();
        let Ok(text) = std::fs::read_to_string(path.join(STATE)) else { continue };
        let state: State = serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.join(STATE).display()))?;
        if best.as_ref().is_none_or(|(_, best)| state.position.steps > best.position.steps) {
            best = Some((path, state));
        }
    }
    Ok(best)
}

/// Writes `dir` whole or not at all: into a sibling first, then renamed over it.
fn write_dir(dir: &Path, write: impl FnOnce(&Path) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let temporary = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&temporary);
    write(&temporary)?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&temporary, dir).with_context(|| format!("failed to write {}", dir.display()))
}

/// The peak resident memory of this process so far, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The share of held-out pairs whose chosen response is the longer one (a reference a model
/// should beat, or a bias to watch for).
fn longer_wins(pairs: &[TextPair]) -> Option<f64> {
    let judged: Vec<&TextPair> = pairs.iter().filter(|pair| pair.target != 0.5 && pair.chosen.chars().count() != pair.rejected.chars().count()).collect();
    (!judged.is_empty()).then(|| judged.iter().filter(|pair| pair.chosen.chars().count() > pair.rejected.chars().count()).count() as f64 / judged.len() as f64)
}

struct Bar {
    bar: ProgressBar,
    stop_after: Option<usize>,
    stop: Arc<AtomicBool>,
    losses: Vec<f32>,
}

impl Watcher for Bar {
    fn started(&mut self, position: &Position, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(position.steps as u64);
        self.bar.reset_eta();
    }

    fn stepped(&mut self, figures: &StepFigures, pairs_per_second: f64) {
        self.losses.push(figures.loss);
        let recent = &self.losses[self.losses.len().saturating_sub(20)..];
        let loss = recent.iter().sum::<f32>() / recent.len() as f32;
        self.bar.set_message(format!("epoch {} · loss {loss:.4} · {pairs_per_second:.1} pairs/s", figures.epoch));
        self.bar.set_position(figures.step as u64);
        if self.stop_after.is_some_and(|limit| figures.step >= limit) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    fn evaluated(&mut self, figures: &EpochFigures) {
        self.bar.println(format!(
            "epoch {}: training loss {:.4}; held out: accuracy {:.3}, mean margin {:.3}, loss {:.4} ({} pairs); {:.1} pairs/s",
            figures.epoch, figures.train_loss, figures.held_out.accuracy, figures.held_out.mean_margin, figures.held_out.loss, figures.held_out.pairs, figures.pairs_per_second
        ));
    }
}

fn train_blocking(args: &TrainArgs, source: PairSource, stop: &Arc<AtomicBool>) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let device = device(args.cpu)?;
    let (description, dataset_id) = (source.description.clone(), source.dataset_id.clone());
    let split = split(args, source)?;
    let fingerprint = fingerprint(&split, args);
    let resumed = if args.resume {
        let (dir, state) = latest_checkpoint(&args.output)?.with_context(|| format!("nothing to resume: {} holds no checkpoint", args.output.join(CHECKPOINTS).display()))?;
        anyhow::ensure!(state.fingerprint == fingerprint, "the checkpoint in {} was trained on other pairs or settings: resume with the same ones", dir.display());
        Some((dir, state))
    } else {
        if args.output.join(CHECKPOINTS).exists() || args.output.join(model_dir::ABOUT).exists() {
            bail!("{} already holds a training run: pass --resume to go on with it, or choose another --output", args.output.display());
        }
        None
    };
    let config = BertConfig { pooling: args.pooling.into(), ..checkpoint::read_config(&args.backbone)? };
    let tokenizer = PairTokenizer::load(&args.backbone, &config, args.max_length)?;
    let (model, varmap) = match &resumed {
        Some((dir, _)) => checkpoint::load(dir, &device)?,
        None if args.from_scratch => checkpoint::fresh_seeded(&config, &device, args.seed)?,
        None => {
            let (model, varmap) = checkpoint::load_backbone(&args.backbone, config.pooling, &device)?;
            checkpoint::seed_head(&varmap, args.seed)?;
            (model, varmap)
        }
    };
    anyhow::ensure!(model.config() == &config, "the checkpoint's config.json differs from the backbone's: resume with the same --backbone and --pooling");
    let data = RunData { train: tokenize(&tokenizer, &split.train)?, held_out: tokenize(&tokenizer, &split.held_out)? };
    let run_settings = RunSettings { epochs: args.epochs, batch_size: args.batch_size, eval_batch_size: args.batch_size.max(32), seed: args.seed };
    let total_steps = run_settings.total_steps(data.train.len());
    let train_settings = TrainSettings {
        backbone_learning_rate: args.learning_rate,
        head_learning_rate: args.head_learning_rate,
        weight_decay: args.weight_decay,
        warmup_steps: (args.warmup * total_steps as f64).round() as usize,
        schedule: args.schedule.into(),
        total_steps,
        max_grad_norm: (args.max_grad_norm > 0.0).then_some(args.max_grad_norm),
        freeze_backbone: args.freeze_backbone,
        freeze_word_embeddings: args.freeze_word_embeddings,
        micro_batch: Some(args.micro_batch.max(1)),
    };
    let mut trainer = Trainer::new(model, varmap, train_settings.clone())?;
    if let Some((dir, _)) = &resumed {
        trainer.load_moments(dir, &device)?;
    }
    let (mut position, mut history) = resumed.map(|(_, state)| (state.position, state.history)).unwrap_or_default();
    eprintln!(
        "training on {} pairs ({} prompts), holding out {} ({} prompts), from {}; {} steps of {} pairs{}",
        split.train.len(),
        split.train.iter().map(|pair| &pair.prompt).collect::<HashSet<_>>().len(),
        split.held_out.len(),
        split.held_out.iter().map(|pair| &pair.prompt).collect::<HashSet<_>>().len(),
        description,
        total_steps,
        args.batch_size,
        if position.steps > 0 { format!(", resuming after step {}", position.steps) } else { String::new() }
    );
    let about = About {
        max_length: args.max_length,
        backbone: args.backbone.display().to_string(),
        trained_on: description.clone(),
        dataset_id,
        trained_records: split.trained_records.clone(),
    };
    let report = |history: &History, outcome: &str| {
        json!({
            "outcome": outcome,
            "backbone": args.backbone.display().to_string(),
            "trained_on": description,
            "device": if device.is_cpu() { "cpu" } else { "cuda" },
            "threads": juror_train::threads(),
            "settings": {
                "run": run_settings, "train": train_settings, "max_length": args.max_length, "pooling": config.pooling, "held_out": args.held_out,
                "eval_pairs": args.eval_pairs.as_ref().map(|path| path.display().to_string()), "keep_ties": args.keep_ties, "weighted": args.weighted,
            },
            "data": {
                "train_pairs": split.train.len(), "held_out_pairs": split.held_out.len(),
                "train_ties": split.train.iter().filter(|pair| pair.target == 0.5).count(), "trained_records": split.trained_records.len(),
            },
            "reference": {"longer_response_wins": longer_wins(&split.held_out)},
            "before": history.before, "epochs": history.epochs, "steps": history.steps,
            "seconds": started.elapsed().as_secs_f64(), "peak_rss_mib": peak_rss_mib(),
        })
    };
    let write_report = |history: &History, outcome: &str| -> anyhow::Result<()> {
        std::fs::create_dir_all(&args.output).with_context(|| format!("failed to create {}", args.output.display()))?;
        let path = args.output.join("report.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report(history, outcome))?).with_context(|| format!("failed to write {}", path.display()))?;
        juror_train::chart::draw(history, &args.output.join("chart.svg"))?;
        Ok(())
    };
    let mut save_checkpoint = |trainer: &Trainer, position: &Position, history: &History, moment: Moment| -> juror_train::TrainResult<()> {
        let name = match moment {
            Moment::EpochEnd => format!("epoch-{}", position.epochs_done),
            Moment::Interrupted => INTERRUPTED.to_owned(),
        };
        let checkpoints = args.output.join(CHECKPOINTS);
        let written = std::fs::create_dir_all(&checkpoints).map_err(anyhow::Error::from).and_then(|()| {
            write_dir(&checkpoints.join(name), |dir| {
                model_dir::save(dir, trainer.model(), trainer.varmap(), &tokenizer, &about)?;
                trainer.save_moments(dir)?;
                let state = State { position: *position, history: history.clone(), fingerprint: fingerprint.clone() };
                std::fs::write(dir.join(STATE), serde_json::to_string(&state)?)?;
                Ok(())
            })?;
            if moment == Moment::EpochEnd {
                let _ = std::fs::remove_dir_all(checkpoints.join(INTERRUPTED));
            }
            write_report(history, if moment == Moment::EpochEnd { "training" } else { "interrupted" })
        });
        written.map_err(|error| juror_train::TrainError::Invalid(format!("{error:#}")))
    };
    let bar = ProgressBar::new(total_steps as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps · {msg} · ETA {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut watcher = Bar { bar, stop_after: args.stop_after, stop: stop.clone(), losses: Vec::new() };
    let outcome = run(&mut trainer, &data, &run_settings, &mut position, &mut history, stop, &mut watcher, &mut save_checkpoint, &device)?;
    watcher.bar.finish_and_clear();
    if let Some(before) = &history.before {
        eprintln!("held out before training: accuracy {:.3}, loss {:.4}", before.accuracy, before.loss);
    }
    match outcome {
        Outcome::Interrupted => {
            eprintln!(
                "stopped after step {} of {total_steps}: the checkpoint is in {}; go on with the same command and --resume",
                position.steps,
                args.output.join(CHECKPOINTS).join(INTERRUPTED).display()
            );
        }
        Outcome::Finished => {
            model_dir::save(&args.output, trainer.model(), trainer.varmap(), &tokenizer, &about)?;
            write_report(&history, "finished")?;
            let last = history.epochs.last().map(|epoch| epoch.held_out.accuracy).unwrap_or_default();
            eprintln!(
                "wrote the reward model to {} (held-out accuracy {last:.3}), with report.json and chart.svg, in {:.0} s",
                args.output.display(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_is_a_count_or_a_share() {
        assert_eq!(held_out_count("500", 2312).unwrap(), 500);
        assert_eq!(held_out_count("0.2", 1000).unwrap(), 200);
        assert_eq!(held_out_count("0", 10).unwrap(), 0);
        assert!(held_out_count("1.5", 10).unwrap_err().to_string().contains("share between 0 and 1"));
        assert!(held_out_count("many", 10).is_err());
    }

    #[test]
    fn the_longer_answer_reference_leaves_out_ties_and_equal_lengths() {
        let pair = |chosen: &str, rejected: &str, target: f32| TextPair { prompt: "p".into(), chosen: chosen.into(), rejected: rejected.into(), target, weight: 1.0 };
        let pairs = [pair("long answer", "no", 1.0), pair("no", "longer", 1.0), pair("same", "same", 1.0), pair("tie tie", "t", 0.5), pair("yes!", "no", 1.0)];
        assert_eq!(longer_wins(&pairs), Some(2.0 / 3.0));
        assert_eq!(longer_wins(&[]), None);
    }
}
