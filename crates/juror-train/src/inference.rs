//! A reward model's forward pass for scoring on the CPU, outside candle's graph.
//!
//! Training needs the graph (`encoder.rs`): each step's output is a fresh tensor, kept for the
//! backward pass. Scoring keeps nothing, so here the weights are plain values (the query, key and
//! value layers stacked once, when the model is loaded) and a batch runs through a few buffers
//! that are reused from layer to layer and from batch to batch. Each step is one of
//! [`crate::fused`]'s kernels writing in place: the GELU where the dense layer wrote, and each
//! dense layer's bias and residual addition inside the pass that follows it (the activation or
//! the layer norm). The tests hold this pass to the graph's scores.

use candle_core::{DType, Tensor};
use rayon::prelude::*;

use crate::batch::{pooled_by_response, Sequence};
use crate::config::{Activation, Pooling};
use crate::fused;
use crate::{TrainError, TrainResult};

/// A dense layer `x · weightᵀ + bias`: `weight` `[out, in]`, `bias` `[out]`.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Dense {
    /// `x`'s rows through the layer into `out` (as many rows of `bias.len()` values).
    fn apply(&self, x: &[f32], out: &mut [f32]) {
        fused::dense_into(x, &self.weight, &self.bias, out);
    }

    /// The same without the bias, for a next step that adds it as it passes over the rows.
    fn apply_unbiased(&self, x: &[f32], out: &mut [f32]) {
        fused::unbiased_into(x, &self.weight, self.width(), out);
    }

    fn width(&self) -> usize {
        self.bias.len()
    }
}

/// A layer norm's parameters.
#[derive(Debug, Clone)]
pub(crate) struct Norm {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub eps: f32,
}

impl Norm {
    /// Each row of `rows` replaced by the normalisation of itself plus `shift` plus `residual`'s
    /// same row.
    fn apply(&self, rows: &mut [f32], shift: Option<&[f32]>, residual: Option<&[f32]>) {
        fused::normalize_in_place(rows, shift, residual, &self.weight, &self.bias, self.eps);
    }
}

/// Each row of `x` (of `bias.len()` values) plus `bias`, through `activation`, in place.
fn activate_in_place(activation: Activation, x: &mut [f32], bias: &[f32]) {
    let width = bias.len().max(1);
    match activation {
        Activation::Gelu => fused::gelu_in_place(x, bias),
        Activation::GeluTanh => x.par_chunks_mut(width).with_min_len(8).for_each(|row| {
            for (x, bias) in row.iter_mut().zip(bias) {
                let x_biased = *x + bias;
                let inner = (2.0 / std::f32::consts::PI).sqrt() * (x_biased + 0.044_715 * x_biased * x_biased * x_biased);
                *x = 0.5 * x_biased * (1.0 + inner.tanh());
            }
        }),
        Activation::Relu => x.par_chunks_mut(width).with_min_len(8).for_each(|row| {
            for (x, bias) in row.iter_mut().zip(bias) {
                *x = (*x + bias).max(0.0);
            }
        }),
    }
}

/// A tensor's values in order.
pub(crate) fn values(tensor: &Tensor) -> TrainResult<Vec<f32>> {
    Ok(tensor.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?)
}

/// The word, position and segment embeddings (`[size, hidden]` each) and their layer norm.
#[derive(Debug, Clone)]
pub(crate) struct Embeddings {
    pub words: Vec<f32>,
    pub positions: Vec<f32>,
    pub types: Vec<f32>,
    pub norm: Norm,
}

impl Embeddings {
    fn hidden(&self) -> usize {
        self.norm.weight.len()
    }

