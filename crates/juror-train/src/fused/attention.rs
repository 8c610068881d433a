//! Multi-head self-attention over packed sequences (no padding), forward and backward, one task
//! per sequence and head.
//!
//! From candle's primitives, attention splits the projections into heads (three copies), takes
//! two batched products of small matrices one after the other, and joins the heads again (a
//! fourth copy), over padded sequences; the backward pass adds a zeroed tensor and an addition
//! for each of those steps. Here the sequences lie one after another without padding, and each
//! (sequence, head) is a task on the thread pool: the scores, their softmax and the product with
//! the values, read in place from the packed projections. The backward pass computes the
//! probabilities again rather than keeping them (a small product next to the dense layers').

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor, D};
use rayon::prelude::*;

use super::product::{product, Threads, View};
use super::simd;
use super::softmax::{softmax_grad, softmax_in_place};
use super::{values, zeroed, OpResult};
use crate::TrainResult;

/// Self-attention of `heads` heads within each of the sequences packed one after another in
/// `qkv`, `[tokens, 3 * hidden]`: each token's query, key and value side by side (each `heads`
/// blocks of `hidden / heads`); `lengths` are the sequences' numbers of tokens, in order. Returns
/// the heads' contexts side by side, `[tokens, hidden]`. CPU and f32 only (the padded
/// [`attention_primitive`] runs elsewhere).
pub fn attention(qkv: &Tensor, lengths: &[usize], heads: usize) -> TrainResult<Tensor> {
    Ok(qkv.contiguous()?.apply_op1(Attention { geometry: Geometry::new(lengths, heads) })?)
}

/// [`attention`] on plain values, into `out` (`[tokens, hidden]`), with `blocks` (as long) for
/// the heads' contexts; whatever both held is overwritten.
pub(crate) fn attention_into(qkv: &[f32], lengths: &[usize], heads: usize, blocks: &mut [f32], out: &mut [f32]) -> TrainResult<()> {
    let geometry = Geometry::new(lengths, heads);
    let geometry = geometry.sized_for(geometry.tokens, qkv.len() / geometry.tokens.max(1))?;
    let size = geometry.tokens * geometry.hidden();
    if qkv.len() != 3 * size || blocks.len() != size || out.len() != size {
        return Err(crate::TrainError::Invalid(format!("attention over {} projections into {} values", qkv.len(), out.len())));
    }
    geometry.attend(qkv, blocks, out);
    Ok(())
}

/// Self-attention over padded sequences from candle's primitive operations (other devices, and
/// the tests' reference): `qkv` is `[batch, length, 3 * hidden]` and `bias` `[batch, length]`,
/// added to every score of a key (large and negative at padding).
pub fn attention_primitive(qkv: &Tensor, bias: &Tensor, heads: usize) -> TrainResult<Tensor> {
    let (batch, length, packed) = qkv.dims3()?;
    let hidden = packed / 3;
    let head_size = hidden / heads.max(1);
    let split = |part: usize| -> TrainResult<Tensor> { Ok(qkv.narrow(D::Minus1, part * hidden, hidden)?.reshape((batch, length, heads, head_size))?.transpose(1, 2)?.contiguous()?) };
    let (query, key, value) = (split(0)?, split(1)?, split(2)?);
    let scores = query.matmul(&key.t()?)?.affine(1.0 / (head_size as f64).sqrt(), 0.0)?.broadcast_add(&bias.unsqueeze(1)?.unsqueeze(1)?)?;
    let weights = candle_nn::ops::softmax(&scores, D::Minus1)?;
    Ok(weights.matmul(&value)?.transpose(1, 2)?.contiguous()?.reshape((batch, length, hidden))?)
}

/// The sequences of an attention and its heads.
#[derive(Debug, Clone)]
struct Geometry {
    lengths: Vec<usize>,
    /// Where each sequence's first token is.
    offsets: Vec<usize>,
    tokens: usize,
    heads: usize,
    /// Values per head, known once the projections' width is.
    head_size: usize,
}

impl Geometry {
    fn new(lengths: &[usize], heads: usize) -> Self {
        let offsets = lengths.iter().scan(0, |start, length| Some(std::mem::replace(start, *start + length))).collect();
        Self { lengths: lengths.to_vec(), offsets, tokens: lengths.iter().sum(), heads, head_size: 0 }
    }

    /// The geometry for projections laid out as `layout`, checked against it.
    fn sized(&self, layout: &Layout) -> OpResult<Self> {
        let &[tokens, packed] = layout.shape().dims() else {
            candle_core::bail!("attention over {:?}, not [tokens, 3 * hidden]", layout.shape());
        };
        self.sized_for(tokens, packed)
    }

    /// The geometry for `tokens` rows of `packed` projections (`3 * hidden`), checked against it.
    fn sized_for(&self, tokens: usize, packed: usize) -> OpResult<Self> {
        if self.heads == 0 || !packed.is_multiple_of(3 * self.heads) || tokens != self.tokens {
            candle_core::bail!("attention of {} heads over [{tokens}, {packed}] for sequences of {} tokens in all", self.heads, self.tokens);
        }
        Ok(Self { head_size: packed / 3 / self.heads, ..self.clone() })
    }

