//! Layer normalisation over the last dimension, and its gradients for the input, the weight and
//! the bias.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor, D};

use super::{fusable, last_dim, map_rows, math, sum_rows, update_rows, values, OpResult};
use crate::TrainResult;

/// `(x - mean) / sqrt(var + eps) * weight + bias` over the last dimension.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> TrainResult<Tensor> {
    if !fusable(x) {
        return layer_norm_primitive(x, weight, bias, eps);
    }
    Ok(x.contiguous()?.apply_op3(&weight.contiguous()?, &bias.contiguous()?, LayerNorm { eps: eps as f32 })?)
}

/// The same from candle's primitive operations (other devices, and the tests' reference).
pub fn layer_norm_primitive(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> TrainResult<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centered = x.broadcast_sub(&mean)?;
    let variance = centered.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = centered.broadcast_div(&variance.affine(1.0, eps)?.sqrt()?)?;
    Ok(normed.broadcast_mul(weight)?.broadcast_add(bias)?)
}

/// A row's mean and reciprocal standard deviation.
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let count = row.len() as f32;
    let mean = math::sum(row) / count;
    let variance = math::squared_deviations(row, mean) / count;
    (mean, 1.0 / (variance + eps).sqrt())
}

/// A row replaced by its normalisation, `(x - mean) * rstd * weight + bias`.
#[inline(always)]
fn normalize_row(row: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let (mean, rstd) = moments(row, eps);
    for ((value, weight), bias) in row.iter_mut().zip(weight).zip(bias) {
        *value = (*value - mean) * rstd * weight + bias;
    }
}

/// Each row of `rows` (of `weight.len()` values) replaced by the normalisation of itself plus
/// `shift` (the same for every row: the bias of the dense layer that wrote `rows`) plus the same
/// row of `residual`, where they are given: what follows each of a BERT layer's blocks, in one
/// pass and in place.
pub(crate) fn normalize_in_place(rows: &mut [f32], shift: Option<&[f32]>, residual: Option<&[f32]>, weight: &[f32], bias: &[f32], eps: f32) {
    let width = weight.len();
    update_rows(rows, width, #[inline(always)] |index, row| {
        if let Some(shift) = shift {
            for (value, shift) in row.iter_mut().zip(shift) {
                *value += shift;
            }
        }
        if let Some(residual) = residual {
            for (value, residual) in row.iter_mut().zip(&residual[index * width..][..width]) {
                *value += residual;
            }
        }
        normalize_row(row, weight, bias, eps);
    });
}

struct LayerNorm {
    eps: f32,
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "juror-layer-norm"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (x, weight, bias) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?, values(s3, l3, self.name())?);
        let hidden = last_dim(l1)?;
        if weight.len() != hidden || bias.len() != hidden {
            candle_core::bail!("layer norm over {hidden} values with a weight of {} and a bias of {}", weight.len(), bias.len());
        }
        let out = map_rows([x], hidden, #[inline(always)] |_, [x], out| {
            out.copy_from_slice(x);
            normalize_row(out, weight, bias, self.eps);
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, weight: &Tensor, _bias: &Tensor, _res: &Tensor, grad: &Tensor) -> OpResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let to_input = x.apply_op3_no_bwd(weight, &grad, &LayerNormInputGrad { eps: self.eps })?;
        let to_params = x.apply_op2_no_bwd(&grad, &LayerNormParamGrads { eps: self.eps })?;
        Ok((Some(to_input), Some(to_params.get(0)?), Some(to_params.get(1)?)))
    }
}

/// The gradient reaching a layer norm's input: with `n` the normalised input and `h = grad *
/// weight`, `rstd * (h - mean(h) - n * mean(h * n))` per row.
struct LayerNormInputGrad {
    eps: f32,
}

