//! AdamW (decoupled weight decay) whose moments can be saved and loaded, so that a resumed run
//! takes exactly the steps the uninterrupted one would.
//!
//! On the CPU each parameter's update is two fused passes split over the thread pool, in place:
//! the moments from the gradient (scaled by the clipping factor), then the weights from the
//! moments. Elsewhere the same arithmetic runs as tensor operations, which the tests compare
//! against.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, InplaceOp2, Layout, Tensor, Var};
use rayon::prelude::*;

use crate::{fused, TrainError, TrainResult};

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;
const VALUES_PER_TASK: usize = 32 * 1024;

/// One parameter with its first and second moments, `[2, size]` (f32, on the parameter's device).
struct Param {
    name: String,
    var: Var,
    moments: Tensor,
}

/// AdamW over named parameters, at a learning rate set before each step.
pub struct AdamW {
    params: Vec<Param>,
    weight_decay: f64,
    learning_rate: f64,
}

impl AdamW {
    /// An optimizer of `vars` with zero moments.
    pub fn new(vars: Vec<(String, Var)>, weight_decay: f64) -> TrainResult<Self> {
        let params = vars
            .into_iter()
            .map(|(name, var)| {
                let moments = Tensor::zeros((2, var.elem_count()), DType::F32, var.device())?;
                Ok(Param { name, var, moments })
            })
            .collect::<TrainResult<Vec<_>>>()?;
        Ok(Self { params, weight_decay, learning_rate: 0.0 })
    }

    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    /// The sum of the squares of the gradients of this optimizer's parameters.
    pub fn squared_norm(&self, grads: &GradStore) -> TrainResult<f64> {
        let mut total = 0.0;
        for param in &self.params {
            if let Some(grad) = grads.get(param.var.as_tensor()) {
                total += grad.sqr()?.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            }
        }
        Ok(total)
    }

    /// Step number `step` (counted from 1, for the bias correction) with the gradients multiplied
    /// by `grad_scale` (the clipping factor). Parameters without a gradient stay as they are.
    pub fn step(&mut self, grads: &GradStore, step: usize, grad_scale: f64) -> TrainResult<()> {
        let update = Update::new(self.learning_rate, self.weight_decay, step, grad_scale);
        for param in &self.params {
            let Some(grad) = grads.get(param.var.as_tensor()) else { continue };
            let grad = grad.contiguous()?;
            if param.var.device().is_cpu() && param.var.dtype() == DType::F32 && param.var.is_contiguous() {
                param.moments.inplace_op2(&grad.flatten_all()?, &MomentsUpdate(update))?;
                param.var.as_tensor().inplace_op2(&param.moments, &WeightsUpdate(update))?;
            } else {
                update.with_tensors(param, &grad)?;
            }
        }
        Ok(())
    }

    /// The moments `[2, size]` of each parameter, by name.
    pub fn moments(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.params.iter().map(|param| (param.name.as_str(), &param.moments))
    }

    /// Takes each parameter's moments out of `saved` (as [`AdamW::moments`] gave them); a
    /// parameter missing there, or of another size, is an error.
    pub fn load_moments(&mut self, saved: &mut HashMap<String, Tensor>) -> TrainResult<()> {
        for param in &mut self.params {
            let moments = saved.remove(&param.name).ok_or_else(|| TrainError::Invalid(format!("no optimizer moments for `{}`", param.name)))?;
            if moments.dims() != param.moments.dims() {
                return Err(TrainError::Invalid(format!("the optimizer moments of `{}` are {:?}, not {:?}", param.name, moments.dims(), param.moments.dims())));
            }
            // A copy: the moments change in place at every step.
            param.moments = moments.to_dtype(DType::F32)?.copy()?;
        }
        Ok(())
    }
}

/// The factors of one step.
#[derive(Debug, Clone, Copy)]
struct Update {
    learning_rate: f32,
    /// `1 - learning_rate * weight_decay`, applied to the weights before the step.
    decay: f32,
    grad_scale: f32,
    /// `1 / (1 - beta^step)`, the bias corrections of the two moments.
    first_correction: f32,
    second_correction: f32,
}

impl Update {
    fn new(learning_rate: f64, weight_decay: f64, step: usize, grad_scale: f64) -> Self {
        let step = step.max(1) as i32;
        Self {
            learning_rate: learning_rate as f32,
            decay: (1.0 - learning_rate * weight_decay) as f32,
            grad_scale: grad_scale as f32,
            first_correction: (1.0 / (1.0 - BETA1.powi(step))) as f32,
            second_correction: (1.0 / (1.0 - BETA2.powi(step))) as f32,
        }
    }

