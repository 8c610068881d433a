//! The exact GELU, `x * Φ(x)`, and its gradient.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};

use super::{fusable, map_rows, map_values, math::normal_cdf_and_density, update_rows, values, OpResult, VALUES_PER_TASK};
use crate::TrainResult;

/// The exact GELU, `x * Φ(x)` with `Φ` the standard normal distribution function.
pub fn gelu(x: &Tensor) -> TrainResult<Tensor> {
    if !fusable(x) {
        return Ok(x.gelu_erf()?);
    }
    Ok(x.contiguous()?.apply_op1(Gelu)?)
}

#[inline(always)]
fn exact_gelu(x: f32) -> f32 {
    x * normal_cdf_and_density(x).0
}

/// Each row of `x` (of `bias.len()` values) replaced by the exact GELU of itself plus `bias`,
/// in place.
pub(crate) fn gelu_in_place(x: &mut [f32], bias: &[f32]) {
    update_rows(x, bias.len(), #[inline(always)] |_, row| {
        for (value, bias) in row.iter_mut().zip(bias) {
            *value = exact_gelu(*value + bias);
        }
    });
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "juror-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let out = map_values(values(storage, layout, self.name())?, exact_gelu);
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> OpResult<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&grad.contiguous()?, &GeluGrad)?))
    }
}

/// `grad * (Φ(x) + x φ(x))`, the gradient reaching the exact GELU's input.
struct GeluGrad;

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "juror-gelu-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let (x, grad) = (values(s1, l1, self.name())?, values(s2, l2, self.name())?);
        let out = map_rows([x, grad], VALUES_PER_TASK, #[inline(always)] |_, [x, grad], out| {
            for ((out, x), grad) in out.iter_mut().zip(x).zip(grad) {
                let (cdf, density) = normal_cdf_and_density(*x);
                *out = grad * (cdf + x * density);
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_close, random, weighted_sum};
    use super::*;

    #[test]
    fn gelu_matches_the_primitive_one_forward_and_backward() {
        let x = random(&[3, 7, 40], 11);
        let (fused, primitive) = (gelu(x.as_tensor()).unwrap(), x.as_tensor().gelu_erf().unwrap());
        assert_close(&fused, &primitive, "forward");
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 12).backward().unwrap(), weighted_sum(&primitive, 12).backward().unwrap());
        assert_close(fused_grads.get(x.as_tensor()).unwrap(), primitive_grads.get(x.as_tensor()).unwrap(), "input");
    }
}
