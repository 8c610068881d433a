//! The attention softmax, scaled and masked, over the last dimension, and its gradient.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor, D};

use super::{fusable, last_dim, map_rows, math, values, OpResult};
use crate::TrainResult;

/// `softmax(scores * scale + bias)` over the last dimension, where `scores` is `[batch, heads,
/// queries, keys]` and `bias` is `[batch, keys]` (large and negative at padding). No gradient
/// reaches `bias`.
pub fn masked_softmax(scores: &Tensor, bias: &Tensor, scale: f64) -> TrainResult<Tensor> {
    if !fusable(scores) {
        return masked_softmax_primitive(scores, bias, scale);
    }
    Ok(scores.contiguous()?.apply_op2(&bias.detach().contiguous()?, MaskedSoftmax { scale: scale as f32 })?)
}

/// The same from candle's primitive operations (other devices, and the tests' reference).
pub fn masked_softmax_primitive(scores: &Tensor, bias: &Tensor, scale: f64) -> TrainResult<Tensor> {
    let biased = scores.affine(scale, 0.0)?.broadcast_add(&bias.unsqueeze(1)?.unsqueeze(1)?)?;
    Ok(candle_nn::ops::softmax(&biased, D::Minus1)?)
}

/// A row of scores replaced by `softmax(scores * scale + bias)`.
pub(super) fn softmax_in_place(row: &mut [f32], bias: &[f32], scale: f32) {
    for (value, bias) in row.iter_mut().zip(bias) {
        *value = *value * scale + bias;
    }
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    // Apart, so that the exponentials are vectorised; the sum then runs in order.
    row.iter_mut().for_each(|value| *value = math::exp(*value - max));
    let sum: f32 = row.iter().sum();
    row.iter_mut().for_each(|value| *value /= sum);
}

/// The gradient reaching a row of scaled scores from the gradient of its softmax `probabilities`:
/// `scale * p * (grad - sum(grad * p))`.
pub(super) fn softmax_grad(probabilities: &[f32], grad: &[f32], scale: f32, out: &mut [f32]) {
    let dot: f32 = probabilities.iter().zip(grad).map(|(p, grad)| p * grad).sum();
    for ((out, p), grad) in out.iter_mut().zip(probabilities).zip(grad) {
        *out = scale * p * (grad - dot);
    }
}

struct MaskedSoftmax {
    scale: f32,
}

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "juror-masked-softmax"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (scores, bias) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let keys = last_dim(l1)?;
        let batch = l1.shape().dims().first().copied().unwrap_or(1).max(1);
        if bias.len() != batch * keys || !scores.len().is_multiple_of(batch * keys) {
            candle_core::bail!("attention scores {:?} do not fit a mask of {:?}", l1.shape(), l2.shape());
        }
        let rows_per_sequence = scores.len() / (batch * keys);
        let out = map_rows([scores], keys, |row, [scores], out| {
            let sequence = row / rows_per_sequence;
            out.copy_from_slice(scores);
            softmax_in_place(out, &bias[sequence * keys..(sequence + 1) * keys], self.scale);
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(&self, _scores: &Tensor, _bias: &Tensor, res: &Tensor, grad: &Tensor) -> OpResult<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(res.apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxGrad { scale: self.scale })?), None))
    }
}

/// The gradient reaching a scaled softmax's input from its output `y`: `scale * y * (grad -
/// sum(grad * y))` per row.
struct SoftmaxGrad {
    scale: f32,
}

impl CustomOp2 for SoftmaxGrad {
    fn name(&self) -> &'static str {
        "juror-softmax-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (res, grad) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let keys = last_dim(l1)?;
        let out = map_rows([res, grad], keys, |_, [res, grad], out| softmax_grad(res, grad, self.scale, out));
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::super::test_support::{assert_close, random, weighted_sum};
    use super::*;

    #[test]
    fn masked_softmax_matches_the_primitive_one_and_ignores_padding() {
        let scores = random(&[3, 2, 5, 5], 9);
        let mask = Tensor::new(&[[1f32, 1., 1., 1., 1.], [1., 1., 1., 0., 0.], [1., 0., 0., 0., 0.]], &Device::Cpu).unwrap();
        let bias = mask.affine(1e4, -1e4).unwrap();
        let fused = masked_softmax(scores.as_tensor(), &bias, 0.5).unwrap();
        let primitive = masked_softmax_primitive(scores.as_tensor(), &bias, 0.5).unwrap();
        assert_close(&fused, &primitive, "forward");
        let second: Vec<f32> = fused.get(1).unwrap().get(0).unwrap().get(2).unwrap().to_vec1().unwrap();
        assert!(second[3] < 1e-6 && second[4] < 1e-6 && (second.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{second:?}");
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 10).backward().unwrap(), weighted_sum(&primitive, 10).backward().unwrap());
        assert_close(fused_grads.get(scores.as_tensor()).unwrap(), primitive_grads.get(scores.as_tensor()).unwrap(), "scores");
    }
}
