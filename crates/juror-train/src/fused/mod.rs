//! Fused CPU kernels with hand-written backward passes, for what a training step does besides
//! its matrix products, and for the products themselves where candle would copy around them:
//! layer normalisation, the exact GELU, the dense layer `x · weightᵀ + bias`, and
//! multi-head attention over sequences packed without padding.
//!
//! Built from candle's primitive operations, each of these is several full passes over memory
//! forward and more backward, each pass a fresh tensor (and, backward, a zeroed one), many on a
//! single thread. Here each is one operation forward and one or a few backward, split by rows or
//! by (sequence, head) over the thread pool. On other devices or dtypes the same functions fall
//! back to primitive (differentiable) operations, which are also what the tests compare against.
//!
//! This module holds what the kernels share: reading a tensor's values, and mapping or summing
//! rows over the thread pool. Each kernel lives in its own file; `product.rs` wraps `gemm`'s
//! matrix product over strided views, `softmax.rs` has a row's softmax and its gradient,
//! `math.rs` the scalar functions, written so that the compiler can vectorise the loops they are
//! in, and `simd.rs` runs those loops compiled for the widest vectors the CPU has.

mod attention;
mod dense;
mod gelu;
mod layer_norm;
mod math;
mod product;
mod simd;
mod softmax;

use candle_core::{CpuStorage, DType, Layout, Tensor};
use rayon::prelude::*;

pub use attention::{attention, attention_primitive};
pub use dense::{dense, dense_primitive};
pub use gelu::gelu;
pub use layer_norm::{layer_norm, layer_norm_primitive};
pub(crate) use attention::attention_into;
pub(crate) use dense::{dense_into, unbiased_into};
pub(crate) use gelu::gelu_in_place;
pub(crate) use layer_norm::normalize_in_place;
pub(crate) use simd::widest;

type OpResult<T> = candle_core::Result<T>;

/// Rows of this many values or fewer are handed to threads in groups, so that a task is not
/// smaller than the cost of scheduling it.
const VALUES_PER_TASK: usize = 16 * 1024;

fn rows_per_task(row: usize) -> usize {
    (VALUES_PER_TASK / row.max(1)).max(1)
}

/// `len` zeros, written by the thread pool: a kernel's output, which would otherwise be zeroed
/// (and its pages first touched) on the calling thread while the pool waits.
fn zeroed(len: usize) -> Vec<f32> {
    if len <= VALUES_PER_TASK {
        return vec![0f32; len];
    }
    let mut values = Vec::with_capacity(len);
    values.par_extend(rayon::iter::repeat_n(0f32, len).with_min_len(VALUES_PER_TASK));
    values
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

/// Rows of `width` values made from the same rows of `inputs` (all of one length), split over
/// the thread pool: `row(index, the inputs' rows, the output row)` for every row.
fn map_rows<const N: usize>(inputs: [&[f32]; N], width: usize, row: impl Fn(usize, [&[f32]; N], &mut [f32]) + Sync) -> Vec<f32> {
    let len = inputs.first().map_or(0, |input| input.len());
    debug_assert!(inputs.iter().all(|input| input.len() == len));
    let mut out = zeroed(len);
    update_rows(&mut out, width, #[inline(always)] |index, out| {
        let start = index * width;
        row(index, inputs.map(|input| &input[start..start + out.len()]), out);
    });
    out
}

/// Every row of `width` values of `rows` changed in place, split over the thread pool:
/// `row(index, the row)`.
fn update_rows(rows: &mut [f32], width: usize, row: impl Fn(usize, &mut [f32]) + Sync) {
    let rows_in_task = rows_per_task(width);
    rows.par_chunks_mut(rows_in_task * width).enumerate().for_each(|(task, rows)| {
        simd::widest(#[inline(always)] || {
            for (offset, values) in rows.chunks_mut(width).enumerate() {
                row(task * rows_in_task + offset, values);
            }
        })
    });
}

/// `x` mapped value by value, split over the thread pool.
fn map_values(x: &[f32], value: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
    map_rows([x], VALUES_PER_TASK, #[inline(always)] |_, [x], out| {
        for (out, x) in out.iter_mut().zip(x) {
            *out = value(*x);
        }
    })
}

