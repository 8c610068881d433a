//! Quality while collecting: how far to trust a labeler from their gold answers, and when a
//! record's verdict is settled enough to stop giving it to more labelers (adaptive overlap).
//!
//! - [`GoldTally`]: a labeler's answers to gold records (whose verdict is known), with the
//!   accuracy estimate used to weigh their votes, a Wilson interval to report, and the rule that
//!   flags them ([`GoldRule`]: their accuracy is below the threshold with the stated certainty).
//! - [`AdaptiveOverlap`]: a record gets `min` judgments, then one more at a time while the
//!   posterior that one side wins stays below `confidence`, and never more than `max`. Each vote
//!   counts by its labeler's estimated accuracy: the log-odds of the verdict are the sum of
//!   ±logit(accuracy), so a reliable labeler's vote settles more than a shaky one's, and a
//!   labeler no better than chance adds nothing.

/// What a labeler's gold answers say of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GoldTally {
    pub correct: u32,
    pub answered: u32,
}

/// The prior of a labeler's accuracy before any gold answer, as pseudo-answers: two right and
/// one wrong (a mean of 2/3: better than chance, far from perfect).
const PRIOR_CORRECT: f64 = 2.0;
const PRIOR_WRONG: f64 = 1.0;

/// When a labeler is flagged by their gold answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoldRule {
    /// The accuracy a labeler must reach.
    pub threshold: f64,
    /// Gold answers needed before anyone is flagged.
    pub min_answers: u32,
    /// How sure the accuracy must be to be below the threshold (a posterior probability).
    pub certainty: f64,
}

impl Default for GoldRule {
    /// Below 70% with 80% certainty, after at least 14 gold answers. On two-option gold, 20
    /// answers cannot tell a random labeler from a 75% one for sure: this flags about 91% of
    /// random labelers within 20 answers, 18% of 75% ones and 2% of 85% ones (the simulation in
    /// `tests/simulation.rs`); gold with more options tells them apart sooner.
    fn default() -> Self {
        Self { threshold: 0.7, min_answers: 14, certainty: 0.8 }
    }
}

impl GoldTally {
    pub fn record(&mut self, correct: bool) {
        self.answered += 1;
        self.correct += u32::from(correct);
    }

    /// The share of gold answers that were right, `None` before the first.
    pub fn observed(&self) -> Option<f64> {
        (self.answered > 0).then(|| f64::from(self.correct) / f64::from(self.answered))
    }

    /// The accuracy to weigh this labeler's votes by: the posterior mean with the prior above,
    /// so a labeler with few gold answers counts as a fair one, not a perfect or a useless one.
    pub fn accuracy_estimate(&self) -> f64 {
        (f64::from(self.correct) + PRIOR_CORRECT) / (f64::from(self.answered) + PRIOR_CORRECT + PRIOR_WRONG)
    }

    /// The Wilson score interval of the accuracy at `z` (1.96 for 95%), `None` before the first
    /// answer.
    pub fn interval(&self, z: f64) -> Option<(f64, f64)> {
        let p = self.observed()?;
        let n = f64::from(self.answered);
        let denominator = 1.0 + z * z / n;
        let centre = (p + z * z / (2.0 * n)) / denominator;
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
        Some(((centre - half).max(0.0), (centre + half).min(1.0)))
    }

    /// The posterior probability that the accuracy is below `threshold`, with a uniform prior.
    pub fn probability_below(&self, threshold: f64) -> f64 {
        beta_cdf(threshold, self.correct + 1, self.answered - self.correct + 1)
    }

    /// Whether `rule` flags this labeler.
    pub fn is_flagged(&self, rule: &GoldRule) -> bool {
        self.answered >= rule.min_answers && self.probability_below(rule.threshold) >= rule.certainty
    }
}

/// P(X <= x) for X ~ Beta(a, b) with whole-number parameters: the chance that at least `a` of
/// `a + b - 1` trials with success rate `x` succeed.
fn beta_cdf(x: f64, a: u32, b: u32) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let n = a + b - 1;
    (a..=n).map(|k| binomial_pmf(n, k, x)).sum::<f64>().clamp(0.0, 1.0)
}

