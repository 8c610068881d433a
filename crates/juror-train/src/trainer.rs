//! Training a reward model: AdamW with warm-up and linear decay, the backbone and the head each at
//! their own learning rate (or the backbone frozen), gradients clipped to a global norm.

use std::collections::HashMap;
use std::path::Path;

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use candle_nn::VarMap;

use crate::batch::{targets_and_weights, PairBatch, Sequence, TrainingPair};
use crate::encoder::WORD_EMBEDDINGS;
use crate::inference::Buffers;
use crate::loss::{bradley_terry, bradley_terry_part};
use crate::optimizer::AdamW;
use crate::reward::{RewardModel, HEAD};
use crate::schedule::Schedule;
use crate::{TrainError, TrainResult};

/// How a reward model is trained.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainSettings {
    /// The backbone's peak learning rate.
    pub backbone_learning_rate: f64,
    /// The head's peak learning rate.
    pub head_learning_rate: f64,
    pub weight_decay: f64,
    /// Steps of linear warm-up, then what `schedule` says until `total_steps`.
    pub warmup_steps: usize,
    /// Linear decay to zero after the warm-up, or the full rate to the end.
    #[serde(default)]
    pub schedule: Schedule,
    pub total_steps: usize,
    /// Gradients are scaled down to this global norm when above it.
    pub max_grad_norm: Option<f64>,
    /// Train the head only.
    pub freeze_backbone: bool,
    /// Keep the word embeddings as they are (the rest of the backbone is trained): half of a small
    /// BERT's weights, and the least to gain from a few thousand pairs.
    #[serde(default)]
    pub freeze_word_embeddings: bool,
    /// Pairs per forward and backward pass within a step (the gradients are summed, so the step
    /// is the same with less memory); `None` takes the whole batch at once.
    #[serde(default)]
    pub micro_batch: Option<usize>,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self { backbone_learning_rate: 5e-5, head_learning_rate: 1e-3, weight_decay: 0.01, warmup_steps: 0, schedule: Schedule::Linear, total_steps: 1, max_grad_norm: Some(1.0), freeze_backbone: false, freeze_word_embeddings: false, micro_batch: None }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    pub loss: f32,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    /// The backbone's learning rate this step (0 when frozen).
    pub learning_rate: f64,
}

/// A reward model with its parameters and optimizers.
pub struct Trainer {
    model: RewardModel,
    varmap: VarMap,
    head_vars: Vec<Var>,
    backbone_vars: Vec<Var>,
    head: AdamW,
    backbone: Option<AdamW>,
    settings: TrainSettings,
    step: usize,
}

/// The optimizer moments file of a checkpoint, beside its weights.
pub const MOMENTS: &str = "optimizer.safetensors";

type NamedVars = Vec<(String, Var)>;

/// Splits a model's parameters into the head's and the backbone's, each in name order.
fn split_vars(varmap: &VarMap) -> (NamedVars, NamedVars) {
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut named: NamedVars = data.iter().map(|(name, var)| (name.clone(), var.clone())).collect();
    named.sort_by(|left, right| left.0.cmp(&right.0));
    named.into_iter().partition(|(name, _)| name.starts_with(&format!("{HEAD}.")))
}

impl Trainer {
    /// A trainer of `model`, whose parameters are all in `varmap`.
    pub fn new(mut model: RewardModel, varmap: VarMap, settings: TrainSettings) -> TrainResult<Self> {
        let (head_vars, mut backbone_vars) = split_vars(&varmap);
        if settings.freeze_word_embeddings {
            model.freeze_word_embeddings();
            backbone_vars.retain(|(name, _)| name != WORD_EMBEDDINGS);
        }
        let head = AdamW::new(head_vars.clone(), settings.weight_decay)?;
        let backbone = (!settings.freeze_backbone).then(|| AdamW::new(backbone_vars.clone(), settings.weight_decay)).transpose()?;
        let strip = |vars: NamedVars| vars.into_iter().map(|(_, var)| var).collect();
        Ok(Self { model, varmap, head_vars: strip(head_vars), backbone_vars: strip(backbone_vars), head, backbone, settings, step: 0 })
    }

