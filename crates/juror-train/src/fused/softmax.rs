//! A row's scaled softmax and its gradient, for the attention kernel.

use super::math;

/// A row of scores replaced by `softmax(scores * scale)`.
#[inline(always)]
pub(super) fn softmax_in_place(row: &mut [f32], scale: f32) {
    // `for` loops rather than `for_each`: a loop inlines into the caller's copy in
    // `simd::widest`, where an iterator's `fold` may be left out of line (and narrow).
    for value in row.iter_mut() {
        *value *= scale;
    }
    let max = math::max(row);
    for value in row.iter_mut() {
        *value = math::exp(*value - max);
    }
    let scale = 1.0 / math::sum(row);
    for value in row.iter_mut() {
        *value *= scale;
    }
}

/// The gradient reaching a row of scaled scores from the gradient of its softmax `probabilities`:
/// `scale * p * (grad - sum(grad * p))`.
#[inline(always)]
pub(super) fn softmax_grad(probabilities: &[f32], grad: &[f32], scale: f32, out: &mut [f32]) {
    let dot = math::dot(probabilities, grad);
    for ((out, p), grad) in out.iter_mut().zip(probabilities).zip(grad) {
        *out = scale * p * (grad - dot);
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, D};

    use super::*;

    #[test]
    fn the_row_softmax_and_its_gradient_match_candles() {
        let (scores, scale) = ([0.5f32, -1.0, -1e4, 0.0, 3.5], 0.7);
        let mut row = scores;
        softmax_in_place(&mut row, scale);
        assert_eq!(row[2], 0.0, "a score far below the rest weighs nothing");
        let input = candle_core::Var::new(&scores, &Device::Cpu).unwrap();
        let scaled = input.as_tensor().affine(f64::from(scale), 0.0).unwrap();
        let reference = candle_nn::ops::softmax(&scaled, D::Minus1).unwrap();
        let expected: Vec<f32> = reference.to_vec1().unwrap();
        assert!(row.iter().zip(&expected).all(|(ours, theirs)| (ours - theirs).abs() < 1e-6), "{row:?} against {expected:?}");
        let weights = [1f32, -2.0, 0.5, 3.0, 0.25];
        let grads = reference.mul(&Tensor::new(&weights, &Device::Cpu).unwrap()).unwrap().sum_all().unwrap().backward().unwrap();
        let expected: Vec<f32> = grads.get(input.as_tensor()).unwrap().to_vec1().unwrap();
        let mut ours = [0f32; 5];
        softmax_grad(&row, &weights, scale, &mut ours);
        assert!(ours.iter().zip(&expected).all(|(ours, theirs)| (ours - theirs).abs() < 1e-5), "{ours:?} against {expected:?}");
    }
}