impl CustomOp3 for LayerNormInputGrad {
    fn name(&self) -> &'static str {
        "juror-layer-norm-input-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (x, weight, grad) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?, values(s3, l3, self.name())?);
        let hidden = last_dim(l1)?;
        let out = map_rows([x, grad], hidden, #[inline(always)] |_, [x, grad], out| {
            let (mean, rstd) = moments(x, self.eps);
            let (sum_h, sum_hn) = (math::dot(grad, weight), math::dot_centered(grad, weight, x, mean) * rstd);
            let (mean_h, mean_hn) = (sum_h / hidden as f32, sum_hn / hidden as f32);
            for (((out, x), grad), weight) in out.iter_mut().zip(x).zip(grad).zip(weight) {
                let normed = (x - mean) * rstd;
                *out = rstd * (grad * weight - mean_h - normed * mean_hn);
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// The gradients of a layer norm's weight and bias, `[2, hidden]`: the sums over rows of `grad *
/// normalised input` and of `grad`.
struct LayerNormParamGrads {
    eps: f32,
}

impl CustomOp2 for LayerNormParamGrads {
    fn name(&self) -> &'static str {
        "juror-layer-norm-param-grads"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (x, grad) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let hidden = last_dim(l1)?;
        let sums = sum_rows([x, grad], hidden, 2 * hidden, #[inline(always)] |[x, grad], sums| {
            let (mean, rstd) = moments(x, self.eps);
            let (to_weight, to_bias) = sums.split_at_mut(hidden);
            for (((to_weight, to_bias), x), grad) in to_weight.iter_mut().zip(to_bias.iter_mut()).zip(x).zip(grad) {
                *to_weight += grad * (x - mean) * rstd;
                *to_bias += grad;
            }
        });
        Ok((CpuStorage::F32(sums), Shape::from((2, hidden))))
    }
}

#[cfg(test)]
mod tests {
    use super::super::rows_per_task;
    use super::super::test_support::{assert_close, random, weighted_sum};
    use super::*;
    #[test]
    fn layer_norm_matches_the_primitive_one_forward_and_backward() {
        // 70 rows of 48: several tasks of rows, so the parameter gradients are summed across them.
        let (x, weight, bias) = (random(&[5, 14, 48], 1), random(&[48], 2), random(&[48], 3));
        let fused = layer_norm(x.as_tensor(), weight.as_tensor(), bias.as_tensor(), 1e-12).unwrap();
        let primitive = layer_norm_primitive(x.as_tensor(), weight.as_tensor(), bias.as_tensor(), 1e-12).unwrap();
        assert_close(&fused, &primitive, "forward");
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 4).backward().unwrap(), weighted_sum(&primitive, 4).backward().unwrap());
        for (var, name) in [(&x, "input"), (&weight, "weight"), (&bias, "bias")] {
            assert_close(fused_grads.get(var.as_tensor()).unwrap(), primitive_grads.get(var.as_tensor()).unwrap(), name);
        }
    }

    #[test]
    fn layer_norm_parameter_gradients_sum_over_every_task_of_rows() {
        // More rows than one task holds: the partial sums of several tasks must all be added.
        let hidden = 8;
        let rows = 3 * rows_per_task(hidden) + 5;
        let (x, weight, bias) = (random(&[rows, hidden], 5), random(&[hidden], 6), random(&[hidden], 7));
        let fused = layer_norm(x.as_tensor(), weight.as_tensor(), bias.as_tensor(), 1e-5).unwrap();
        let primitive = layer_norm_primitive(x.as_tensor(), weight.as_tensor(), bias.as_tensor(), 1e-5).unwrap();
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 8).backward().unwrap(), weighted_sum(&primitive, 8).backward().unwrap());
        assert_close(fused_grads.get(weight.as_tensor()).unwrap(), primitive_grads.get(weight.as_tensor()).unwrap(), "weight");
        assert_close(fused_grads.get(bias.as_tensor()).unwrap(), primitive_grads.get(bias.as_tensor()).unwrap(), "bias");
    }
}