    /// The new moments from the old ones and a gradient value.
    #[inline(always)]
    fn moments(&self, first: f32, second: f32, grad: f32) -> (f32, f32) {
        let grad = grad * self.grad_scale;
        (BETA1 as f32 * first + (1.0 - BETA1 as f32) * grad, BETA2 as f32 * second + (1.0 - BETA2 as f32) * grad * grad)
    }

    /// The new weight from the old one and the new moments.
    #[inline(always)]
    fn weight(&self, weight: f32, first: f32, second: f32) -> f32 {
        let step = (first * self.first_correction) / ((second * self.second_correction).sqrt() + EPS as f32);
        weight * self.decay - self.learning_rate * step
    }

    /// The same arithmetic as tensor operations (other devices and dtypes).
    fn with_tensors(&self, param: &Param, grad: &Tensor) -> TrainResult<()> {
        let grad = grad.flatten_all()?.to_dtype(DType::F32)?.affine(f64::from(self.grad_scale), 0.0)?;
        let (first, second) = (param.moments.get(0)?, param.moments.get(1)?);
        let first = ((first * BETA1)? + (&grad * (1.0 - BETA1))?)?;
        let second = ((second * BETA2)? + (grad.sqr()? * (1.0 - BETA2))?)?;
        let step = ((&first * f64::from(self.first_correction))? / ((&second * f64::from(self.second_correction))?.sqrt()? + EPS)?)?;
        let weight = param.var.as_tensor().flatten_all()?.to_dtype(DType::F32)?;
        let weight = ((weight * f64::from(self.decay))? - (step * f64::from(self.learning_rate))?)?;
        param.var.set(&weight.reshape(param.var.shape())?.to_dtype(param.var.dtype())?)?;
        param.moments.slice_set(&Tensor::stack(&[first, second], 0)?, 0, 0)?;
        Ok(())
    }
}

fn f32_values_mut<'a>(storage: &'a mut CpuStorage, layout: &Layout, op: &str) -> candle_core::Result<&'a mut [f32]> {
    match (storage, layout.contiguous_offsets()) {
        (CpuStorage::F32(values), Some((start, end))) => Ok(&mut values[start..end]),
        _ => candle_core::bail!("{op} needs a contiguous f32 tensor"),
    }
}

/// Moments `[2, size]` updated in place from a gradient `[size]`.
struct MomentsUpdate(Update);

impl InplaceOp2 for MomentsUpdate {
    fn name(&self) -> &'static str {
        "juror-adamw-moments"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, dst_l: &Layout, source: &CpuStorage, source_l: &Layout) -> candle_core::Result<()> {
        let grad = fused::values(source, source_l, self.name())?;
        let moments = f32_values_mut(dst, dst_l, self.name())?;
        if moments.len() != 2 * grad.len() {
            candle_core::bail!("{}: {} moments for {} gradient values", self.name(), moments.len(), grad.len());
        }
        let (first, second) = moments.split_at_mut(grad.len());
        first.par_chunks_mut(VALUES_PER_TASK).zip(second.par_chunks_mut(VALUES_PER_TASK)).zip(grad.par_chunks(VALUES_PER_TASK)).for_each(|((first, second), grad)| {
            fused::widest(
                #[inline(always)]
                || {
                    for ((first, second), grad) in first.iter_mut().zip(second.iter_mut()).zip(grad) {
                        (*first, *second) = self.0.moments(*first, *second, *grad);
                    }
                },
            )
        });
        Ok(())
    }

}

/// Weights updated in place from their new moments `[2, size]`.
struct WeightsUpdate(Update);

