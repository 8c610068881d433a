//! Token ids into tensors: sequences padded to the longest in their batch, and a batch of pairs.

use candle_core::{Device, Tensor};

use crate::encoder::{Encoded, Packed};
use crate::reward::RewardModel;
use crate::TrainResult;

/// One (prompt, response) sequence as token ids, with each token's segment (0 prompt, 1 response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
}

impl Sequence {
    /// A sequence whose tokens are all of segment 0.
    pub fn plain(ids: Vec<u32>) -> Self {
        let type_ids = vec![0; ids.len()];
        Self { ids, type_ids }
    }
}

/// A preference pair to learn from: `target` is P(chosen is better), 1 for a clear preference and
/// 0.5 for a tie; `weight` scales the pair's share of the loss (its confidence).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingPair {
    pub chosen: Sequence,
    pub rejected: Sequence,
    pub target: f32,
    pub weight: f32,
}

/// Sequences padded with id 0 to the longest, with their mask.
pub fn encode(sequences: &[&Sequence], device: &Device) -> TrainResult<Encoded> {
    let length = sequences.iter().map(|sequence| sequence.ids.len()).max().unwrap_or(0).max(1);
    let (mut ids, mut type_ids, mut mask, mut response_mask) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for sequence in sequences {
        let padding = length - sequence.ids.len();
        ids.extend(sequence.ids.iter().copied().chain(std::iter::repeat_n(0, padding)));
        type_ids.extend(sequence.type_ids.iter().copied().chain(std::iter::repeat_n(0, padding)));
        mask.extend(std::iter::repeat_n(1f32, sequence.ids.len()).chain(std::iter::repeat_n(0.0, padding)));
        response_mask.extend(pooled_by_response(sequence).map(f32::from).chain(std::iter::repeat_n(0.0, padding)));
    }
    let shape = (sequences.len(), length);
    Ok(Encoded {
        ids: Tensor::from_vec(ids, shape, device)?,
        type_ids: Tensor::from_vec(type_ids, shape, device)?,
        mask: Tensor::from_vec(mask, shape, device)?,
        response_mask: Tensor::from_vec(response_mask, shape, device)?,
        packed: pack(sequences, device)?,
    })
}

/// Which tokens response pooling averages: the response's, or every token of a sequence
/// without a response.
pub(crate) fn pooled_by_response(sequence: &Sequence) -> impl Iterator<Item = bool> + '_ {
    let has_response = sequence.type_ids.contains(&1);
    sequence.type_ids.iter().map(move |segment| *segment == 1 || !has_response)
}

/// The sequences one after another, with the weights that average each one's tokens.
fn pack(sequences: &[&Sequence], device: &Device) -> TrainResult<Packed> {
    let lengths: Vec<usize> = sequences.iter().map(|sequence| sequence.ids.len()).collect();
    let tokens: usize = lengths.iter().sum();
    let ids: Vec<u32> = sequences.iter().flat_map(|sequence| sequence.ids.iter().copied()).collect();
    let type_ids: Vec<u32> = sequences.iter().flat_map(|sequence| sequence.type_ids.iter().copied()).collect();
    let positions: Vec<u32> = lengths.iter().flat_map(|length| 0..*length as u32).collect();
    let (mut mean, mut response_mean) = (vec![0f32; sequences.len() * tokens], vec![0f32; sequences.len() * tokens]);
    let mut start = 0;
    for (index, sequence) in sequences.iter().enumerate() {
        let row = index * tokens + start;
        let length = sequence.ids.len();
        mean[row..row + length].fill(1.0 / length.max(1) as f32);
        let count = pooled_by_response(sequence).filter(|pooled| *pooled).count().max(1) as f32;
        for (weight, pooled) in response_mean[row..row + length].iter_mut().zip(pooled_by_response(sequence)) {
            *weight = f32::from(pooled) / count;
        }
        start += length;
    }
    Ok(Packed {
        ids: Tensor::from_vec(ids, tokens, device)?,
        type_ids: Tensor::from_vec(type_ids, tokens, device)?,
        positions: Tensor::from_vec(positions, tokens, device)?,
        lengths,
        mean: Tensor::from_vec(mean, (sequences.len(), tokens), device)?,
        response_mean: Tensor::from_vec(response_mean, (sequences.len(), tokens), device)?,
    })
}