    /// Writes the optimizer's moments into `dir` ([`MOMENTS`]), so that a run resumed from there
    /// takes the same steps as one never stopped.
    pub fn save_moments(&self, dir: &Path) -> TrainResult<()> {
        let moments: HashMap<String, Tensor> = self.head.moments().chain(self.backbone.iter().flat_map(AdamW::moments)).map(|(name, moments)| (name.to_owned(), moments.clone())).collect();
        let path = dir.join(MOMENTS);
        candle_core::safetensors::save(&moments, &path).map_err(|error| TrainError::File { path: path.display().to_string(), message: error.to_string() })
    }

    /// Reads the moments [`Trainer::save_moments`] wrote into `dir`.
    pub fn load_moments(&mut self, dir: &Path, device: &Device) -> TrainResult<()> {
        let path = dir.join(MOMENTS);
        let file_error = |message: String| TrainError::File { path: path.display().to_string(), message };
        let mut saved = candle_core::safetensors::load(&path, device).map_err(|error| file_error(error.to_string()))?;
        self.head.load_moments(&mut saved).map_err(|error| file_error(error.to_string()))?;
        if let Some(backbone) = &mut self.backbone {
            backbone.load_moments(&mut saved).map_err(|error| file_error(error.to_string()))?;
        }
        Ok(())
    }

    pub fn model(&self) -> &RewardModel {
        &self.model
    }

    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The model as it stands, for evaluation: no gradients tracked (see
    /// [`crate::checkpoint::inference_copy`]).
    pub fn inference_model(&self) -> TrainResult<RewardModel> {
        crate::checkpoint::inference_copy(&self.model, &self.varmap)
    }

    /// Whether only the head is trained.
    pub fn is_frozen(&self) -> bool {
        self.backbone.is_none()
    }

    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// Continues the schedule from `steps` (after loading a checkpoint).
    pub fn resume_at(&mut self, steps: usize) {
        self.step = steps;
    }

    /// One optimizer step of the head on pooled embeddings computed beforehand (a frozen
    /// backbone embeds each sequence once): `[batch, hidden]` each.
    pub fn step_on_embeddings(&mut self, chosen: &Tensor, rejected: &Tensor, targets: &Tensor, weights: &Tensor) -> TrainResult<StepReport> {
        let chosen = self.model.score_embeddings(&chosen.detach())?;
        let rejected = self.model.score_embeddings(&rejected.detach())?;
        let loss = bradley_terry(&chosen, &rejected, targets, weights)?;
        let value = loss.to_scalar::<f32>()?;
        let grads = self.trained_only(loss.backward()?);
        self.apply_grads(grads, value)
    }

    /// One optimizer step on `pairs`, through the whole model, `micro_batch` pairs per forward
    /// and backward pass.
    pub fn step_pairs(&mut self, pairs: &[TrainingPair], device: &Device) -> TrainResult<StepReport> {
        let size = self.settings.micro_batch.unwrap_or(pairs.len()).max(1);
        let batch_weight: f64 = pairs.iter().map(|pair| f64::from(pair.weight)).sum();
        let (mut grads, mut loss): (Option<GradStore>, f32) = (None, 0.0);
        for chunk in pairs.chunks(size) {
            let batch = PairBatch::new(chunk, device)?;
            let (chosen, rejected) = batch.scores(&self.model)?;
            let part = bradley_terry_part(&chosen, &rejected, &batch.targets, &batch.weights, batch_weight)?;
            loss += part.to_scalar::<f32>()?;
            let part_grads = self.trained_only(part.backward()?);
            drop(part);
            match &mut grads {
                Some(grads) => grads.extend(part_grads)?,
                None => grads = Some(part_grads),
            }
        }
        match grads {
            Some(grads) => self.apply_grads(grads, loss),
            None => Err(crate::TrainError::Invalid("a step needs at least one pair".into())),
        }
    }

    /// The gradients of the parameters being trained, out of all a backward pass leaves (which
    /// include gradients of constant operands such as masks, never used).
    fn trained_only(&self, mut grads: GradStore) -> GradStore {
        let mut kept = GradStore::default();
        for var in self.trained_vars() {
            if let Some(grad) = grads.remove(var.as_tensor()) {
                kept.insert(var.as_tensor(), grad);
            }
        }
        kept
    }

    fn trained_vars(&self) -> Vec<&Var> {
        match self.backbone {
            Some(_) => self.head_vars.iter().chain(&self.backbone_vars).collect(),
            None => self.head_vars.iter().collect(),
        }
    }

    fn apply_grads(&mut self, grads: GradStore, loss: f32) -> TrainResult<StepReport> {
        let factor = self.settings.schedule.factor(self.step, self.settings.warmup_steps, self.settings.total_steps);
        self.head.set_learning_rate(self.settings.head_learning_rate * factor);
        let learning_rate = self.backbone.as_ref().map_or(0.0, |_| self.settings.backbone_learning_rate * factor);
        let mut squared_norm = self.head.squared_norm(&grads)?;
        if let Some(backbone) = &mut self.backbone {
            backbone.set_learning_rate(learning_rate);
            squared_norm += backbone.squared_norm(&grads)?;
        }
        // Clipping to a global norm scales every gradient by one factor, folded into the update.
        let grad_norm = squared_norm.sqrt();
        let scale = self.settings.max_grad_norm.filter(|max| grad_norm > *max).map_or(1.0, |max| max / (grad_norm + 1e-6));
        self.step += 1;
        self.head.step(&grads, self.step, scale)?;
        if let Some(backbone) = &mut self.backbone {
            backbone.step(&grads, self.step, scale)?;
        }
        Ok(StepReport { loss, grad_norm, learning_rate })
    }
}

/// How a model does on held-out pairs: the share it orders as their target says (ties left
/// out), the mean score margin `r_chosen - r_rejected`, and the mean loss.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    pub accuracy: f64,
    pub mean_margin: f64,
    pub loss: f64,
    pub pairs: usize,
}

