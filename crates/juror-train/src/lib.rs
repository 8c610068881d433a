//! Reward models for preference pairs, on candle tensors.
//!
//! A reward model reads a (prompt, response) pair as one BERT sentence pair and gives it a score;
//! it learns from (prompt, chosen, rejected) pairs with the Bradley-Terry loss
//! `-log sigmoid(r_chosen - r_rejected)`. The pieces:
//! - [`config`]: a BERT-family checkpoint's `config.json`;
//! - [`layer_norm`] and [`encoder`]: the encoder, written here so that gradients reach every
//!   backbone weight (candle's fused LayerNorm and last-dimension softmax record no backward pass,
//!   and fine-tuning through them silently trains the head only);
//! - [`fused`]: CPU kernels with backward passes for the encoder's LayerNorm, GELU, dense layers
//!   and attention over packed sequences, with primitive-operation fallbacks for other devices;
//!   [`linear`] the layer that runs the dense kernel;
//! - [`inference`]: the same model as plain values, scoring on the CPU outside the graph, in
//!   buffers reused from layer to layer;
//! - [`reward`]: encoder, masked mean pooling (every token, or the response's) and a scalar head;
//! - [`batch`]: token ids into tensors, padded and packed, a batch of pairs;
//! - [`loss`]: the Bradley-Terry loss with soft targets (a tie is 0.5) and per-pair weights;
//! - [`optimizer`]: AdamW with fused in-place updates on the CPU, and moments that are saved;
//! - [`schedule`] and [`trainer`]: warm-up and linear decay, gradient clipping, separate
//!   learning rates for the head and the backbone, or a frozen backbone;
//! - [`checkpoint`]: loading a pretrained backbone and saving or loading a whole reward model;
//! - [`pairs`]: pairs as text from TRL-format JSON lines, split into training and evaluation sets
//!   by prompt;
//! - [`tokenize`]: a checkpoint's `tokenizer.json` turning (prompt, response) text into a sentence pair.
//!
//! No storage: callers bring pairs as text or token ids.

pub mod batch;
pub mod chart;
pub mod checkpoint;
pub mod config;
pub mod encoder;
pub mod fused;
pub mod inference;
pub mod layer_norm;
pub mod linear;
pub mod loss;
pub mod model_dir;
pub mod optimizer;
pub mod pairs;
pub mod reward;
pub mod run;
pub mod schedule;
pub mod tokenize;
pub mod trainer;

pub use batch::{PairBatch, Sequence, TrainingPair};
pub use candle_core::Device;
pub use config::BertConfig;
pub use reward::RewardModel;
pub use trainer::{TrainSettings, Trainer};

/// What training and scoring fail with.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

pub type TrainResult<T> = Result<T, TrainError>;

/// The threads the heavy operations (matrix products) run on: every core, or `RAYON_NUM_THREADS`.
pub fn threads() -> usize {
    candle_core::utils::get_num_threads()
}