/// The sum over rows of `width` values of what `add_row` adds from each row of `inputs` into
/// `sums` of `sums_width` values. Each task sums its rows; the tasks' sums are then added in
/// order, so that a step's gradients do not depend on how the thread pool split the work.
fn sum_rows<const N: usize>(inputs: [&[f32]; N], width: usize, sums_width: usize, add_row: impl Fn([&[f32]; N], &mut [f32]) + Sync) -> Vec<f32> {
    let len = inputs.first().map_or(0, |input| input.len());
    let rows = len / width.max(1);
    let rows_in_task = rows_per_task(width);
    let tasks = rows.div_ceil(rows_in_task);
    let parts = (0..tasks)
        .into_par_iter()
        .map(|task| {
            let mut sums = vec![0f32; sums_width];
            simd::widest(#[inline(always)] || {
                for index in task * rows_in_task..((task + 1) * rows_in_task).min(rows) {
                    let start = index * width;
                    add_row(inputs.map(|input| &input[start..start + width]), &mut sums);
                }
            });
            sums
        })
        .collect::<Vec<_>>();
    parts
        .into_iter()
        .reduce(|mut total, part| {
            total.iter_mut().zip(&part).for_each(|(total, part)| *total += part);
            total
        })
        .unwrap_or_else(|| vec![0f32; sums_width])
}

#[cfg(test)]
mod test_support {
    use candle_core::{Device, Tensor, Var};

    pub fn random(shape: &[usize], seed: u64) -> Var {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let count: usize = shape.iter().product();
        let values: Vec<f32> = (0..count).map(|_| rng.gen_range(-3.0..3.0)).collect();
        Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu).unwrap()).unwrap()
    }

    /// A loss that weighs every output differently, so no gradient is zero by symmetry.
    pub fn weighted_sum(out: &Tensor, seed: u64) -> Tensor {
        let weights = random(out.dims(), seed);
        out.mul(weights.as_tensor()).unwrap().sum_all().unwrap()
    }

    pub fn assert_close(fused: &Tensor, primitive: &Tensor, what: &str) {
        assert_eq!(fused.dims(), primitive.dims(), "{what}");
        let difference = (fused - primitive).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        let size = primitive.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
        assert!(difference <= 1e-4 * size.max(1.0), "{what}: differs by {difference} (values up to {size})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_rows_hands_each_row_its_index_and_the_inputs_rows() {
        let width = 3;
        let rows = 2 * rows_per_task(width) + 1;
        let (a, b): (Vec<f32>, Vec<f32>) = (0..rows * width).map(|i| (i as f32, 2.0 * i as f32)).unzip();
        let out = map_rows([&a, &b], width, |index, [a, b], out| {
            for ((out, a), b) in out.iter_mut().zip(a).zip(b) {
                *out = a + b + index as f32;
            }
        });
        let expected: Vec<f32> = (0..rows * width).map(|i| 3.0 * i as f32 + (i / width) as f32).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn update_rows_hands_each_row_its_index() {
        let width = 5;
        let rows = 2 * rows_per_task(width) + 3;
        let mut x: Vec<f32> = (0..rows * width).map(|i| i as f32).collect();
        update_rows(&mut x, width, |index, row| row.iter_mut().for_each(|value| *value += (1000 * index) as f32));
        assert!(x.iter().enumerate().all(|(i, value)| *value == (i + 1000 * (i / width)) as f32));
    }

    #[test]
    fn zeroed_holds_as_many_zeros_as_asked() {
        for len in [0, 1, VALUES_PER_TASK + 3] {
            let values = zeroed(len);
            assert!(values.len() == len && values.iter().all(|value| *value == 0.0), "{len}");
        }
    }

    #[test]
    fn map_values_covers_a_last_part_shorter_than_a_task() {
        let x: Vec<f32> = (0..VALUES_PER_TASK + 7).map(|i| i as f32).collect();
        let out = map_values(&x, |x| x + 1.0);
        assert_eq!(out.len(), x.len());
        assert!(out.iter().zip(&x).all(|(out, x)| *out == x + 1.0));
    }

    #[test]
    fn sum_rows_adds_every_task_of_rows() {
        let width = 4;
        let rows = 3 * rows_per_task(width) + 5;
        let x: Vec<f32> = (0..rows * width).map(|i| (i % width) as f32).collect();
        let sums = sum_rows([&x], width, width, |[row], sums| sums.iter_mut().zip(row).for_each(|(sum, value)| *sum += value));
        assert_eq!(sums, (0..width).map(|column| (column * rows) as f32).collect::<Vec<_>>());
    }
}