    fn hidden(&self) -> usize {
        self.heads * self.head_size
    }

    /// The (sequence, head) of a task; tasks go head by head, each over every sequence.
    fn task(&self, index: usize) -> (usize, usize) {
        (index % self.lengths.len(), index / self.lengths.len())
    }

    /// Where `part` (0 queries, 1 keys, 2 values) of `head` of `sequence` starts in the packed
    /// projections; its rows are `3 * hidden` apart.
    fn projection(&self, sequence: usize, head: usize, part: usize) -> usize {
        self.offsets[sequence] * 3 * self.hidden() + part * self.hidden() + head * self.head_size
    }

    /// The softmax of the scaled scores of `head` of `sequence` into `probabilities`, the first
    /// `length × length` values.
    fn probabilities(&self, qkv: &[f32], sequence: usize, head: usize, probabilities: &mut [f32]) {
        let (length, stride) = (self.lengths[sequence], 3 * self.hidden());
        let query = View::rows(self.projection(sequence, head, 0), stride);
        let keys = View::columns(self.projection(sequence, head, 1), stride);
        product((probabilities, View::rows(0, length)), false, (qkv, query), (qkv, keys), (length, length, self.head_size), Threads::Caller);
        let scale = 1.0 / (self.head_size as f32).sqrt();
        simd::widest(
            #[inline(always)]
            || {
                for row in probabilities[..length * length].chunks_mut(length) {
                    softmax_in_place(row, scale);
                }
            },
        );
    }

    /// `blocks` (`heads × tokens × head_size`, head by head) cut into each task's
    /// `length × head_size` block, in task order.
    fn task_blocks<'a>(&self, mut blocks: &'a mut [f32]) -> Vec<&'a mut [f32]> {
        let mut cut = Vec::with_capacity(self.heads * self.lengths.len());
        for _ in 0..self.heads {
            for length in &self.lengths {
                let (block, rest) = std::mem::take(&mut blocks).split_at_mut(length * self.head_size);
                cut.push(block);
                blocks = rest;
            }
        }
        cut
    }

    /// Rows of `parts * hidden` values, one per token, from `parts` regions of head-by-head
    /// blocks (see [`Geometry::task_blocks`]): part `p` of head `h` lands at
    /// `p * hidden + h * head_size` of its token's row.
    fn join_heads(&self, blocks: &[f32], parts: usize) -> Vec<f32> {
        let mut rows = zeroed(self.tokens * parts * self.hidden());
        self.join_heads_into(blocks, parts, &mut rows);
        rows
    }

    /// [`Geometry::join_heads`] into `rows`, whatever it held.
    fn join_heads_into(&self, blocks: &[f32], parts: usize, rows: &mut [f32]) {
        let (hidden, head_size, tokens) = (self.hidden(), self.head_size, self.tokens);
        rows.par_chunks_mut(parts * hidden).enumerate().for_each(|(token, row)| {
            for part in 0..parts {
                for head in 0..self.heads {
                    let from = ((part * self.heads + head) * tokens + token) * head_size;
                    row[part * hidden + head * head_size..][..head_size].copy_from_slice(&blocks[from..from + head_size]);
                }
            }
        });
    }

    /// The heads' contexts into `out` (`[tokens, hidden]`), through `blocks` (as long, whatever
    /// both held).
    fn attend(&self, qkv: &[f32], blocks: &mut [f32], out: &mut [f32]) {
        let (head_size, longest) = (self.head_size, self.longest());
        self.task_blocks(blocks).into_par_iter().enumerate().for_each_init(
            || vec![0f32; longest * longest],
            |probabilities, (task, context)| {
                let (sequence, head) = self.task(task);
                let length = self.lengths[sequence];
                self.probabilities(qkv, sequence, head, probabilities);
                let values = View::rows(self.projection(sequence, head, 2), 3 * self.hidden());
                product((context, View::rows(0, head_size)), false, (probabilities, View::rows(0, length)), (qkv, values), (length, head_size, length), Threads::Caller);
            },
        );
        self.join_heads_into(blocks, 1, out);
    }

    fn longest(&self) -> usize {
        self.lengths.iter().copied().max().unwrap_or(0)
    }
}

struct Attention {
    geometry: Geometry,
}

impl CustomOp1 for Attention {
    fn name(&self) -> &'static str {
        "juror-attention"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let qkv = values(storage, layout, self.name())?;
        let geometry = self.geometry.sized(layout)?;
        let (mut blocks, mut out) = (zeroed(geometry.tokens * geometry.hidden()), zeroed(geometry.tokens * geometry.hidden()));
        geometry.attend(qkv, &mut blocks, &mut out);
        Ok((CpuStorage::F32(out), Shape::from((geometry.tokens, geometry.hidden()))))
    }

    fn bwd(&self, qkv: &Tensor, _res: &Tensor, grad: &Tensor) -> OpResult<Option<Tensor>> {
        Ok(Some(qkv.apply_op2_no_bwd(&grad.contiguous()?, &AttentionGrad { geometry: self.geometry.clone() })?))
    }
}

