//! A bias added to every row, and the sums of rows that are its gradient.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};

use super::{fusable, last_dim, map_rows, sum_rows, values, OpResult};
use crate::TrainResult;

/// `x + bias` over the last dimension. Its backward pass sums the gradient's rows for the bias
/// in one parallel pass (candle's broadcast addition reduces over the leading dimensions one
/// value at a time, on one thread).
pub fn add_bias(x: &Tensor, bias: &Tensor) -> TrainResult<Tensor> {
    if !fusable(x) {
        return Ok(x.broadcast_add(bias)?);
    }
    Ok(x.contiguous()?.apply_op2(&bias.contiguous()?, AddBias)?)
}

struct AddBias;

impl CustomOp2 for AddBias {
    fn name(&self) -> &'static str {
        "juror-add-bias"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (x, bias) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let width = last_dim(l1)?;
        if bias.len() != width {
            candle_core::bail!("a bias of {} for rows of {width}", bias.len());
        }
        let out = map_rows([x], width, |_, [x], out| out.iter_mut().zip(x).zip(bias).for_each(|((out, x), bias)| *out = x + bias));
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _bias: &Tensor, _res: &Tensor, grad: &Tensor) -> OpResult<(Option<Tensor>, Option<Tensor>)> {
        let to_bias = grad.contiguous()?.apply_op1_no_bwd(&RowSums)?;
        Ok((Some(grad.clone()), Some(to_bias)))
    }
}

/// The sum of a tensor's rows (over every dimension but the last), added in row order.
pub(super) struct RowSums;

impl CustomOp1 for RowSums {
    fn name(&self) -> &'static str {
        "juror-row-sums"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let x = values(storage, layout, self.name())?;
        let width = last_dim(layout)?;
        let sums = sum_rows([x], width, width, |[row], sums| sums.iter_mut().zip(row).for_each(|(sum, value)| *sum += value));
        Ok((CpuStorage::F32(sums), Shape::from(width)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::rows_per_task;
    use super::super::test_support::{assert_close, random, weighted_sum};
    use super::*;

    #[test]
    fn add_bias_matches_the_broadcast_addition_forward_and_backward() {
        let hidden = 24;
        let rows = 2 * rows_per_task(hidden) + 3;
        let (x, bias) = (random(&[rows / 3, 3, hidden], 13), random(&[hidden], 14));
        let (fused, primitive) = (add_bias(x.as_tensor(), bias.as_tensor()).unwrap(), x.as_tensor().broadcast_add(bias.as_tensor()).unwrap());
        assert_close(&fused, &primitive, "forward");
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 15).backward().unwrap(), weighted_sum(&primitive, 15).backward().unwrap());
        for (var, name) in [(&x, "input"), (&bias, "bias")] {
            assert_close(fused_grads.get(var.as_tensor()).unwrap(), primitive_grads.get(var.as_tensor()).unwrap(), name);
        }
    }
}
