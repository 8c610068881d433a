//! A training run: epochs of shuffled batches, the held-out figures before training and after
//! each epoch, checkpoints, and a stop that can come at any step.
//!
//! The order of each epoch's batches follows from the seed and the epoch alone, so a run resumed
//! from a checkpoint taken mid-epoch skips the batches already done and goes on exactly where it
//! stopped (the optimizer's moments start afresh).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::batch::{encode, Sequence, TrainingPair};
use crate::trainer::{evaluate, Evaluation, StepReport, Trainer};
use crate::TrainResult;

/// The shape of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub epochs: usize,
    /// Pairs per optimizer step.
    pub batch_size: usize,
    /// Pairs per batch when evaluating or embedding (no gradients kept).
    pub eval_batch_size: usize,
    /// Fixes the order of the batches.
    pub seed: u64,
}

impl RunSettings {
    pub fn steps_per_epoch(&self, pairs: usize) -> usize {
        pairs.div_ceil(self.batch_size.max(1))
    }

    pub fn total_steps(&self, pairs: usize) -> usize {
        self.epochs * self.steps_per_epoch(pairs)
    }

    /// The order of epoch `epoch`'s pairs (epochs counted from 0).
    fn order(&self, epoch: usize, pairs: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..pairs).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(self.seed.wrapping_add(epoch as u64)));
        order
    }
}

/// Where a run stands: epochs finished, and batches done in the epoch under way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub epochs_done: usize,
    pub batches_done: usize,
    /// Optimizer steps taken in all.
    pub steps: usize,
}

/// One optimizer step's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepFigures {
    pub step: usize,
    /// The epoch under way, counted from 1.
    pub epoch: usize,
    pub loss: f32,
    pub grad_norm: f64,
    pub learning_rate: f64,
    /// Wall-clock seconds the step took.
    #[serde(default)]
    pub seconds: f64,
}

/// One epoch's figures: the mean training loss and the held-out evaluation after it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    pub epoch: usize,
    pub steps: usize,
    pub train_loss: f64,
    pub held_out: Evaluation,
    /// Seconds spent training in this epoch (evaluation not included).
    pub seconds: f64,
    /// Training pairs per second in this epoch.
    pub pairs_per_second: f64,
}

/// Everything measured so far: the held-out figures before training, each epoch's, each step's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub before: Option<Evaluation>,
    pub epochs: Vec<EpochFigures>,
    pub steps: Vec<StepFigures>,
}

/// What a run tells its watcher.
pub trait Watcher {
    /// Training starts (or resumes) at `position`, out of `total` steps.
    fn started(&mut self, _position: &Position, _total: usize) {}
    /// A step is done; `pairs_per_second` over the epoch so far.
    fn stepped(&mut self, _figures: &StepFigures, _pairs_per_second: f64) {}
    /// An epoch is done and evaluated.
    fn evaluated(&mut self, _figures: &EpochFigures) {}
}

/// Where a checkpoint is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// After an epoch and its evaluation.
    EpochEnd,
    /// When the run was asked to stop.
    Interrupted,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// Stopped on request; the last checkpoint holds where.
    Interrupted,
}

/// The pairs of a run: what it trains on and what it is judged on.
#[derive(Debug, Clone, Default)]
pub struct RunData {
    pub train: Vec<TrainingPair>,
    pub held_out: Vec<TrainingPair>,
}