    /// Each token's embedding into `out`, one row per token of the sequences in order.
    fn lookup(&self, sequences: &[&Sequence], out: &mut [f32]) -> TrainResult<()> {
        let hidden = self.hidden();
        let rows = |table: &[f32]| table.len() / hidden;
        let tokens: Vec<(usize, usize, usize)> = sequences
            .iter()
            .flat_map(|sequence| sequence.ids.iter().zip(&sequence.type_ids).enumerate().map(|(position, (id, segment))| (*id as usize, *segment as usize, position)))
            .collect();
        if let Some((id, segment, position)) = tokens.iter().find(|(id, segment, position)| *id >= rows(&self.words) || *segment >= rows(&self.types) || *position >= rows(&self.positions)) {
            return Err(TrainError::Invalid(format!(
                "token {id} of segment {segment} at position {position} is outside the model's embeddings ({} words, {} segments, {} positions)",
                rows(&self.words),
                rows(&self.types),
                rows(&self.positions)
            )));
        }
        out.par_chunks_mut(hidden).zip(&tokens).with_min_len(32).for_each(|(row, (id, segment, position))| {
            let (word, segment, position) = (&self.words[id * hidden..][..hidden], &self.types[segment * hidden..][..hidden], &self.positions[position * hidden..][..hidden]);
            for (((value, word), segment), position) in row.iter_mut().zip(word).zip(segment).zip(position) {
                *value = (word + segment) + position;
            }
        });
        self.norm.apply(out, None, None);
        Ok(())
    }
}

/// One encoder layer.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// The query, key and value layers stacked: each token's three projections side by side.
    pub qkv: Dense,
    pub attention_out: Dense,
    pub attention_norm: Norm,
    pub intermediate: Dense,
    pub output: Dense,
    pub output_norm: Norm,
    pub heads: usize,
    pub activation: Activation,
}

impl Layer {
    /// `x` (`[tokens, hidden]`) replaced by the layer's output.
    fn forward(&self, x: &mut [f32], lengths: &[usize], buffers: &mut Buffers) -> TrainResult<()> {
        let tokens: usize = lengths.iter().sum();
        let hidden = x.len() / tokens.max(1);
        let Buffers { qkv, blocks, context, attended, inner, .. } = buffers;
        let (qkv, inner) = (sized(qkv, tokens * self.qkv.width()), sized(inner, tokens * self.intermediate.width()));
        let (blocks, context, attended) = (sized(blocks, tokens * hidden), sized(context, tokens * hidden), sized(attended, tokens * hidden));
        self.qkv.apply(x, qkv);
        fused::attention_into(qkv, lengths, self.heads, blocks, context)?;
        self.attention_out.apply_unbiased(context, attended);
        self.attention_norm.apply(attended, Some(&self.attention_out.bias), Some(x));
        self.intermediate.apply_unbiased(attended, inner);
        activate_in_place(self.activation, inner, &self.intermediate.bias);
        self.output.apply_unbiased(inner, x);
        self.output_norm.apply(x, Some(&self.output.bias), Some(attended));
        Ok(())
    }
}

/// Where a batch's values go between steps; sized for the largest batch seen so far.
#[derive(Debug, Default)]
pub struct Buffers {
    hidden: Vec<f32>,
    qkv: Vec<f32>,
    blocks: Vec<f32>,
    context: Vec<f32>,
    attended: Vec<f32>,
    inner: Vec<f32>,
}

/// The first `len` values of `buffer`, grown as needed.
fn sized(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    &mut buffer[..len]
}

/// A whole reward model as plain values: embeddings, layers, pooling and the scalar head.
#[derive(Debug, Clone)]
pub struct ScoringModel {
    pub(crate) embeddings: Embeddings,
    pub(crate) layers: Vec<Layer>,
    pub(crate) pooling: Pooling,
    /// The head, `[1, hidden]` and `[1]`.
    pub(crate) head: Dense,
}

impl ScoringModel {
    /// One score per sequence, higher for better responses; `buffers` are reused between calls.
    pub fn score(&self, sequences: &[&Sequence], buffers: &mut Buffers) -> TrainResult<Vec<f32>> {
        if sequences.is_empty() {
            return Ok(Vec::new());
        }
        let lengths: Vec<usize> = sequences.iter().map(|sequence| sequence.ids.len()).collect();
        if let Some(sequence) = sequences.iter().find(|sequence| sequence.ids.is_empty() || sequence.ids.len() != sequence.type_ids.len()) {
            return Err(TrainError::Invalid(format!("a sequence of {} tokens and {} segments", sequence.ids.len(), sequence.type_ids.len())));
        }
        let hidden_size = self.embeddings.hidden();
        let mut hidden = std::mem::take(&mut buffers.hidden);
        let x = sized(&mut hidden, lengths.iter().sum::<usize>() * hidden_size);
        let outcome = self.embeddings.lookup(sequences, x).and_then(|()| self.layers.iter().try_for_each(|layer| layer.forward(x, &lengths, buffers)));
        let scores = outcome.map(|()| self.pool_and_score(sequences, x, hidden_size));
        buffers.hidden = hidden;
        scores
    }

