//! Multi-head self-attention over packed projections, forward and backward, one task per
//! sequence and head.
//!
//! From candle's primitives, attention splits the projections into heads (three copies), takes
//! two batched products of small matrices one after the other, and joins the heads again (a
//! fourth copy); the backward pass adds a zeroed tensor and an addition for each of those steps.
//! Here each (sequence, head) is a task on the thread pool: the scores, their masked softmax and
//! the product with the values, read in place from the packed projections. The backward pass
//! computes the probabilities again rather than keeping them (a small product next to the dense
//! layers').

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor, D};
use rayon::prelude::*;

use super::product::{product, Threads, View};
use super::softmax::{masked_softmax_primitive, softmax_grad, softmax_in_place};
use super::{fusable, values, OpResult};
use crate::TrainResult;

/// Self-attention of `heads` heads: `qkv` is `[batch, length, 3 * hidden]`, the queries, keys
/// and values side by side (each `heads` blocks of `hidden / heads`); `bias` is `[batch, length]`,
/// added to every score of a key (large and negative at padding). Returns the heads' contexts
/// side by side, `[batch, length, hidden]`. No gradient reaches `bias`.
pub fn attention(qkv: &Tensor, bias: &Tensor, heads: usize) -> TrainResult<Tensor> {
    if !fusable(qkv) {
        return attention_primitive(qkv, bias, heads);
    }
    Ok(qkv.contiguous()?.apply_op2(&bias.detach().contiguous()?, Attention { heads })?)
}

/// The same from candle's primitive operations (other devices, and the tests' reference).
pub fn attention_primitive(qkv: &Tensor, bias: &Tensor, heads: usize) -> TrainResult<Tensor> {
    let (batch, length, packed) = qkv.dims3()?;
    let hidden = packed / 3;
    let head_size = hidden / heads.max(1);
    let split = |part: usize| -> TrainResult<Tensor> { Ok(qkv.narrow(D::Minus1, part * hidden, hidden)?.reshape((batch, length, heads, head_size))?.transpose(1, 2)?.contiguous()?) };
    let (query, key, value) = (split(0)?, split(1)?, split(2)?);
    let weights = masked_softmax_primitive(&query.matmul(&key.t()?)?, bias, 1.0 / (head_size as f64).sqrt())?;
    Ok(weights.matmul(&value)?.transpose(1, 2)?.contiguous()?.reshape((batch, length, hidden))?)
}

/// The sizes of an attention: sequences, positions, heads and values per head.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    batch: usize,
    length: usize,
    heads: usize,
    head_size: usize,
}

impl Geometry {
    fn new(qkv: &Layout, bias: &Layout, heads: usize) -> OpResult<Self> {
        let &[batch, length, packed] = qkv.shape().dims() else {
            candle_core::bail!("attention over {:?}, not [batch, length, 3 * hidden]", qkv.shape());
        };
        if heads == 0 || !packed.is_multiple_of(3 * heads) || bias.shape().dims() != [batch, length] {
            candle_core::bail!("attention of {heads} heads over {:?} with a bias of {:?}", qkv.shape(), bias.shape());
        }
        Ok(Self { batch, length, heads, head_size: packed / 3 / heads })
    }

    fn hidden(&self) -> usize {
        self.heads * self.head_size
    }

    /// Where `part` (0 queries, 1 keys, 2 values) of `head` of `sequence` starts in the packed
    /// projections; its rows are `3 * hidden` apart.
    fn projection(&self, sequence: usize, head: usize, part: usize) -> usize {
        sequence * self.length * 3 * self.hidden() + part * self.hidden() + head * self.head_size
    }

    /// The softmax of the scaled, biased scores of `head` of `sequence` into `probabilities`
    /// (`length × length`).
    fn probabilities(&self, qkv: &[f32], bias: &[f32], sequence: usize, head: usize, probabilities: &mut [f32]) {
        let (length, stride) = (self.length, 3 * self.hidden());
        let query = View::rows(self.projection(sequence, head, 0), stride);
        let keys = View::columns(self.projection(sequence, head, 1), stride);
        product((probabilities, View::rows(0, length)), false, (qkv, query), (qkv, keys), (length, length, self.head_size), Threads::Caller);
        let bias = &bias[sequence * length..(sequence + 1) * length];
        let scale = 1.0 / (self.head_size as f32).sqrt();
        probabilities.chunks_mut(length).for_each(|row| softmax_in_place(row, bias, scale));
    }

    /// Rows of `width` (one per sequence and position) made from the per-(sequence, head)
    /// blocks of `blocks`, each `parts` matrices of `length × head_size`: part `p` of head `h`
    /// lands at `p * hidden + h * head_size` of its row.
    fn join_heads(&self, blocks: &[f32], parts: usize) -> Vec<f32> {
        let (hidden, head_size, length) = (self.hidden(), self.head_size, self.length);
        let mut rows = vec![0f32; self.batch * length * parts * hidden];
        rows.par_chunks_mut(parts * hidden).enumerate().for_each(|(index, row)| {
            let (sequence, position) = (index / length, index % length);
            for head in 0..self.heads {
                let block = (sequence * self.heads + head) * parts * length * head_size;
                for part in 0..parts {
                    let from = block + part * length * head_size + position * head_size;
                    row[part * hidden + head * head_size..][..head_size].copy_from_slice(&blocks[from..from + head_size]);
                }
            }
        });
        rows
    }
}

struct Attention {
    heads: usize,
}

