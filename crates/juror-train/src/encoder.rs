//! A BERT encoder on candle's primitive (differentiable) operations, with the parameter names of
//! BERT checkpoints (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`,
//! ...), so a pretrained checkpoint loads into it by name. Dropout is left out: the models trained
//! here are small and trained briefly.

use candle_core::{DType, Tensor};
use candle_nn::{Embedding, Module, VarBuilder};

use crate::config::{Activation, BertConfig, Pooling};
use crate::fused;
use crate::inference;
use crate::layer_norm::LayerNorm;
use crate::linear::Linear;
use crate::TrainResult;

/// Token ids, their segment (0 the prompt, 1 the response), which positions are real (1.0)
/// rather than padding (0.0), and which are the response's (1.0; every real position of a
/// sequence without a response), each `[batch, length]`; and the same sequences packed.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub ids: Tensor,
    pub type_ids: Tensor,
    pub mask: Tensor,
    pub response_mask: Tensor,
    pub packed: Packed,
}

/// The sequences without padding, one after another (what the CPU kernels run on: a quarter of
/// the positions of a typical padded batch are padding): each token's id, segment and position
/// (`[tokens]` each), the sequences' lengths, and the weights that average each sequence's
/// tokens (`[batch, tokens]`), all of them or the response's.
#[derive(Debug, Clone)]
pub struct Packed {
    pub ids: Tensor,
    pub type_ids: Tensor,
    pub positions: Tensor,
    pub lengths: Vec<usize>,
    pub mean: Tensor,
    pub response_mean: Tensor,
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

    /// `positions` broadcast against `ids` (`[length]` for `[batch, length]` ids, or one per
    /// packed token).
    fn forward(&self, ids: &Tensor, type_ids: &Tensor, positions: &Tensor) -> TrainResult<Tensor> {
        let summed = self.words.forward(ids)?.add(&self.types.forward(type_ids)?)?.broadcast_add(&self.positions.forward(positions)?)?;
        self.norm.forward(&summed)
    }