    /// Each sequence's pooled hidden states (every token or the response's, as the model was
    /// trained) through the head.
    fn pool_and_score(&self, sequences: &[&Sequence], hidden: &[f32], hidden_size: usize) -> Vec<f32> {
        let mut start = 0;
        let mut scores = Vec::with_capacity(sequences.len());
        for sequence in sequences {
            let rows = &hidden[start * hidden_size..][..sequence.ids.len() * hidden_size];
            start += sequence.ids.len();
            let pooled: Vec<bool> = match self.pooling {
                Pooling::Mean => vec![true; sequence.ids.len()],
                Pooling::Response => pooled_by_response(sequence).collect(),
            };
            let weight = 1.0 / pooled.iter().filter(|pooled| **pooled).count().max(1) as f32;
            let mut mean = vec![0f32; hidden_size];
            for (row, _) in rows.chunks(hidden_size).zip(&pooled).filter(|(_, pooled)| **pooled) {
                mean.iter_mut().zip(row).for_each(|(mean, value)| *mean += weight * value);
            }
            let score = mean.iter().zip(&self.head.weight).map(|(value, weight)| value * weight).sum::<f32>();
            scores.push(score + self.head.bias[0]);
        }
        scores
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::batch::encode;
    use crate::checkpoint;
    use crate::config::BertConfig;

    #[test]
    fn scores_as_the_graph_does_for_each_pooling_and_activation_with_buffers_reused_across_batches() {
        let device = Device::Cpu;
        let long = Sequence { ids: (0..40).map(|i| (i * 7) % 30).collect(), type_ids: (0..40).map(|i| u32::from(i >= 15)).collect() };
        let batches = [
            vec![long.clone(), Sequence { ids: vec![2, 9, 4, 7, 11], type_ids: vec![0, 0, 1, 1, 1] }, Sequence::plain(vec![5, 6])],
            // A smaller batch after a larger one: the buffers hold more than it needs.
            vec![Sequence { ids: vec![3, 8, 12], type_ids: vec![0, 1, 1] }],
        ];
        for (pooling, activation, seed) in [(Pooling::Mean, "gelu", 1), (Pooling::Response, "gelu", 2), (Pooling::Response, "gelu_new", 4), (Pooling::Mean, "relu", 5)] {
            let config = BertConfig { pooling, hidden_act: activation.into(), ..BertConfig::tiny(30) };
            let (model, _) = checkpoint::fresh_seeded(&config, &device, seed).unwrap();
            let scoring = model.for_scoring().unwrap();
            let mut buffers = Buffers::default();
            for batch in &batches {
                let batch: Vec<&Sequence> = batch.iter().collect();
                let graph: Vec<f32> = model.score(&encode(&batch, &device).unwrap()).unwrap().to_vec1().unwrap();
                let plain = scoring.score(&batch, &mut buffers).unwrap();
                assert_eq!(plain.len(), graph.len());
                for (plain, graph) in plain.iter().zip(&graph) {
                    assert!((plain - graph).abs() <= 1e-5 * graph.abs().max(1.0), "{pooling:?}, {activation}: {plain} against the graph's {graph}");
                }
                assert!(graph.iter().any(|score| score.abs() > 1e-3), "scores that tell nothing: {graph:?}");
            }
        }
    }

    #[test]
    fn a_token_outside_the_vocabulary_and_an_empty_sequence_are_errors_and_no_sequences_no_scores() {
        let (model, _) = checkpoint::fresh_seeded(&BertConfig::tiny(30), &Device::Cpu, 3).unwrap();
        let scoring = model.for_scoring().unwrap();
        let error = scoring.score(&[&Sequence::plain(vec![1, 30])], &mut Buffers::default()).unwrap_err();
        assert!(error.to_string().contains("token 30"), "{error}");
        let error = scoring.score(&[&Sequence::plain(vec![])], &mut Buffers::default()).unwrap_err();
        assert!(error.to_string().contains("0 tokens"), "{error}");
        assert_eq!(scoring.score(&[], &mut Buffers::default()).unwrap(), Vec::<f32>::new());
    }
}
