//! The learning-rate schedule: linear warm-up to the full rate, then linear decay to zero at the
//! last step.

/// The factor of the full learning rate at `step` (counted from 0) of `total`, after `warmup`
/// steps of warm-up.
pub fn learning_rate_factor(step: usize, warmup: usize, total: usize) -> f64 {
    if step < warmup {
        return (step + 1) as f64 / warmup as f64;
    }
    let remaining = total.saturating_sub(step) as f64;
    let decaying = total.saturating_sub(warmup).max(1) as f64;
    (remaining / decaying).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_zero() {
        let factors: Vec<f64> = (0..10).map(|step| learning_rate_factor(step, 2, 10)).collect();
        assert_eq!(factors[0], 0.5);
        assert_eq!(factors[1], 1.0);
        assert_eq!(factors[2], 1.0);
        assert!(factors.windows(2).skip(2).all(|pair| pair[1] < pair[0]), "{factors:?}");
        assert!((factors[9] - 0.125).abs() < 1e-12);
        assert_eq!(learning_rate_factor(10, 2, 10), 0.0);
        assert_eq!(learning_rate_factor(0, 0, 4), 1.0, "no warm-up starts at the full rate");
    }
}