/// Evaluates `model` on `pairs`, `batch_size` at a time.
pub fn evaluate(model: &RewardModel, pairs: &[TrainingPair], batch_size: usize, device: &Device) -> TrainResult<Evaluation> {
    let (mut right, mut judged, mut margin, mut loss) = (0usize, 0usize, 0.0f64, 0.0f64);
    // On the CPU the scoring pass outside the graph, which is faster and gives the same scores.
    let mut scoring = if device.is_cpu() { Some((model.for_scoring()?, Buffers::default())) } else { None };
    for chunk in pairs.chunks(batch_size.max(1)) {
        let (chosen, rejected, targets, weights) = match &mut scoring {
            Some((model, buffers)) => {
                let sequences: Vec<&Sequence> = chunk.iter().map(|pair| &pair.chosen).chain(chunk.iter().map(|pair| &pair.rejected)).collect();
                let mut chosen = model.score(&sequences, buffers)?;
                let rejected = chosen.split_off(chunk.len());
                let (targets, weights) = targets_and_weights(chunk, device)?;
                (Tensor::new(chosen, device)?, Tensor::new(rejected, device)?, targets, weights)
            }
            None => {
                let batch = PairBatch::new(chunk, device)?;
                let (chosen, rejected) = batch.scores(model)?;
                (chosen, rejected, batch.targets, batch.weights)
            }
        };
        loss += f64::from(bradley_terry(&chosen, &rejected, &targets, &weights)?.to_scalar::<f32>()?) * chunk.len() as f64;
        let differences: Vec<f32> = chosen.sub(&rejected)?.to_vec1()?;
        for (pair, difference) in chunk.iter().zip(differences) {
            margin += f64::from(difference);
            if pair.target != 0.5 {
                judged += 1;
                right += usize::from((difference > 0.0) == (pair.target > 0.5));
            }
        }
    }
    let count = pairs.len().max(1) as f64;
    Ok(Evaluation { accuracy: right as f64 / judged.max(1) as f64, mean_margin: margin / count, loss: loss / count, pairs: pairs.len() })
}