impl CustomOp2 for Attention {
    fn name(&self) -> &'static str {
        "juror-attention"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (qkv, bias) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let geometry = Geometry::new(l1, l2, self.heads)?;
        let (length, head_size) = (geometry.length, geometry.head_size);
        let mut contexts = vec![0f32; geometry.batch * geometry.heads * length * head_size];
        contexts.par_chunks_mut(length * head_size).enumerate().for_each_init(
            || vec![0f32; length * length],
            |probabilities, (task, context)| {
                let (sequence, head) = (task / geometry.heads, task % geometry.heads);
                geometry.probabilities(qkv, bias, sequence, head, probabilities);
                let values = View::rows(geometry.projection(sequence, head, 2), 3 * geometry.hidden());
                product((context, View::rows(0, head_size)), false, (probabilities, View::rows(0, length)), (qkv, values), (length, head_size, length), Threads::Caller);
            },
        );
        let out = geometry.join_heads(&contexts, 1);
        Ok((CpuStorage::F32(out), Shape::from((geometry.batch, length, geometry.hidden()))))
    }

    fn bwd(&self, qkv: &Tensor, bias: &Tensor, _res: &Tensor, grad: &Tensor) -> OpResult<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(qkv.apply_op3_no_bwd(bias, &grad.contiguous()?, &AttentionGrad { heads: self.heads })?), None))
    }
}

/// The gradient reaching the packed projections from the contexts' gradient.
struct AttentionGrad {
    heads: usize,
}

impl CustomOp3 for AttentionGrad {
    fn name(&self) -> &'static str {
        "juror-attention-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (qkv, bias, grad) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?, values(s3, l3, self.name())?);
        let geometry = Geometry::new(l1, l2, self.heads)?;
        let (length, head_size, hidden) = (geometry.length, geometry.head_size, geometry.hidden());
        if grad.len() != geometry.batch * length * hidden {
            candle_core::bail!("an attention gradient of {:?} for {:?}", l3.shape(), l1.shape());
        }
        let block = length * head_size;
        let mut blocks = vec![0f32; geometry.batch * geometry.heads * 3 * block];
        blocks.par_chunks_mut(3 * block).enumerate().for_each_init(
            || (vec![0f32; length * length], vec![0f32; length * length], vec![0f32; length * length]),
            |(probabilities, to_probabilities, to_scores), (task, out)| {
                let (sequence, head) = (task / geometry.heads, task % geometry.heads);
                geometry.probabilities(qkv, bias, sequence, head, probabilities);
                let (to_query, rest) = out.split_at_mut(block);
                let (to_key, to_value) = rest.split_at_mut(block);
                let context_grad = View::rows(sequence * length * hidden + head * head_size, hidden);
                let stride = 3 * hidden;
                // Values: probabilitiesᵀ · grad. Probabilities: grad · valuesᵀ.
                product((to_value, View::rows(0, head_size)), false, (probabilities, View::columns(0, length)), (grad, context_grad), (length, head_size, length), Threads::Caller);
                let values_t = View::columns(geometry.projection(sequence, head, 2), stride);
                product((to_probabilities, View::rows(0, length)), false, (grad, context_grad), (qkv, values_t), (length, length, head_size), Threads::Caller);
                let scale = 1.0 / (head_size as f32).sqrt();
                for ((p, grad), out) in probabilities.chunks(length).zip(to_probabilities.chunks(length)).zip(to_scores.chunks_mut(length)) {
                    softmax_grad(p, grad, scale, out);
                }
                // Queries: scores' gradient · keys. Keys: its transpose · queries.
                let keys = View::rows(geometry.projection(sequence, head, 1), stride);
                product((to_query, View::rows(0, head_size)), false, (to_scores, View::rows(0, length)), (qkv, keys), (length, head_size, length), Threads::Caller);
                let queries = View::rows(geometry.projection(sequence, head, 0), stride);
                product((to_key, View::rows(0, head_size)), false, (to_scores, View::columns(0, length)), (qkv, queries), (length, head_size, length), Threads::Caller);
            },
        );
        let out = geometry.join_heads(&blocks, 3);
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::super::test_support::{assert_close, random, weighted_sum};
    use super::*;

    #[test]
    fn attention_matches_the_primitive_one_forward_and_backward_and_ignores_padding() {
        let (heads, head_size, length) = (3, 4, 6);
        let qkv = random(&[2, length, 3 * heads * head_size], 31);
        let mask = Tensor::new(&[[1f32, 1., 1., 1., 1., 1.], [1., 1., 1., 1., 0., 0.]], &Device::Cpu).unwrap();
        let bias = mask.affine(1e4, -1e4).unwrap();
        let fused = attention(qkv.as_tensor(), &bias, heads).unwrap();
        let primitive = attention_primitive(qkv.as_tensor(), &bias, heads).unwrap();
        assert_eq!(fused.dims(), &[2, length, heads * head_size]);
        assert_close(&fused, &primitive, "forward");
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 32).backward().unwrap(), weighted_sum(&primitive, 32).backward().unwrap());
        let (fused_grad, primitive_grad) = (fused_grads.get(qkv.as_tensor()).unwrap(), primitive_grads.get(qkv.as_tensor()).unwrap());
        assert_close(fused_grad, primitive_grad, "projections");
        // The keys and values of padding positions take no part, so no gradient reaches them.
        let padded_keys_values: f32 = fused_grad.get(1).unwrap().narrow(0, 4, 2).unwrap().narrow(1, heads * head_size, 2 * heads * head_size).unwrap().abs().unwrap().sum_all().unwrap().to_scalar().unwrap();
        assert!(padded_keys_values < 1e-6, "{padded_keys_values}");
    }
}
