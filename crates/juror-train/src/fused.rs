//! Fused CPU kernels with hand-written backward passes, for the operations that dominate a
//! training step outside the matrix products: layer normalisation, the attention softmax (scaled
//! and masked), the exact GELU, and a linear layer's bias.
//!
//! Built from candle's primitive operations, each of these is several full passes over memory
//! forward and more backward, each pass a fresh tensor and a single thread. Here each is one pass
//! forward and one or two backward, split by rows over the thread pool. On other devices or
//! dtypes the same functions fall back to primitive (differentiable) operations, which are also
//! what the tests compare against.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Shape, Tensor, D};
use rayon::prelude::*;

use crate::TrainResult;

type OpResult<T> = candle_core::Result<T>;

/// Rows of this many values or fewer are handed to threads in groups, so that a task is not
/// smaller than the cost of scheduling it.
const VALUES_PER_TASK: usize = 16 * 1024;

fn rows_per_task(row: usize) -> usize {
    (VALUES_PER_TASK / row.max(1)).max(1)
}

/// Whether the fused kernels apply to `x`: f32 on the CPU.
fn fusable(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// The values of a contiguous f32 tensor's storage.
pub(crate) fn values<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> OpResult<&'a [f32]> {
    let data = storage.as_slice::<f32>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op} needs a contiguous input"),
    }
}

fn last_dim(layout: &Layout) -> OpResult<usize> {
    Ok(layout.shape().dims().last().copied().unwrap_or(1).max(1))
}

/// The element-wise sum of the threads' partial sums, added in order, so that a step's gradients
/// do not depend on how the thread pool split the work.
fn sum_in_order(parts: Vec<Vec<f32>>, width: usize) -> Vec<f32> {
    parts
        .into_iter()
        .reduce(|mut total, part| {
            total.iter_mut().zip(&part).for_each(|(total, part)| *total += part);
            total
        })
        .unwrap_or_else(|| vec![0f32; width])
}