/// Runs (or resumes, from `position` and `history`) training until its last epoch, or until
/// `stop` is set. `checkpoint` is called after every epoch and when stopping.
#[allow(clippy::too_many_arguments)]
pub fn run(
    trainer: &mut Trainer,
    data: &RunData,
    settings: &RunSettings,
    position: &mut Position,
    history: &mut History,
    stop: &AtomicBool,
    watcher: &mut dyn Watcher,
    checkpoint: &mut dyn FnMut(&Trainer, &Position, &History, Moment) -> TrainResult<()>,
    device: &Device,
) -> TrainResult<Outcome> {
    if history.before.is_none() && !data.held_out.is_empty() {
        history.before = Some(evaluate(&trainer.inference_model()?, &data.held_out, settings.eval_batch_size, device)?);
    }
    trainer.resume_at(position.steps);
    let cached = if trainer.is_frozen() { Some(embed_all(trainer, &data.train, settings.eval_batch_size, device)?) } else { None };
    watcher.started(position, settings.total_steps(data.train.len()));
    while position.epochs_done < settings.epochs {
        let epoch = position.epochs_done + 1;
        let order = settings.order(position.epochs_done, data.train.len());
        let batches: Vec<&[usize]> = order.chunks(settings.batch_size.max(1)).collect();
        let (started, mut trained, mut loss_sum) = (Instant::now(), 0usize, 0.0f64);
        for batch in &batches[position.batches_done.min(batches.len())..] {
            if stop.load(Ordering::Relaxed) {
                checkpoint(trainer, position, history, Moment::Interrupted)?;
                return Ok(Outcome::Interrupted);
            }
            let step_started = Instant::now();
            let report = match &cached {
                Some(cached) => cached.step(trainer, batch, device)?,
                None => {
                    let pairs: Vec<TrainingPair> = batch.iter().map(|index| data.train[*index].clone()).collect();
                    trainer.step_pairs(&pairs, device)?
                }
            };
            position.batches_done += 1;
            position.steps += 1;
            trained += batch.len();
            loss_sum += f64::from(report.loss) * batch.len() as f64;
            let figures = StepFigures { step: position.steps, epoch, loss: report.loss, grad_norm: report.grad_norm, learning_rate: report.learning_rate, seconds: step_started.elapsed().as_secs_f64() };
            history.steps.push(figures);
            watcher.stepped(&figures, trained as f64 / started.elapsed().as_secs_f64().max(1e-9));
        }
        let seconds = started.elapsed().as_secs_f64();
        let held_out = evaluate(&trainer.inference_model()?, &data.held_out, settings.eval_batch_size, device)?;
        let figures = EpochFigures {
            epoch,
            steps: position.steps,
            train_loss: loss_sum / trained.max(1) as f64,
            held_out,
            seconds,
            pairs_per_second: trained as f64 / seconds.max(1e-9),
        };
        history.epochs.push(figures);
        *position = Position { epochs_done: epoch, batches_done: 0, steps: position.steps };
        watcher.evaluated(&figures);
        checkpoint(trainer, position, history, Moment::EpochEnd)?;
    }
    Ok(Outcome::Finished)
}

/// A frozen backbone's pooled embeddings of every training pair, computed once.
struct CachedEmbeddings {
    chosen: Tensor,
    rejected: Tensor,
    targets: Tensor,
    weights: Tensor,
}

impl CachedEmbeddings {
    fn step(&self, trainer: &mut Trainer, batch: &[usize], device: &Device) -> TrainResult<StepReport> {
        let rows = Tensor::from_vec(batch.iter().map(|index| *index as u32).collect::<Vec<_>>(), batch.len(), device)?;
        let pick = |tensor: &Tensor| tensor.index_select(&rows, 0);
        trainer.step_on_embeddings(&pick(&self.chosen)?, &pick(&self.rejected)?, &pick(&self.targets)?, &pick(&self.weights)?)
    }
}

fn embed_all(trainer: &Trainer, pairs: &[TrainingPair], batch_size: usize, device: &Device) -> TrainResult<CachedEmbeddings> {
    let model = trainer.inference_model()?;
    let embed = |side: fn(&TrainingPair) -> &Sequence| -> TrainResult<Tensor> {
        let mut parts = Vec::new();
        for chunk in pairs.chunks(batch_size.max(1)) {
            let sequences: Vec<&Sequence> = chunk.iter().map(side).collect();
            parts.push(model.embed(&encode(&sequences, device)?)?);
        }
        Ok(Tensor::cat(&parts, 0)?)
    };
    Ok(CachedEmbeddings {
        chosen: embed(|pair| &pair.chosen)?,
        rejected: embed(|pair| &pair.rejected)?,
        targets: Tensor::from_vec(pairs.iter().map(|pair| pair.target).collect::<Vec<_>>(), pairs.len(), device)?,
        weights: Tensor::from_vec(pairs.iter().map(|pair| pair.weight).collect::<Vec<_>>(), pairs.len(), device)?,
    })
}
