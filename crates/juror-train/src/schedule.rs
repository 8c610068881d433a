//! The learning-rate schedule: linear warm-up to the full rate, then either linear decay to zero
//! at the last step or the full rate to the end.

/// What the learning rate does after the warm-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Linear decay to zero at the last step.
    #[default]
    Linear,
    /// The full rate to the end.
    Constant,
}

impl Schedule {
    /// The factor of the full learning rate at `step` (counted from 0) of `total`, after
    /// `warmup` steps of warm-up.
    pub fn factor(self, step: usize, warmup: usize, total: usize) -> f64 {
        if step < warmup {
            return (step + 1) as f64 / warmup as f64;
        }
        match self {
            Self::Constant => 1.0,
            Self::Linear => {
                let remaining = total.saturating_sub(step) as f64;
                let decaying = total.saturating_sub(warmup).max(1) as f64;
                (remaining / decaying).clamp(0.0, 1.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_warms_up_then_decays_to_zero() {
        let factors: Vec<f64> = (0..10).map(|step| Schedule::Linear.factor(step, 2, 10)).collect();
        assert_eq!(factors[0], 0.5);
        assert_eq!(factors[1], 1.0);
        assert_eq!(factors[2], 1.0);
        assert!(factors.windows(2).skip(2).all(|pair| pair[1] < pair[0]), "{factors:?}");
        assert!((factors[9] - 0.125).abs() < 1e-12);
        assert_eq!(Schedule::Linear.factor(10, 2, 10), 0.0);
        assert_eq!(Schedule::Linear.factor(0, 0, 4), 1.0, "no warm-up starts at the full rate");
    }

    #[test]
    fn constant_warms_up_then_keeps_the_full_rate() {
        let factors: Vec<f64> = (0..10).map(|step| Schedule::Constant.factor(step, 4, 10)).collect();
        assert_eq!(&factors[..4], &[0.25, 0.5, 0.75, 1.0]);
        assert!(factors[4..].iter().all(|factor| *factor == 1.0), "{factors:?}");
        assert_eq!(Schedule::Constant.factor(0, 0, 10), 1.0);
    }

    #[test]
    fn a_schedule_is_written_in_lowercase_and_is_linear_by_default() {
        assert_eq!(serde_json::to_string(&Schedule::Constant).unwrap(), "\"constant\"");
        assert_eq!(Schedule::default(), Schedule::Linear);
    }
}