/// The gradient reaching the packed projections from the contexts' gradient.
struct AttentionGrad {
    geometry: Geometry,
}

impl CustomOp2 for AttentionGrad {
    fn name(&self) -> &'static str {
        "juror-attention-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (qkv, grad) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let geometry = self.geometry.sized(l1)?;
        let (head_size, hidden) = (geometry.head_size, geometry.hidden());
        if grad.len() != geometry.tokens * hidden {
            candle_core::bail!("an attention gradient of {:?} for {:?}", l2.shape(), l1.shape());
        }
        let part = geometry.tokens * hidden;
        let mut blocks = zeroed(3 * part);
        let (to_queries, rest) = blocks.split_at_mut(part);
        let (to_keys, to_values) = rest.split_at_mut(part);
        let tasks = geometry.task_blocks(to_queries).into_iter().zip(geometry.task_blocks(to_keys)).zip(geometry.task_blocks(to_values));
        let longest = geometry.longest();
        let scratch = || [vec![0f32; longest * longest], vec![0f32; longest * longest], vec![0f32; longest * longest]];
        tasks.collect::<Vec<_>>().into_par_iter().enumerate().for_each_init(scratch, |[probabilities, to_probabilities, to_scores], (task, ((to_query, to_key), to_value))| {
            let (sequence, head) = geometry.task(task);
            let length = geometry.lengths[sequence];
            geometry.probabilities(qkv, sequence, head, probabilities);
            let context_grad = View::rows(geometry.offsets[sequence] * hidden + head * head_size, hidden);
            let stride = 3 * hidden;
            let square = View::rows(0, length);
            // Values: probabilitiesᵀ · grad. Probabilities: grad · valuesᵀ.
            product((to_value, View::rows(0, head_size)), false, (probabilities, View::columns(0, length)), (grad, context_grad), (length, head_size, length), Threads::Caller);
            let values_t = View::columns(geometry.projection(sequence, head, 2), stride);
            product((to_probabilities, square), false, (grad, context_grad), (qkv, values_t), (length, length, head_size), Threads::Caller);
            let scale = 1.0 / (head_size as f32).sqrt();
            let square_values = length * length;
            let rows = probabilities[..square_values].chunks(length).zip(to_probabilities[..square_values].chunks(length));
            simd::widest(#[inline(always)] || {
                for ((p, grad), out) in rows.zip(to_scores[..square_values].chunks_mut(length)) {
                    softmax_grad(p, grad, scale, out);
                }
            });
            // Queries: the scores' gradient · keys. Keys: its transpose · queries.
            let keys = View::rows(geometry.projection(sequence, head, 1), stride);
            product((to_query, View::rows(0, head_size)), false, (to_scores, square), (qkv, keys), (length, head_size, length), Threads::Caller);
            let queries = View::rows(geometry.projection(sequence, head, 0), stride);
            product((to_key, View::rows(0, head_size)), false, (to_scores, View::columns(0, length)), (qkv, queries), (length, head_size, length), Threads::Caller);
        });
        let out = geometry.join_heads(&blocks, 3);
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::super::test_support::{assert_close, random, weighted_sum};
    use super::*;

    /// The real tokens of padded `[batch, length, width]` rows, one sequence after another.
    fn pack(padded: &Tensor, lengths: &[usize]) -> Tensor {
        let sequences: Vec<Tensor> = lengths.iter().enumerate().map(|(index, length)| padded.get(index).unwrap().narrow(0, 0, *length).unwrap()).collect();
        Tensor::cat(&sequences, 0).unwrap()
    }

    #[test]
    fn packed_attention_matches_the_padded_primitive_one_forward_and_backward() {
        let (heads, head_size, length, lengths) = (3, 4, 6, [6, 4, 1]);
        let qkv = random(&[3, length, 3 * heads * head_size], 31);
        let mask = Tensor::new(&[[1f32, 1., 1., 1., 1., 1.], [1., 1., 1., 1., 0., 0.], [1., 0., 0., 0., 0., 0.]], &Device::Cpu).unwrap();
        let bias = mask.affine(1e4, -1e4).unwrap();
        let fused = attention(&pack(qkv.as_tensor(), &lengths), &lengths, heads).unwrap();
        let primitive = pack(&attention_primitive(qkv.as_tensor(), &bias, heads).unwrap(), &lengths);
        assert_eq!(fused.dims(), &[11, heads * head_size]);
        assert_close(&fused, &primitive, "forward");
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 32).backward().unwrap(), weighted_sum(&primitive, 32).backward().unwrap());
        assert_close(fused_grads.get(qkv.as_tensor()).unwrap(), primitive_grads.get(qkv.as_tensor()).unwrap(), "projections");
    }

    #[test]
    fn projections_that_do_not_fit_the_lengths_are_refused() {
        let qkv = random(&[5, 3 * 2 * 4], 33);
        assert!(attention(qkv.as_tensor(), &[2, 2], 2).is_err(), "4 tokens of lengths for 5 rows");
        assert!(attention(qkv.as_tensor(), &[5], 5).is_err(), "24 values are not 3 × 5 heads");
    }
}