impl InplaceOp2 for WeightsUpdate {
    fn name(&self) -> &'static str {
        "juror-adamw-weights"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, dst_l: &Layout, source: &CpuStorage, source_l: &Layout) -> candle_core::Result<()> {
        let moments = fused::values(source, source_l, self.name())?;
        let weights = f32_values_mut(dst, dst_l, self.name())?;
        if moments.len() != 2 * weights.len() {
            candle_core::bail!("{}: {} moments for {} weights", self.name(), moments.len(), weights.len());
        }
        let (first, second) = moments.split_at(weights.len());
        weights.par_chunks_mut(VALUES_PER_TASK).zip(first.par_chunks(VALUES_PER_TASK)).zip(second.par_chunks(VALUES_PER_TASK)).for_each(|((weights, first), second)| {
            fused::widest(
                #[inline(always)]
                || {
                    for ((weight, first), second) in weights.iter_mut().zip(first).zip(second) {
                        *weight = self.0.weight(*weight, *first, *second);
                    }
                },
            )
        });
        Ok(())
    }

}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn var(values: &[f32]) -> Var {
        Var::new(values, &Device::Cpu).unwrap()
    }

    fn values(var: &Var) -> Vec<f32> {
        var.as_tensor().flatten_all().unwrap().to_vec1().unwrap()
    }

    /// A few steps of a quadratic loss, fused and with tensor operations, from the same start.
    #[test]
    fn the_fused_update_matches_the_tensor_one_and_candles_adamw() {
        let start: Vec<f32> = (0..50).map(|index| (index as f32 * 0.37).sin()).collect();
        let (fused, plain) = (var(&start), var(&start));
        let mut optimizer = AdamW::new(vec![("w".into(), fused.clone())], 0.01).unwrap();
        let reference = var(&start);
        let mut candle = <candle_nn::AdamW as candle_nn::Optimizer>::new(vec![reference.clone()], candle_nn::ParamsAdamW { lr: 0.05, weight_decay: 0.01, ..Default::default() }).unwrap();
        let plain_param = Param { name: "w".into(), var: plain.clone(), moments: Tensor::zeros((2, start.len()), DType::F32, &Device::Cpu).unwrap() };
        optimizer.set_learning_rate(0.05);
        for step in 1..=5 {
            let loss = |var: &Var| var.as_tensor().sqr().unwrap().sum_all().unwrap();
            optimizer.step(&loss(&fused).backward().unwrap(), step, 1.0).unwrap();
            let grads = loss(&plain).backward().unwrap();
            Update::new(0.05, 0.01, step, 1.0).with_tensors(&plain_param, grads.get(plain.as_tensor()).unwrap()).unwrap();
            candle_nn::Optimizer::step(&mut candle, &loss(&reference).backward().unwrap()).unwrap();
        }
        for (name, other) in [("tensor operations", &plain), ("candle's AdamW", &reference)] {
            for (fused, other) in values(&fused).iter().zip(values(other)) {
                assert!((fused - other).abs() < 1e-5, "{name}: {fused} vs {other}");
            }
        }
        let squares = |values: &[f32]| values.iter().map(|value| value * value).sum::<f32>();
        assert!(squares(&values(&fused)) < 0.8 * squares(&start), "the loss went down");
    }

    #[test]
    fn the_clipping_factor_scales_the_gradient_and_saved_moments_load_back() {
        let (scaled, halved) = (var(&[1.0, -2.0, 3.0]), var(&[1.0, -2.0, 3.0]));
        let mut first = AdamW::new(vec![("w".into(), scaled.clone())], 0.01).unwrap();
        let mut second = AdamW::new(vec![("w".into(), halved.clone())], 0.01).unwrap();
        first.set_learning_rate(0.1);
        second.set_learning_rate(0.1);
        let grads = |var: &Var, factor: f64| (var.as_tensor().sqr().unwrap().sum_all().unwrap() * factor).unwrap().backward().unwrap();
        first.step(&grads(&scaled, 1.0), 1, 0.5).unwrap();
        second.step(&grads(&halved, 0.5), 1, 1.0).unwrap();
        let mut saved: HashMap<String, Tensor> = second.moments().map(|(name, moments)| (name.to_owned(), moments.copy().unwrap())).collect();
        let mut loaded = AdamW::new(vec![("w".into(), halved.clone())], 0.01).unwrap();
        loaded.load_moments(&mut saved.clone()).unwrap();
        loaded.set_learning_rate(0.1);
        first.step(&grads(&scaled, 1.0), 2, 0.5).unwrap();
        loaded.step(&grads(&halved, 0.5), 2, 1.0).unwrap();
        for (scaled, halved) in values(&scaled).iter().zip(values(&halved)) {
            assert!((scaled - halved).abs() < 1e-7, "scaling by the clipping factor is scaling the gradient, and the moments carry over: {scaled} vs {halved}");
        }
        let fresh = var(&[1.0, -2.0, 3.0]);
        let mut restarted = AdamW::new(vec![("w".into(), fresh.clone())], 0.01).unwrap();
        restarted.set_learning_rate(0.1);
        restarted.step(&grads(&fresh, 1.0), 1, 0.5).unwrap();
        restarted.step(&grads(&fresh, 1.0), 1, 0.5).unwrap();
        assert_ne!(values(&fresh), values(&scaled), "without the moments the second step differs");
        let other = AdamW::new(vec![("v".into(), var(&[0.0]))], 0.0).unwrap().load_moments(&mut saved).err().unwrap().to_string();
        assert!(other.contains("no optimizer moments for `v`"), "{other}");
    }
}