/// A batch of pairs as tensors: the chosen sequences then the rejected ones, padded together so
/// that one pass of the model scores both sides; targets and weights.
#[derive(Debug, Clone)]
pub struct PairBatch {
    pub sequences: Encoded,
    pub pairs: usize,
    pub targets: Tensor,
    pub weights: Tensor,
}

/// The pairs' targets and weights, `[pairs]` each.
pub fn targets_and_weights(pairs: &[TrainingPair], device: &Device) -> TrainResult<(Tensor, Tensor)> {
    let column = |value: fn(&TrainingPair) -> f32| Tensor::from_vec(pairs.iter().map(value).collect::<Vec<_>>(), pairs.len(), device);
    Ok((column(|pair| pair.target)?, column(|pair| pair.weight)?))
}

impl PairBatch {
    pub fn new(pairs: &[TrainingPair], device: &Device) -> TrainResult<Self> {
        let sequences: Vec<&Sequence> = pairs.iter().map(|pair| &pair.chosen).chain(pairs.iter().map(|pair| &pair.rejected)).collect();
        let (targets, weights) = targets_and_weights(pairs, device)?;
        Ok(Self { sequences: encode(&sequences, device)?, pairs: pairs.len(), targets, weights })
    }

    /// The model's scores of the chosen and of the rejected sides, `[pairs]` each.
    pub fn scores(&self, model: &RewardModel) -> TrainResult<(Tensor, Tensor)> {
        let scores = model.score(&self.sequences)?;
        Ok((scores.narrow(0, 0, self.pairs)?, scores.narrow(0, self.pairs, self.pairs)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_padded_to_the_longest_with_a_mask() {
        let (short, long) = (Sequence::plain(vec![5]), Sequence { ids: vec![7, 8, 9], type_ids: vec![0, 1, 1] });
        let encoded = encode(&[&short, &long], &Device::Cpu).unwrap();
        assert_eq!(encoded.ids.to_vec2::<u32>().unwrap(), vec![vec![5, 0, 0], vec![7, 8, 9]]);
        assert_eq!(encoded.type_ids.to_vec2::<u32>().unwrap(), vec![vec![0, 0, 0], vec![0, 1, 1]]);
        assert_eq!(encoded.mask.to_vec2::<f32>().unwrap(), vec![vec![1.0, 0.0, 0.0], vec![1.0, 1.0, 1.0]]);
        assert_eq!(encoded.response_mask.to_vec2::<f32>().unwrap(), vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 1.0]], "a sequence without a response pools every token");
    }

    #[test]
    fn packed_sequences_hold_no_padding_and_average_their_own_tokens() {
        let (short, long) = (Sequence::plain(vec![5]), Sequence { ids: vec![7, 8, 9], type_ids: vec![0, 1, 1] });
        let packed = encode(&[&short, &long], &Device::Cpu).unwrap().packed;
        assert_eq!(packed.ids.to_vec1::<u32>().unwrap(), vec![5, 7, 8, 9]);
        assert_eq!(packed.type_ids.to_vec1::<u32>().unwrap(), vec![0, 0, 1, 1]);
        assert_eq!(packed.positions.to_vec1::<u32>().unwrap(), vec![0, 0, 1, 2]);
        assert_eq!(packed.lengths, vec![1, 3]);
        let third = 1.0 / 3.0;
        assert_eq!(packed.mean.to_vec2::<f32>().unwrap(), vec![vec![1.0, 0.0, 0.0, 0.0], vec![0.0, third, third, third]]);
        assert_eq!(packed.response_mean.to_vec2::<f32>().unwrap(), vec![vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 0.0, 0.5, 0.5]]);
    }
}
