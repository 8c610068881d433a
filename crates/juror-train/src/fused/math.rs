//! Scalar functions for the kernels, made of arithmetic and bit operations only, so that the
//! loops calling them are vectorised: libm's `expf` is a call per value, which no loop around it
//! can vectorise (it was a tenth of the time when scoring).

/// `e^x` within 2e-7 relative error for `x` in [-87, 88]; below that 0 (never a subnormal value,
/// which would make every later operation on it many times slower), and above it the value at 88.
///
/// `e^x = 2^k e^r` with `k` the integer nearest `x / ln 2` and `|r| <= ln 2 / 2`; `e^r` is its
/// Taylor polynomial to degree 7 (the remainder is under 2e-8 there).
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two, so that `x - k ln 2` loses nothing to rounding.
    const LN_2_HIGH: f32 = 0.693_145_75;
    const LN_2_LOW: f32 = 1.428_606_8e-6;
    // Adding 1.5 * 2^23 rounds to an integer, held in the low bits of the sum.
    const ROUNDER: f32 = 12_582_912.0;
    let underflows = x < -87.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2_E + ROUNDER;
    let k = shifted - ROUNDER;
    let r = (x - k * LN_2_HIGH) - k * LN_2_LOW;
    let polynomial = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let exponent = (shifted.to_bits().wrapping_sub(ROUNDER.to_bits()) as i32 + 127) as u32;
    let value = polynomial * f32::from_bits(exponent << 23);
    if underflows {
        0.0
    } else {
        value
    }
}

/// `1 / sqrt(2 pi)`, the standard normal density at 0.
const NORMAL_DENSITY_AT_ZERO: f32 = 0.398_942_3;

/// The standard normal distribution function and density at `x`, sharing one `exp`. `erf` is
/// Abramowitz and Stegun's rational approximation 7.1.26 (absolute error under 1.5e-7, below
/// f32's resolution near 1), several times faster than a libm `erf`.
#[inline(always)]
pub(super) fn normal_cdf_and_density(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [0.254_829_6, -0.284_496_74, 1.421_413_8, -1.453_152_1, 1.061_405_4];
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let gauss = exp(-z * z);
    let t = 1.0 / (1.0 + P * z);
    let polynomial = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let erf = (1.0 - polynomial * gauss).copysign(x);
    (0.5 * (1.0 + erf), NORMAL_DENSITY_AT_ZERO * gauss)
}

/// Partial sums kept side by side by the reductions below: a running sum in one variable cannot
/// be vectorised (the compiler may not reorder float additions), sixteen of them can. The
/// partial sums are then added in order, so a row's result never depends on anything but its
/// values.
const LANES: usize = 16;

/// The sum of `term` over the values at each position of `inputs` (as far as the shortest goes),
/// into [`LANES`] partial sums, then one. Whole chunks are read as fixed-size arrays, so the
/// loop over lanes has no bounds to check and is vectorised.
#[inline(always)]
fn lane_sum<const N: usize>(inputs: [&[f32]; N], term: impl Fn([f32; N]) -> f32) -> f32 {
    let len = inputs.iter().map(|input| input.len()).min().unwrap_or(0);
    let full = len - len % LANES;
    let mut lanes = [0f32; LANES];
    for start in (0..full).step_by(LANES) {
        let chunks: [&[f32; LANES]; N] = inputs.map(|input| input[start..start + LANES].try_into().expect("a whole chunk"));
        for (lane, sum) in lanes.iter_mut().enumerate() {
            *sum += term(chunks.map(|chunk| chunk[lane]));
        }
    }
    for (lane, position) in (full..len).enumerate() {
        lanes[lane] += term(inputs.map(|input| input[position]));
    }
    let mut total = 0.0;
    for lane in lanes {
        total += lane;
    }
    total
}

/// `Σ values`.
#[inline(always)]
pub(super) fn sum(values: &[f32]) -> f32 {
    lane_sum([values], |[value]| value)
}

/// `Σ a·b` over the shorter of the two.
#[inline(always)]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    lane_sum([a, b], |[a, b]| a * b)
}

/// `Σ (value - mean)²`.
#[inline(always)]
pub(super) fn squared_deviations(values: &[f32], mean: f32) -> f32 {
    lane_sum([values], |[value]| (value - mean) * (value - mean))
}

/// `Σ a·b·(x - mean)` over the shortest of the three.
#[inline(always)]
pub(super) fn dot_centered(a: &[f32], b: &[f32], x: &[f32], mean: f32) -> f32 {
    lane_sum([a, b, x], |[a, b, x]| a * b * (x - mean))
}

/// The largest value (negative infinity for none).
#[inline(always)]
pub(super) fn max(values: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, value) in lanes.iter_mut().zip(chunk) {
            *lane = lane.max(*value);
        }
    }
    let mut max = f32::NEG_INFINITY;
    for value in chunks.remainder().iter().chain(&lanes) {
        max = max.max(*value);
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reductions_agree_with_plain_double_precision_ones_at_every_remainder() {
        for len in [0, 1, 15, 16, 17, 37, 384] {
            let a: Vec<f32> = (0..len).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
            let b: Vec<f32> = (0..len).map(|i| ((i * 5) % 13) as f32 * 0.25).collect();
            let x: Vec<f32> = (0..len).map(|i| (i as f32).sin() * 3.0).collect();
            let close = |ours: f32, exact: f64| assert!((f64::from(ours) - exact).abs() <= 1e-4 * exact.abs().max(1.0), "length {len}: {ours} against {exact}");
            let wide = |values: &[f32]| values.iter().map(|value| f64::from(*value)).collect::<Vec<_>>();
            let (wa, wb, wx) = (wide(&a), wide(&b), wide(&x));
            close(sum(&a), wa.iter().sum());
            close(dot(&a, &b), wa.iter().zip(&wb).map(|(a, b)| a * b).sum());
            close(squared_deviations(&x, 0.5), wx.iter().map(|x| (x - 0.5) * (x - 0.5)).sum());
            close(dot_centered(&a, &b, &x, 0.5), wa.iter().zip(&wb).zip(&wx).map(|((a, b), x)| a * b * (x - 0.5)).sum());
            assert_eq!(f64::from(max(&x)), wx.iter().copied().fold(f64::NEG_INFINITY, f64::max), "length {len}");
        }
    }

    #[test]
    fn exp_is_within_two_ten_millionths_of_the_exact_value() {
        for step in -8_700..=8_800 {
            let x = step as f32 / 100.0;
            let exact = f64::from(x).exp();
            let relative = (f64::from(exp(x)) - exact).abs() / exact;
            assert!(relative < 2e-7, "exp({x}) = {}, not {exact} ({relative:e})", exp(x));
        }
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn exp_of_a_masked_score_is_zero_and_large_values_stay_finite() {
        for x in [-87.01, -1e4, -1e30, f32::NEG_INFINITY] {
            assert_eq!(exp(x), 0.0, "exp({x})");
        }
        for step in -8_700..=8_800 {
            assert!(exp(step as f32 / 100.0).is_normal(), "exp({}) is subnormal", step as f32 / 100.0);
        }
        assert!(exp(1e4).is_finite() && exp(1e4) > 1e38);
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
}
