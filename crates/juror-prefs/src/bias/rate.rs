//! The z-test behind the win-rate diagnostics.

/// When a win rate is flagged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiasOptions {
    /// Flag when |z| is at least this. The default, 3.0, is a two-sided p of about 0.0027: with
    /// one test per labeler, 1.96 would flag one honest labeler in twenty, 3.0 about one in 370.
    pub z_threshold: f64,
    /// Never flag on fewer observations than this; the normal approximation needs some.
    pub min_observations: usize,
}

impl Default for BiasOptions {
    /// z >= 3.0 on at least 10 observations.
    fn default() -> Self {
        Self { z_threshold: 3.0, min_observations: 10 }
    }
}

/// An observed win rate tested against the rate expected without bias.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateTest {
    /// How many observations (judgments or pairs) went in.
    pub observations: usize,
    /// The observed rate, 0 when there were no observations.
    pub rate: f64,
    /// The rate expected without bias.
    pub expected: f64,
    /// (observed - expected successes) / the standard deviation without bias; 0 when undefined.
    pub z: f64,
    /// Whether |z| reached the threshold on enough observations.
    pub flagged: bool,
}

/// What a [`RateTest`] needs of its observations, gathered one at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RateSums {
    count: usize,
    total: f64,
    variance: f64,
}

impl RateSums {
    /// Adds one observation: a score in [0, 1] and its variance without bias.
    pub(crate) fn add(&mut self, score: f64, variance: f64) {
        self.count += 1;
        self.total += score;
        self.variance += variance;
    }

    /// The test of every observation added so far, each expected to average 1/2 without bias.
    /// For 0/1 scores with variance 1/4 this is the normal approximation to the two-sided
    /// binomial test of p = 1/2.
    pub(crate) fn test(&self, options: &BiasOptions) -> RateTest {
        let Self { count, total, variance } = *self;
        let z = if variance > 0.0 { (total - 0.5 * count as f64) / variance.sqrt() } else { 0.0 };
        RateTest {
            observations: count,
            rate: if count == 0 { 0.0 } else { total / count as f64 },
            expected: 0.5,
            z,
            flagged: count >= options.min_observations && z.abs() >= options.z_threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test of `observations`, each (score in [0, 1], variance of the score without bias).
    fn test_of(observations: &[(f64, f64)], options: &BiasOptions) -> RateTest {
        let mut sums = RateSums::default();
        for (score, variance) in observations {
            sums.add(*score, *variance);
        }
        sums.test(options)
    }

    #[test]
    fn binary_scores_give_the_binomial_z() {
        // 60 wins in 100 fair coin flips: z = (60 - 50) / sqrt(100 / 4) = 2.
        let mut scores = vec![(1.0, 0.25); 60];
        scores.extend([(0.0, 0.25); 40]);
        let test = test_of(&scores, &BiasOptions::default());
        assert_eq!((test.observations, test.rate, test.z, test.flagged), (100, 0.6, 2.0, false));
        let strict = BiasOptions { z_threshold: 1.96, ..BiasOptions::default() };
        assert!(test_of(&scores, &strict).flagged);
    }

    #[test]
    fn few_or_no_observations_are_never_flagged() {
        let test = test_of(&[(1.0, 0.25); 9], &BiasOptions::default());
        assert_eq!((test.z, test.flagged), (3.0, false));
        let empty = test_of(&[], &BiasOptions::default());
        assert_eq!((empty.rate, empty.z, empty.flagged), (0.0, 0.0, false));
    }
}