fn binomial_pmf(n: u32, k: u32, p: f64) -> f64 {
    let ln_choose = ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k);
    (ln_choose + f64::from(k) * p.ln() + f64::from(n - k) * (1.0 - p).ln()).exp()
}

fn ln_factorial(n: u32) -> f64 {
    (2..=n).map(|i| f64::from(i).ln()).sum()
}

/// One labeler's verdict on a record's pair, weighed by their estimated accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vote {
    /// `Some(true)` when the first option won, `Some(false)` the second, `None` a tie.
    pub first_wins: Option<bool>,
    /// The labeler's estimated accuracy ([`GoldTally::accuracy_estimate`]).
    pub accuracy: f64,
}

/// Accuracies are held in [0.5, 0.99]: a labeler worse than chance is not trusted in reverse,
/// and none is trusted absolutely.
fn weight(accuracy: f64) -> f64 {
    let accuracy = accuracy.clamp(0.5, 0.99);
    (accuracy / (1.0 - accuracy)).ln()
}

/// The posterior probability that the first option is the better one, from even odds.
pub fn posterior_first(votes: &[Vote]) -> f64 {
    let log_odds: f64 = votes
        .iter()
        .map(|vote| match vote.first_wins {
            Some(true) => weight(vote.accuracy),
            Some(false) => -weight(vote.accuracy),
            None => 0.0,
        })
        .sum();
    1.0 / (1.0 + (-log_odds).exp())
}

/// Adaptive overlap: how many judgments a record needs, decided from those it has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveOverlap {
    /// Judgments every record gets.
    pub min: u32,
    /// Judgments no record gets more of.
    pub max: u32,
    /// The posterior a verdict must reach to settle the record.
    pub confidence: f64,
}

impl AdaptiveOverlap {
    /// Whether the votes settle the verdict: enough of them, and one side likely enough.
    pub fn is_settled(&self, votes: &[Vote]) -> bool {
        votes.len() >= self.min as usize && self.is_sure(votes)
    }

    fn is_sure(&self, votes: &[Vote]) -> bool {
        let posterior = posterior_first(votes);
        posterior.max(1.0 - posterior) >= self.confidence
    }

    /// How many judgments the record needs now: `min` at first; once it has them, as many as it
    /// has when they settle it (or reach `max`), else one more.
    pub fn target(&self, votes: &[Vote]) -> u32 {
        self.target_of(u32::try_from(votes.len()).unwrap_or(u32::MAX), [votes])
    }