// ---------------------------------------------------------------------------------------------
// Layer normalisation

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
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let count = row.len() as f32;
    let mean = row.iter().sum::<f32>() / count;
    let variance = row.iter().map(|value| (value - mean) * (value - mean)).sum::<f32>() / count;
    (mean, 1.0 / (variance + eps).sqrt())
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
        let mut out = vec![0f32; x.len()];
        let chunk = rows_per_task(hidden) * hidden;
        out.par_chunks_mut(chunk).zip(x.par_chunks(chunk)).for_each(|(out, x)| {
            for (out, x) in out.chunks_mut(hidden).zip(x.chunks(hidden)) {
                let (mean, rstd) = moments(x, self.eps);
                for (((out, x), weight), bias) in out.iter_mut().zip(x).zip(weight).zip(bias) {
                    *out = (x - mean) * rstd * weight + bias;
                }
            }
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
        let mut out = vec![0f32; x.len()];
        let chunk = rows_per_task(hidden) * hidden;
        out.par_chunks_mut(chunk).zip(x.par_chunks(chunk)).zip(grad.par_chunks(chunk)).for_each(|((out, x), grad)| {
            for ((out, x), grad) in out.chunks_mut(hidden).zip(x.chunks(hidden)).zip(grad.chunks(hidden)) {
                let (mean, rstd) = moments(x, self.eps);
                let (mut sum_h, mut sum_hn) = (0f32, 0f32);
                for ((x, grad), weight) in x.iter().zip(grad).zip(weight) {
                    let h = grad * weight;
                    sum_h += h;
                    sum_hn += h * (x - mean) * rstd;
                }
                let (mean_h, mean_hn) = (sum_h / hidden as f32, sum_hn / hidden as f32);
                for (((out, x), grad), weight) in out.iter_mut().zip(x).zip(grad).zip(weight) {
                    let normed = (x - mean) * rstd;
                    *out = rstd * (grad * weight - mean_h - normed * mean_hn);
                }
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
        let chunk = rows_per_task(hidden) * hidden;
        let sums = x
            .par_chunks(chunk)
            .zip(grad.par_chunks(chunk))
            .map(|(x, grad)| {
                let mut sums = vec![0f32; 2 * hidden];
                let (to_weight, to_bias) = sums.split_at_mut(hidden);
                for (x, grad) in x.chunks(hidden).zip(grad.chunks(hidden)) {
                    let (mean, rstd) = moments(x, self.eps);
                    for (((to_weight, to_bias), x), grad) in to_weight.iter_mut().zip(to_bias.iter_mut()).zip(x).zip(grad) {
                        *to_weight += grad * (x - mean) * rstd;
                        *to_bias += grad;
                    }
                }
                sums
            })
            .collect::<Vec<_>>();
        Ok((CpuStorage::F32(sum_in_order(sums, 2 * hidden)), Shape::from((2, hidden))))
    }
}

// ---------------------------------------------------------------------------------------------
// Attention softmax

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
        let mut out = vec![0f32; scores.len()];
        let chunk = rows_per_task(keys) * keys;
        out.par_chunks_mut(chunk).zip(scores.par_chunks(chunk)).enumerate().for_each(|(task, (out, scores))| {
            let first_row = task * (chunk / keys);
            for (offset, (out, scores)) in out.chunks_mut(keys).zip(scores.chunks(keys)).enumerate() {
                let sequence = (first_row + offset) / rows_per_sequence;
                let bias = &bias[sequence * keys..(sequence + 1) * keys];
                let mut max = f32::NEG_INFINITY;
                for ((out, score), bias) in out.iter_mut().zip(scores).zip(bias) {
                    *out = score * self.scale + bias;
                    max = max.max(*out);
                }
                let mut sum = 0f32;
                for out in out.iter_mut() {
                    *out = (*out - max).exp();
                    sum += *out;
                }
                out.iter_mut().for_each(|out| *out /= sum);
            }
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
        let mut out = vec![0f32; res.len()];
        let chunk = rows_per_task(keys) * keys;
        out.par_chunks_mut(chunk).zip(res.par_chunks(chunk)).zip(grad.par_chunks(chunk)).for_each(|((out, res), grad)| {
            for ((out, res), grad) in out.chunks_mut(keys).zip(res.chunks(keys)).zip(grad.chunks(keys)) {
                let dot: f32 = res.iter().zip(grad).map(|(res, grad)| res * grad).sum();
                for ((out, res), grad) in out.iter_mut().zip(res).zip(grad) {
                    *out = self.scale * res * (grad - dot);
                }
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

// ---------------------------------------------------------------------------------------------
// Bias

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
        let mut out = vec![0f32; x.len()];
        let chunk = rows_per_task(width) * width;
        out.par_chunks_mut(chunk).zip(x.par_chunks(chunk)).for_each(|(out, x)| {
            for (out, x) in out.chunks_mut(width).zip(x.chunks(width)) {
                out.iter_mut().zip(x).zip(bias).for_each(|((out, x), bias)| *out = x + bias);
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _bias: &Tensor, _res: &Tensor, grad: &Tensor) -> OpResult<(Option<Tensor>, Option<Tensor>)> {
        let to_bias = grad.contiguous()?.apply_op1_no_bwd(&RowSums)?;
        Ok((Some(grad.clone()), Some(to_bias)))
    }
}

/// The sum of a tensor's rows (over every dimension but the last), added in row order.
struct RowSums;

impl CustomOp1 for RowSums {
    fn name(&self) -> &'static str {
        "juror-row-sums"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> OpResult<(CpuStorage, Shape)> {
        let x = values(storage, layout, self.name())?;
        let width = last_dim(layout)?;
        let chunk = rows_per_task(width) * width;
        let parts = x
            .par_chunks(chunk)
            .map(|rows| {
                let mut sums = vec![0f32; width];
                for row in rows.chunks(width) {
                    sums.iter_mut().zip(row).for_each(|(sum, value)| *sum += value);
                }
                sums
            })
            .collect::<Vec<_>>();
        Ok((CpuStorage::F32(sum_in_order(parts, width)), Shape::from(width)))
    }
}

// ---------------------------------------------------------------------------------------------
// GELU

/// The exact GELU, `x * Φ(x)` with `Φ` the standard normal distribution function.
pub fn gelu(x: &Tensor) -> TrainResult<Tensor> {
    if !fusable(x) {
        return Ok(x.gelu_erf()?);
    }
    Ok(x.contiguous()?.apply_op1(Gelu)?)
}

/// `1 / sqrt(2 pi)`, the standard normal density at 0.
const NORMAL_DENSITY_AT_ZERO: f32 = 0.398_942_3;

/// The standard normal distribution function and density at `x`, sharing one `exp`. `erf` is
/// Abramowitz and Stegun's rational approximation 7.1.26 (absolute error under 1.5e-7, below
/// f32's resolution near 1), several times faster than a libm `erf`.
fn normal_cdf_and_density(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [0.254_829_6, -0.284_496_74, 1.421_413_8, -1.453_152_1, 1.061_405_4];
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let gauss = (-z * z).exp();
    let t = 1.0 / (1.0 + P * z);
    let polynomial = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let erf = (1.0 - polynomial * gauss).copysign(x);
    (0.5 * (1.0 + erf), NORMAL_DENSITY_AT_ZERO * gauss)
}

/// Applies `map` to every value of a contiguous f32 tensor, split over the thread pool.
fn map_values(storage: &CpuStorage, layout: &Layout, op: &str, map: impl Fn(f32) -> f32 + Sync) -> OpResult<(CpuStorage, Shape)> {
    let x = values(storage, layout, op)?;
    let mut out = vec![0f32; x.len()];
    out.par_chunks_mut(VALUES_PER_TASK).zip(x.par_chunks(VALUES_PER_TASK)).for_each(|(out, x)| {
        out.iter_mut().zip(x).for_each(|(out, x)| *out = map(*x));
    });
    Ok((CpuStorage::F32(out), layout.shape().clone()))
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "juror-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> OpResult<(CpuStorage, Shape)> {
        map_values(storage, layout, self.name(), |x| x * normal_cdf_and_density(x).0)
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
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(VALUES_PER_TASK).zip(x.par_chunks(VALUES_PER_TASK)).zip(grad.par_chunks(VALUES_PER_TASK)).for_each(|((out, x), grad)| {
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
    use candle_core::{Device, Var};

    use super::*;

    fn random(shape: &[usize], seed: u64) -> Var {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let count: usize = shape.iter().product();
        let values: Vec<f32> = (0..count).map(|_| rng.gen_range(-3.0..3.0)).collect();
        Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu).unwrap()).unwrap()
    }

    /// A loss that weighs every output differently, so no gradient is zero by symmetry.
    fn weighted_sum(out: &Tensor, seed: u64) -> Tensor {
        let weights = random(out.dims(), seed);
        out.mul(weights.as_tensor()).unwrap().sum_all().unwrap()
    }

    fn assert_close(fused: &Tensor, primitive: &Tensor, what: &str) {
        assert_eq!(fused.dims(), primitive.dims(), "{what}");
        let difference = (fused - primitive).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        let size = primitive.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        assert!(difference <= 1e-4 * size.max(1.0), "{what}: differs by {difference} (values up to {size})");
    }

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

    #[test]
    fn the_normal_distribution_function_is_within_f32_resolution_of_libm_erf() {
        for step in -800..=800 {
            let x = step as f32 / 100.0;
            let exact = 0.5 * (1.0 + candle_core::cpu::erf::erf_f64(f64::from(x) / std::f64::consts::SQRT_2));
            let (cdf, density) = normal_cdf_and_density(x);
            assert!((f64::from(cdf) - exact).abs() < 3e-7, "Φ({x}) = {cdf}, not {exact}");
            let exact_density = (-0.5 * f64::from(x).powi(2)).exp() / (2.0 * std::f64::consts::PI).sqrt();
            assert!((f64::from(density) - exact_density).abs() < 1e-7, "φ({x}) = {density}, not {exact_density}");
        }
    }

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

    #[test]
    fn gelu_matches_the_primitive_one_forward_and_backward() {
        let x = random(&[3, 7, 40], 11);
        let (fused, primitive) = (gelu(x.as_tensor()).unwrap(), x.as_tensor().gelu_erf().unwrap());
        assert_close(&fused, &primitive, "forward");
        let (fused_grads, primitive_grads) = (weighted_sum(&fused, 12).backward().unwrap(), weighted_sum(&primitive, 12).backward().unwrap());
        assert_close(fused_grads.get(x.as_tensor()).unwrap(), primitive_grads.get(x.as_tensor()).unwrap(), "input");
    }
}
