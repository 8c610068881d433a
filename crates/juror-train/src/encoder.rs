//! A BERT encoder on candle's primitive (differentiable) operations, with the parameter names of
//! BERT checkpoints (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`,
//! ...), so a pretrained checkpoint loads into it by name. Dropout is left out: the models trained
//! here are small and trained briefly.

use candle_core::{DType, Tensor};
use candle_nn::{Embedding, Module, VarBuilder};

use crate::config::BertConfig;
use crate::fused;
use crate::layer_norm::LayerNorm;
use crate::linear::Linear;
use crate::TrainResult;

/// Token ids, their segment (0 the prompt, 1 the response), which positions are real (1.0)
/// rather than padding (0.0), and which are the response's (1.0; every real position of a
/// sequence without a response), each `[batch, length]`.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub ids: Tensor,
    pub type_ids: Tensor,
    pub mask: Tensor,
    pub response_mask: Tensor,
}

/// The parameter name of the word embeddings, half of a small BERT's weights.
pub const WORD_EMBEDDINGS: &str = "embeddings.word_embeddings.weight";

#[derive(Debug, Clone)]
struct Embeddings {
    words: Embedding,
    positions: Embedding,
    types: Embedding,
    norm: LayerNorm,
}

impl Embeddings {
    fn new(config: &BertConfig, vb: VarBuilder) -> TrainResult<Self> {
        Ok(Self {
            words: candle_nn::embedding(config.vocab_size, config.hidden_size, vb.pp("word_embeddings"))?,
            positions: candle_nn::embedding(config.max_position_embeddings, config.hidden_size, vb.pp("position_embeddings"))?,
            types: candle_nn::embedding(config.type_vocab_size, config.hidden_size, vb.pp("token_type_embeddings"))?,
            norm: LayerNorm::new(config.hidden_size, config.layer_norm_eps, vb.pp("LayerNorm"))?,
        })
    }

    /// Word embeddings cut off from the graph: no gradient is computed for them (a dense tensor
    /// of the vocabulary's size at every backward pass).
    fn freeze_words(&mut self) {
        self.words = Embedding::new(self.words.embeddings().detach(), self.words.hidden_size());
    }

    fn forward(&self, ids: &Tensor, type_ids: &Tensor) -> TrainResult<Tensor> {
        let length = ids.dim(1)?;
        let positions = Tensor::arange(0u32, length as u32, ids.device())?.unsqueeze(0)?;
        let summed = self.words.forward(ids)?.add(&self.types.forward(type_ids)?)?.broadcast_add(&self.positions.forward(&positions)?)?;
        self.norm.forward(&summed)
    }
}

#[derive(Debug, Clone)]
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
    heads: usize,
    activation: Activation,
}

#[derive(Debug, Clone, Copy)]
enum Activation {
    Gelu,
    GeluTanh,
    Relu,
}

impl Layer {
    fn new(config: &BertConfig, vb: VarBuilder) -> TrainResult<Self> {
        let (hidden, eps) = (config.hidden_size, config.layer_norm_eps);
        let attention = vb.pp("attention");
        let activation = match config.hidden_act.as_str() {
            "gelu_new" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            _ => Activation::Gelu,
        };
        Ok(Self {
            query: Linear::new(hidden, hidden, attention.pp("self").pp("query"))?,
            key: Linear::new(hidden, hidden, attention.pp("self").pp("key"))?,
            value: Linear::new(hidden, hidden, attention.pp("self").pp("value"))?,
            attention_out: Linear::new(hidden, hidden, attention.pp("output").pp("dense"))?,
            attention_norm: LayerNorm::new(hidden, eps, attention.pp("output").pp("LayerNorm"))?,
            intermediate: Linear::new(hidden, config.intermediate_size, vb.pp("intermediate").pp("dense"))?,
            output: Linear::new(config.intermediate_size, hidden, vb.pp("output").pp("dense"))?,
            output_norm: LayerNorm::new(hidden, eps, vb.pp("output").pp("LayerNorm"))?,
            heads: config.num_attention_heads,
            activation,
        })
    }

    /// One layer: self-attention (padding masked by `bias`, `[batch, length]`), then the
    /// feed-forward block, each with its residual and normalisation.
    fn forward(&self, x: &Tensor, bias: &Tensor) -> TrainResult<Tensor> {
        let projections = Linear::stacked(&[&self.query, &self.key, &self.value])?.forward(x)?;
        let context = fused::attention(&projections, bias, self.heads)?;
        let attended = self.attention_norm.forward(&self.attention_out.forward(&context)?.add(x)?)?;
        let inner = self.intermediate.forward(&attended)?;
        let inner = match self.activation {
            Activation::Gelu => fused::gelu(&inner)?,
            Activation::GeluTanh => inner.gelu()?,
            Activation::Relu => inner.relu()?,
        };
        self.output_norm.forward(&self.output.forward(&inner)?.add(&attended)?)
    }
}

/// The encoder: embeddings and the layers.
#[derive(Debug, Clone)]
pub struct Encoder {
    embeddings: Embeddings,
    layers: Vec<Layer>,
}

impl Encoder {
    /// The encoder's parameters under `vb` (`embeddings.*`, `encoder.layer.N.*`).
    pub fn new(config: &BertConfig, vb: VarBuilder) -> TrainResult<Self> {
        config.check()?;
        let embeddings = Embeddings::new(config, vb.pp("embeddings"))?;
        let layers = (0..config.num_hidden_layers).map(|index| Layer::new(config, vb.pp("encoder").pp("layer").pp(index))).collect::<TrainResult<Vec<_>>>()?;
        Ok(Self { embeddings, layers })
    }

    /// Stops the word embeddings from being trained (see [`WORD_EMBEDDINGS`]).
    pub fn freeze_word_embeddings(&mut self) {
        self.embeddings.freeze_words();
    }

    /// The last layer's hidden states, `[batch, length, hidden]`.
    pub fn forward(&self, input: &Encoded) -> TrainResult<Tensor> {
        // Padding gets a large negative bias before the softmax, so no position attends to it.
        let bias = input.mask.to_dtype(DType::F32)?.affine(1e4, -1e4)?;
        let mut hidden = self.embeddings.forward(&input.ids, &input.type_ids)?;
        for layer in &self.layers {
            hidden = layer.forward(&hidden, &bias)?;
        }
        Ok(hidden)
    }
}

/// The mean of the hidden states over the real (unmasked) positions, `[batch, hidden]`.
pub fn mean_pool(hidden: &Tensor, mask: &Tensor) -> TrainResult<Tensor> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.clamp(1e-6, f64::MAX)?;
    Ok(summed.broadcast_div(&counts)?)
}
