//! A reward model's directory, as `juror train` writes it and `juror score` reads it:
//! `model.safetensors` (backbone and head), `config.json`, `tokenizer.json`, and
//! `reward_model.json` (how its text is cut, and what it was trained on); and scoring text with it.

use std::path::Path;
use std::sync::{Mutex, TryLockError};

use candle_core::Device;
use candle_nn::VarMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::batch::{encode, Sequence};
use crate::checkpoint;
use crate::inference::{Buffers, ScoringModel};
use crate::reward::RewardModel;
use crate::tokenize::PairTokenizer;
use crate::{TrainError, TrainResult};

/// The file of what a reward model is.
pub const ABOUT: &str = "reward_model.json";

/// What a reward model is, beside its weights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct About {
    /// Tokens a (prompt, response) pair is cut to.
    pub max_length: usize,
    /// The backbone it was trained from.
    pub backbone: String,
    /// Where its pairs came from: a file, or `dataset NAME`.
    pub trained_on: String,
    /// The dataset it was trained on, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_id: Option<String>,
    /// The records whose pairs it was trained on (not held out), when they came from a dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trained_records: Vec<String>,
}

fn about_error(path: &Path, error: impl std::fmt::Display) -> TrainError {
    TrainError::File { path: path.display().to_string(), message: error.to_string() }
}

/// Writes a whole reward model into `dir`.
pub fn save(dir: &Path, model: &RewardModel, varmap: &VarMap, tokenizer: &PairTokenizer, about: &About) -> TrainResult<()> {
    checkpoint::save(model, varmap, dir)?;
    tokenizer.save(dir)?;
    let path = dir.join(ABOUT);
    let text = serde_json::to_string_pretty(about).map_err(|error| about_error(&path, error))?;
    std::fs::write(&path, text).map_err(|error| about_error(&path, error))
}

/// Reads what a saved reward model is.
pub fn read_about(dir: &Path) -> TrainResult<About> {
    let path = dir.join(ABOUT);
    let text = std::fs::read_to_string(&path).map_err(|error| about_error(&path, format!("{error} (not a reward model written by `juror train`)")))?;
    serde_json::from_str(&text).map_err(|error| about_error(&path, error))
}

/// A saved reward model ready to score (prompt, response) pairs.
pub struct Scorer {
    engine: Engine,
    tokenizer: PairTokenizer,
    about: About,
    batch_size: usize,
}

/// What runs the model.
enum Engine {
    /// On the CPU: the weights as plain values and the buffers the batches run through.
    Cpu(ScoringModel, Mutex<Buffers>),
    /// Elsewhere: the model on candle's tensors.
    Tensors(RewardModel, Device),
}

impl Scorer {
    /// Loads the reward model in `dir`; `batch_size` sequences are scored at a time.
    pub fn load(dir: &Path, device: &Device, batch_size: usize) -> TrainResult<Self> {
        let about = read_about(dir)?;
        let model = checkpoint::load_for_inference(dir, device)?;
        let tokenizer = PairTokenizer::load(dir, model.config(), about.max_length)?;
        let engine = match device {
            Device::Cpu => Engine::Cpu(model.for_scoring()?, Mutex::default()),
            _ => Engine::Tensors(model, device.clone()),
        };
        Ok(Self { engine, tokenizer, about, batch_size: batch_size.max(1) })
    }

    pub fn about(&self) -> &About {
        &self.about
    }

    /// One score per (prompt, response), higher for better responses.
    pub fn score(&self, items: &[(&str, &str)]) -> TrainResult<Vec<f32>> {
        let sequences = items.par_iter().map(|(prompt, response)| self.tokenizer.encode(prompt, response)).collect::<TrainResult<Vec<Sequence>>>()?;
        self.score_sequences(&sequences)
    }

    /// Scores sequences already tokenized, a batch at a time; sequences of like length are
    /// batched together so that little is padding.
    pub fn score_sequences(&self, sequences: &[Sequence]) -> TrainResult<Vec<f32>> {
        let mut order: Vec<usize> = (0..sequences.len()).collect();
        // Longest first: the first batch sizes the scoring buffers once, where growing them batch
        // after batch would copy and zero them each time.
        order.sort_by_key(|index| std::cmp::Reverse(sequences[*index].ids.len()));
        let mut scores = vec![0f32; sequences.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&Sequence> = chunk.iter().map(|index| &sequences[*index]).collect();
            let batch_scores = match &self.engine {
                Engine::Cpu(model, buffers) => match buffers.try_lock() {
                    Ok(mut buffers) => model.score(&batch, &mut buffers)?,
                    // Every buffer is written before it is read, so one left by a panic is as
                    // good as any.
                    Err(TryLockError::Poisoned(poisoned)) => model.score(&batch, &mut poisoned.into_inner())?,
                    // Another call is scoring: this one brings buffers of its own rather than wait.
                    Err(TryLockError::WouldBlock) => model.score(&batch, &mut Buffers::default())?,
                },
                Engine::Tensors(model, device) => model.score(&encode(&batch, device)?)?.to_vec1()?,
            };
            for (index, score) in chunk.iter().zip(batch_scores) {
                scores[*index] = score;
            }
        }
        Ok(scores)
    }
}
