//! First-position bias: does the option shown first win more often than chance?

use std::collections::BTreeMap;

use crate::bias::rate::RateSums;
use crate::bias::{BiasOptions, RateTest};
use crate::judgment::Judgment;

/// One labeler's win rate with its test.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelerRate {
    /// The labeler's id.
    pub labeler: String,
    /// Their rate and its test.
    pub test: RateTest,
}

/// The first-shown option's win rate, over all judgments and per labeler.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionBias {
    /// Over every judgment with a recorded shown order.
    pub overall: RateTest,
    /// Per labeler, sorted by id.
    pub labelers: Vec<LabelerRate>,
}

/// Tests whether the first-shown option wins more (or less) than chance. Judgments without a
/// shown order are skipped.
///
/// Each judgment scores the share of the other options that the first-shown one beats, a tie
/// counting half: for two options, 1 when it wins, 0 when it loses, so the rate is the plain win
/// rate and the test is the binomial one. Without bias, and with the shown order shuffled per
/// labeler as Juror does, the first-shown option's place in the ranking is uniform over the N
/// places, so the score averages 1/2 with variance (N+1) / (12(N-1)); ties only lower it, so the
/// test then errs toward not flagging. If the order is not shuffled, a better option that is
/// always shown first looks like bias.
pub fn first_position(judgments: &[Judgment], options: &BiasOptions) -> PositionBias {
    let mut tally = PositionTally::default();
    tally.add(judgments);
    tally.report(options)
}

/// [`first_position`] gathered a part of the judgments at a time.
#[derive(Debug, Clone, Default)]
pub struct PositionTally {
    overall: RateSums,
    by_labeler: BTreeMap<String, RateSums>,
}

impl PositionTally {
    /// Counts `judgments` in.
    pub fn add(&mut self, judgments: &[Judgment]) {
        for judgment in judgments {
            let Some((score, variance)) = first_shown_score(judgment) else { continue };
            self.overall.add(score, variance);
            match self.by_labeler.get_mut(judgment.labeler()) {
                Some(sums) => sums.add(score, variance),
                None => {
                    let mut sums = RateSums::default();
                    sums.add(score, variance);
                    self.by_labeler.insert(judgment.labeler().to_owned(), sums);
                }
            }
        }
    }

    /// The report on every judgment counted so far.
    pub fn report(&self, options: &BiasOptions) -> PositionBias {
        PositionBias {
            overall: self.overall.test(options),
            labelers: self.by_labeler.iter().map(|(labeler, sums)| LabelerRate { labeler: labeler.clone(), test: sums.test(options) }).collect(),
        }
    }
}

/// (score, variance without bias) of the first-shown option, when the shown order is known.
fn first_shown_score(judgment: &Judgment) -> Option<(f64, f64)> {
    let first = judgment.shown_order()?.first()?;
    let rank = judgment.rank_of(first)?;
    let others = (judgment.ranks().len() - 1) as f64;
    let beaten = judgment.ranks().iter().filter(|(_, other)| rank < *other).count() as f64;
    let tied = judgment.ranks().iter().filter(|(_, other)| rank == *other).count() as f64 - 1.0;
    Some(((beaten + 0.5 * tied) / others, (others + 2.0) / (12.0 * others)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(labeler: &str, ranks: &[(&str, u32)], order: &[&str]) -> Judgment {
        Judgment::new("q", labeler, ranks.iter().copied()).unwrap().with_shown_order(order.iter().copied()).unwrap()
    }

    #[test]
    fn the_first_shown_option_scores_the_share_it_beats() {
        let judgments = [
            // Two options, first shown wins: score 1, variance 1/4.
            shown("ann", &[("x", 1), ("y", 2)], &["x", "y"]),
            // Three options, first shown is last: score 0, variance 4/24 = 1/6.
            shown("ann", &[("a", 1), ("b", 2), ("c", 3)], &["c", "a", "b"]),
            // Three options, first shown tied at the top: (1 + 0.5) / 2 = 0.75, variance 1/6.
            shown("bob", &[("a", 1), ("b", 1), ("c", 3)], &["a", "c", "b"]),
            // No shown order: skipped.
            Judgment::new("q", "bob", [("x", 1), ("y", 2)]).unwrap(),
        ];
        let bias = first_position(&judgments, &BiasOptions::default());
        // rate = 1.75 / 3; z = (1.75 - 1.5) / sqrt(1/4 + 1/6 + 1/6) = 0.25 / sqrt(7/12).
        assert_eq!(bias.overall.observations, 3);
        assert!((bias.overall.rate - 1.75 / 3.0).abs() < 1e-12);
        assert!((bias.overall.z - 0.25 / (7.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert!(!bias.overall.flagged);
        let per_labeler: Vec<(&str, usize, f64)> =
            bias.labelers.iter().map(|row| (row.labeler.as_str(), row.test.observations, row.test.rate)).collect();
        assert_eq!(per_labeler, [("ann", 2, 0.5), ("bob", 1, 0.75)]);
    }

    #[test]
    fn a_labeler_who_always_picks_the_first_shown_is_flagged() {
        let judgments: Vec<Judgment> = (0..12)
            .map(|i| if i % 2 == 0 { shown("ann", &[("x", 1), ("y", 2)], &["x", "y"]) } else { shown("ann", &[("x", 2), ("y", 1)], &["y", "x"]) })
            .collect();
        let bias = first_position(&judgments, &BiasOptions::default());
        // 12 of 12: z = 6 / sqrt(3) = 3.46.
        assert_eq!((bias.overall.rate, bias.labelers[0].test.flagged), (1.0, true));
        assert!((bias.overall.z - 6.0 / 3f64.sqrt()).abs() < 1e-12);
    }
}
