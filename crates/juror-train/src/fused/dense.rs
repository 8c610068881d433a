//! A dense layer, `x · weightᵀ + bias`, as one operation with its three gradients.
//!
//! Built from candle's primitives it is a reshape, a transpose, a product, a bias and another
//! reshape, and every one of them costs the backward pass a zeroed tensor and an addition; here
//! it is one product forward (onto rows that start as the bias) and two products and a row sum
//! backward.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Shape, Tensor, D};
use rayon::prelude::*;

use super::product::{product, Threads, View};
use super::{fusable, last_dim, sum_rows, values, zeroed, OpResult};
use crate::TrainResult;

/// `x · weightᵀ + bias` over the last dimension of `x`, whatever dimensions lead; `weight` is
/// `[out, in]` and `bias` `[out]`, as BERT checkpoints hold them.
pub fn dense(x: &Tensor, weight: &Tensor, bias: &Tensor) -> TrainResult<Tensor> {
    if !fusable(x) {
        return dense_primitive(x, weight, bias);
    }
    Ok(x.contiguous()?.apply_op3(&weight.contiguous()?, &bias.contiguous()?, Dense)?)
}

/// The same from candle's primitive operations (other devices, and the tests' reference).
pub fn dense_primitive(x: &Tensor, weight: &Tensor, bias: &Tensor) -> TrainResult<Tensor> {
    let rows = x.contiguous()?.flatten_to(D::Minus2)?;
    let product = rows.matmul(&weight.t()?)?.broadcast_add(bias)?;
    Ok(product.reshape(with_last(x.dims(), weight.dim(0)?))?)
}

/// `dims` with `last` for the last one.
fn with_last(dims: &[usize], last: usize) -> Vec<usize> {
    let mut dims = dims.to_vec();
    if let Some(end) = dims.last_mut() {
        *end = last;
    }
    dims
}

/// `x · weightᵀ + bias` into `out`, whatever it held: `x` is rows of `input` values, `weight`
/// `[bias.len(), input]`, and `out` as many rows of `bias.len()` values.
pub(crate) fn dense_into(x: &[f32], weight: &[f32], bias: &[f32], out: &mut [f32]) {
    out.par_chunks_mut(bias.len().max(1)).for_each(|row| row.copy_from_slice(bias));
    weighted_into(x, weight, bias.len(), true, out);
}

/// `x · weightᵀ` into `out`, whatever it held, for a caller that adds the bias in its next pass
/// over the rows: `weight` is `[width, input]`.
pub(crate) fn unbiased_into(x: &[f32], weight: &[f32], width: usize, out: &mut [f32]) {
    weighted_into(x, weight, width, false, out);
}

/// `x · weightᵀ`, added to `out` when `accumulate`.
fn weighted_into(x: &[f32], weight: &[f32], width: usize, accumulate: bool, out: &mut [f32]) {
    let input = weight.len() / width.max(1);
    let rows = x.len() / input.max(1);
    product((out, View::rows(0, width)), accumulate, (x, View::rows(0, input)), (weight, View::columns(0, input)), (rows, width, input), Threads::Pool);
}

/// `[out, in]` of a weight's layout.
fn weight_dims(layout: &Layout) -> OpResult<(usize, usize)> {
    match layout.shape().dims() {
        [out, input] => Ok((*out, *input)),
        dims => candle_core::bail!("a dense weight of shape {dims:?}"),
    }
}

struct Dense;

impl CustomOp3 for Dense {
    fn name(&self) -> &'static str {
        "juror-dense"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (x, weight, bias) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?, values(s3, l3, self.name())?);
        let (out, input) = weight_dims(l2)?;
        if last_dim(l1)? != input || bias.len() != out {
            candle_core::bail!("a dense layer {out}×{input} (bias {}) on rows of {}", bias.len(), last_dim(l1)?);
        }
        let mut result = zeroed(x.len() / input * out);
        dense_into(x, weight, bias, &mut result);
        Ok((CpuStorage::F32(result), Shape::from(with_last(l1.shape().dims(), out))))
    }

    fn bwd(&self, x: &Tensor, weight: &Tensor, _bias: &Tensor, _res: &Tensor, grad: &Tensor) -> OpResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let to_input = grad.apply_op2_no_bwd(weight, &InputGrad)?;
        let to_weight = grad.apply_op2_no_bwd(x, &WeightGrad)?;
        let to_bias = grad.apply_op1_no_bwd(&RowSums)?;
        Ok((Some(to_input), Some(to_weight), Some(to_bias)))
    }
}

/// The gradient reaching the input: `grad · weight`, the input's shape.
struct InputGrad;

impl CustomOp2 for InputGrad {
    fn name(&self) -> &'static str {
        "juror-dense-input-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (grad, weight) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let (out, input) = weight_dims(l2)?;
        let rows = grad.len() / out.max(1);
        let mut result = zeroed(rows * input);
        product((&mut result, View::rows(0, input)), false, (grad, View::rows(0, out)), (weight, View::rows(0, input)), (rows, input, out), Threads::Pool);
        Ok((CpuStorage::F32(result), Shape::from(with_last(l1.shape().dims(), input))))
    }
}

/// The gradient reaching the weight: `gradᵀ · x`, summed over every row.
struct WeightGrad;

impl CustomOp2 for WeightGrad {
    fn name(&self) -> &'static str {
        "juror-dense-weight-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (grad, x) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let (out, input) = (last_dim(l1)?, last_dim(l2)?);
        let rows = grad.len() / out;
        let mut result = zeroed(out * input);
        product((&mut result, View::rows(0, input)), false, (grad, View::columns(0, out)), (x, View::rows(0, input)), (out, input, rows), Threads::Pool);
        Ok((CpuStorage::F32(result), Shape::from((out, input))))
    }
}

/// The gradient reaching the bias: the sum of the gradient's rows (over every dimension but the
/// last), added in row order, in parallel.
struct RowSums;

impl CustomOp1 for RowSums {
    fn name(&self) -> &'static str {
        "juror-row-sums"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let x = values(storage, layout, self.name())?;
        let width = last_dim(layout)?;
        let sums = sum_rows([x], width, width, #[inline(always)] |[row], sums| sums.iter_mut().zip(row).for_each(|(sum, value)| *sum += value));
        Ok((CpuStorage::F32(sums), Shape::from(width)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_close, random, weighted_sum};
    use super::*;

    #[test]
    fn dense_matches_the_primitive_product_forward_and_backward() {
        // Enough rows that the bias's gradient is summed by several tasks.
        let rows = 2 * super::super::rows_per_task(12) + 3;
        let (x, weight, bias) = (random(&[rows, 3, 12], 21), random(&[5, 12], 22), random(&[5], 23));
        let fused = dense(x.as_tensor(), weight.as_tensor(), bias.as_tensor()).unwrap();
        let primitive = dense_primitive(x.as_tensor(), weight.as_tensor(), bias.as_tensor()).unwrap();
        assert_eq!(fused.dims(), &[rows, 3, 5]);
        assert_close(&fused, &primitive, "forward");
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 24).backward().unwrap(), weighted_sum(&primitive, 24).backward().unwrap());
        for (var, name) in [(&x, "input"), (&weight, "weight"), (&bias, "bias")] {
            assert_close(fused_grads.get(var.as_tensor()).unwrap(), primitive_grads.get(var.as_tensor()).unwrap(), name);
        }
    }
}
