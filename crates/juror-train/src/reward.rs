//! A reward model: the encoder, masked mean pooling (of every token or of the response's, as its
//! config says) and a scalar head (`score.weight`, `score.bias`).

use candle_core::{Tensor, D};
use candle_nn::{Linear, Module, VarBuilder};

use crate::config::BertConfig;
use crate::encoder::{Encoded, Encoder};
use crate::inference::{values, Dense, ScoringModel};
use crate::TrainResult;

/// The name prefix of the head's parameters; everything else is the backbone.
pub const HEAD: &str = "score";

#[derive(Debug, Clone)]
pub struct RewardModel {
    encoder: Encoder,
    head: Linear,
    config: BertConfig,
}

impl RewardModel {
    pub fn new(config: &BertConfig, vb: VarBuilder) -> TrainResult<Self> {
        Ok(Self { encoder: Encoder::new(config, vb.clone())?, head: candle_nn::linear(config.hidden_size, 1, vb.pp(HEAD))?, config: config.clone() })
    }

    /// Stops the word embeddings from being trained; the rest of the backbone still is.
    pub fn freeze_word_embeddings(&mut self) {
        self.encoder.freeze_word_embeddings();
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The pooled embeddings of the sequences, `[batch, hidden]`: what a frozen backbone computes
    /// once for its cached training.
    pub fn embed(&self, input: &Encoded) -> TrainResult<Tensor> {
        self.encoder.pooled(input, self.config.pooling)
    }

    /// The head's score of pooled embeddings, `[batch]`.
    pub fn score_embeddings(&self, embeddings: &Tensor) -> TrainResult<Tensor> {
        Ok(self.head.forward(embeddings)?.squeeze(D::Minus1)?)
    }

    /// The whole model as plain values, for scoring on the CPU outside candle's graph.
    pub fn for_scoring(&self) -> TrainResult<ScoringModel> {
        let (embeddings, layers) = self.encoder.for_scoring()?;
        let bias = self.head.bias().map(values).transpose()?.unwrap_or_else(|| vec![0.0]);
        Ok(ScoringModel { embeddings, layers, pooling: self.config.pooling, head: Dense { weight: values(self.head.weight())?, bias } })
    }

    /// One score per sequence, `[batch]`.
    pub fn score(&self, input: &Encoded) -> TrainResult<Tensor> {
        self.score_embeddings(&self.embed(input)?)
    }
}