    fn for_scoring(&self) -> TrainResult<inference::Embeddings> {
        Ok(inference::Embeddings {
            words: inference::values(self.words.embeddings())?,
            positions: inference::values(self.positions.embeddings())?,
            types: inference::values(self.types.embeddings())?,
            norm: self.norm.for_scoring()?,
        })
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

impl Layer {
    fn new(config: &BertConfig, vb: VarBuilder) -> TrainResult<Self> {
        let (hidden, eps) = (config.hidden_size, config.layer_norm_eps);
        let attention = vb.pp("attention");
        let activation = config.activation();
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

    /// One layer: self-attention within each sequence, then the feed-forward block, each with
    /// its residual and normalisation.
    fn forward(&self, x: &Tensor, sequences: &Sequences) -> TrainResult<Tensor> {
        let projections = Linear::stacked(&[&self.query, &self.key, &self.value])?.forward(x)?;
        let context = match sequences {
            Sequences::Padded { bias } => fused::attention_primitive(&projections, bias, self.heads)?,
            Sequences::Packed { lengths } => fused::attention(&projections, lengths, self.heads)?,
        };
        let attended = self.attention_norm.forward(&self.attention_out.forward(&context)?.add(x)?)?;
        let inner = self.intermediate.forward(&attended)?;
        let inner = match self.activation {
            Activation::Gelu => fused::gelu(&inner)?,
            Activation::GeluTanh => inner.gelu()?,
            Activation::Relu => inner.relu()?,
        };
        self.output_norm.forward(&self.output.forward(&inner)?.add(&attended)?)
    }

    fn for_scoring(&self) -> TrainResult<inference::Layer> {
        Ok(inference::Layer {
            qkv: Linear::stacked(&[&self.query, &self.key, &self.value])?.for_scoring()?,
            attention_out: self.attention_out.for_scoring()?,
            attention_norm: self.attention_norm.for_scoring()?,
            intermediate: self.intermediate.for_scoring()?,
            output: self.output.for_scoring()?,
            output_norm: self.output_norm.for_scoring()?,
            heads: self.heads,
            activation: self.activation,
        })
    }
}

/// How the hidden states hold the sequences: padded, `[batch, length, hidden]`, with a bias that
/// keeps attention off the padding (`[batch, length]`); or packed, `[tokens, hidden]`.
enum Sequences<'a> {
    Padded { bias: Tensor },
    Packed { lengths: &'a [usize] },
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

    /// The last layer's hidden states over padded sequences, `[batch, length, hidden]` (other
    /// devices than the CPU, and the tests' reference).
    pub fn forward(&self, input: &Encoded) -> TrainResult<Tensor> {
        // Padding gets a large negative bias before the softmax, so no position attends to it.
        let bias = input.mask.to_dtype(DType::F32)?.affine(1e4, -1e4)?;
        let positions = Tensor::arange(0u32, input.ids.dim(1)? as u32, input.ids.device())?;
        let hidden = self.embeddings.forward(&input.ids, &input.type_ids, &positions)?;
        self.layers(hidden, &Sequences::Padded { bias })
    }

    /// The last layer's hidden states over the packed sequences, `[tokens, hidden]`: the CPU
    /// kernels, which compute nothing for padding.
    pub fn forward_packed(&self, packed: &Packed) -> TrainResult<Tensor> {
        let hidden = self.embeddings.forward(&packed.ids, &packed.type_ids, &packed.positions)?;
        self.layers(hidden, &Sequences::Packed { lengths: &packed.lengths })
    }

    /// The mean of the last layer's hidden states over each sequence's real tokens (or its
    /// response's), `[batch, hidden]`: packed on the CPU, padded elsewhere.
    pub fn pooled(&self, input: &Encoded, pooling: Pooling) -> TrainResult<Tensor> {
        if input.ids.device().is_cpu() {
            let weights = match pooling {
                Pooling::Mean => &input.packed.mean,
                Pooling::Response => &input.packed.response_mean,
            };
            return Ok(weights.matmul(&self.forward_packed(&input.packed)?)?);
        }
        let mask = match pooling {
            Pooling::Mean => &input.mask,
            Pooling::Response => &input.response_mask,
        };
        mean_pool(&self.forward(input)?, mask)
    }

    /// The embeddings and layers as plain values, for scoring on the CPU ([`crate::inference`]).
    pub(crate) fn for_scoring(&self) -> TrainResult<(inference::Embeddings, Vec<inference::Layer>)> {
        Ok((self.embeddings.for_scoring()?, self.layers.iter().map(Layer::for_scoring).collect::<TrainResult<_>>()?))
    }

    fn layers(&self, mut hidden: Tensor, sequences: &Sequences) -> TrainResult<Tensor> {
        for layer in &self.layers {
            hidden = layer.forward(&hidden, sequences)?;
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

#[cfg(test)]
mod tests {
    use candle_core::Device;
    use candle_nn::VarMap;

    use super::*;
    use crate::batch::{encode, Sequence};

    #[test]
    fn packed_sequences_pool_and_backpropagate_as_padded_ones_do() {
        let device = Device::Cpu;
        let config = BertConfig::tiny(30);
        let map = VarMap::new();
        let encoder = Encoder::new(&config, VarBuilder::from_varmap(&map, DType::F32, &device)).unwrap();
        let sequences = [Sequence { ids: vec![2, 9, 4, 7, 11], type_ids: vec![0, 0, 1, 1, 1] }, Sequence::plain(vec![5, 6]), Sequence { ids: vec![3, 8, 12], type_ids: vec![0, 1, 1] }];
        let input = encode(&sequences.iter().collect::<Vec<_>>(), &device).unwrap();
        let weights = Tensor::new(&[[1f32], [-2.0], [0.5]], &device).unwrap();
        for (pooling, mask) in [(Pooling::Mean, &input.mask), (Pooling::Response, &input.response_mask)] {
            let packed = encoder.pooled(&input, pooling).unwrap();
            let padded = mean_pool(&encoder.forward(&input).unwrap(), mask).unwrap();
            let difference: f32 = packed.sub(&padded).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
            assert!(difference < 1e-5, "{pooling:?}: pooled states differ by {difference}");
            let loss = |pooled: &Tensor| pooled.broadcast_mul(&weights).unwrap().sum_all().unwrap().backward().unwrap();
            let (packed_grads, padded_grads) = (loss(&packed), loss(&padded));
            for (name, var) in map.data().lock().unwrap().iter() {
                let (ours, reference) = (packed_grads.get(var.as_tensor()).unwrap(), padded_grads.get(var.as_tensor()).unwrap());
                let difference: f32 = ours.sub(reference).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
                assert!(difference < 1e-4, "{pooling:?}: the gradients of {name} differ by {difference}");
            }
        }
    }
}