    /// The same for a record whose `judgments` give votes on several pairs of options (a ranking
    /// of three or more): settled only when every pair is. A record with no pair yet is not.
    pub fn target_of<'a>(&self, judgments: u32, pairs: impl IntoIterator<Item = &'a [Vote]>) -> u32 {
        let mut pairs = pairs.into_iter().peekable();
        if judgments < self.min {
            return self.min;
        }
        let settled = pairs.peek().is_some() && pairs.all(|votes| self.is_sure(votes));
        if judgments >= self.max || settled {
            judgments.max(self.min)
        } else {
            judgments + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(first_wins: bool, accuracy: f64) -> Vote {
        Vote { first_wins: Some(first_wins), accuracy }
    }

    #[test]
    fn the_beta_cdf_matches_known_values() {
        // Beta(1, 1) is uniform; Beta(2, 1) has CDF x^2; Beta(1, 2) has CDF 1 - (1 - x)^2.
        assert!((beta_cdf(0.3, 1, 1) - 0.3).abs() < 1e-12);
        assert!((beta_cdf(0.5, 2, 1) - 0.25).abs() < 1e-12);
        assert!((beta_cdf(0.5, 1, 2) - 0.75).abs() < 1e-12);
        // Symmetric Beta(11, 11) has half its mass below 0.5.
        assert!((beta_cdf(0.5, 11, 11) - 0.5).abs() < 1e-9);
        assert_eq!((beta_cdf(0.0, 3, 3), beta_cdf(1.0, 3, 3)), (0.0, 1.0));
    }

    #[test]
    fn gold_answers_give_an_estimate_an_interval_and_a_flag() {
        let mut tally = GoldTally::default();
        assert_eq!(tally.observed(), None);
        assert!((tally.accuracy_estimate() - 2.0 / 3.0).abs() < 1e-12, "the prior alone");
        for index in 0..20 {
            tally.record(index % 2 == 0);
        }
        assert_eq!(tally.observed(), Some(0.5));
        let (low, high) = tally.interval(1.96).unwrap();
        assert!((low - 0.299).abs() < 0.01 && (high - 0.701).abs() < 0.01, "({low}, {high})");
        assert!(tally.is_flagged(&GoldRule::default()), "half right after 20 is below 70%");
        assert!(!GoldTally { correct: 7, answered: 13 }.is_flagged(&GoldRule::default()), "not before the minimum");
        let good = GoldTally { correct: 18, answered: 20 };
        assert!(!good.is_flagged(&GoldRule::default()));
        assert!((good.accuracy_estimate() - 20.0 / 23.0).abs() < 1e-12);
        assert!(GoldTally { correct: 0, answered: 14 }.is_flagged(&GoldRule::default()));
    }

    #[test]
    fn votes_count_by_their_labelers_accuracy() {
        assert!((posterior_first(&[]) - 0.5).abs() < 1e-12);
        assert!((posterior_first(&[vote(true, 0.9)]) - 0.9).abs() < 1e-12);
        assert!((posterior_first(&[vote(true, 0.9), vote(false, 0.9)]) - 0.5).abs() < 1e-12);
        assert!((posterior_first(&[vote(false, 0.5)]) - 0.5).abs() < 1e-12, "a coin flip says nothing");
        assert!((posterior_first(&[vote(false, 0.2)]) - 0.5).abs() < 1e-12, "worse than chance is not trusted in reverse");
        // Two agreeing 75% votes: odds 3 * 3 = 9, so 0.9.
        assert!((posterior_first(&[vote(true, 0.75), vote(true, 0.75)]) - 0.9).abs() < 1e-12);
        assert!((posterior_first(&[Vote { first_wins: None, accuracy: 0.9 }, vote(true, 0.75)]) - 0.75).abs() < 1e-12, "a tie adds nothing");
    }

    #[test]
    fn a_record_gets_more_judgments_only_while_unsettled_and_never_past_max() {
        let rule = AdaptiveOverlap { min: 1, max: 4, confidence: 0.85 };
        assert_eq!(rule.target(&[]), 1);
        assert_eq!(rule.target(&[vote(true, 0.9)]), 1, "one reliable vote settles it");
        assert_eq!(rule.target(&[vote(true, 0.7)]), 2, "a shaky one asks for another");
        assert_eq!(rule.target(&[vote(true, 0.7), vote(false, 0.7)]), 3);
        let split = [vote(true, 0.7), vote(false, 0.7), vote(true, 0.7), vote(false, 0.7)];
        assert_eq!(rule.target(&split), 4, "stops at max, unsettled");
        assert!(!rule.is_settled(&split));
        let pairs: [&[Vote]; 2] = [&[vote(true, 0.9)], &[vote(true, 0.7)]];
        assert_eq!(rule.target_of(1, pairs), 2, "every pair must be settled");
        assert_eq!(rule.target_of(1, [&[vote(true, 0.9)][..], &[vote(false, 0.95)][..]]), 1);
        assert_eq!(rule.target_of(1, std::iter::empty()), 2, "an answer with no verdicts settles nothing");
        let at_least_two = AdaptiveOverlap { min: 2, ..rule };
        assert_eq!(at_least_two.target(&[vote(true, 0.99)]), 2, "min holds however sure the first vote is");
    }
}
