//! Length bias: does the longer response win more than half the time?

use crate::bias::rate::RateSums;
use crate::bias::{BiasOptions, RateTest};
use crate::judgment::Judgment;

/// How response length relates to the verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct LengthBias {
    /// The longer option's win rate over strict pairs of different lengths, tested against 1/2.
    pub test: RateTest,
    /// Strict pairs whose two lengths were both known (equal lengths included).
    pub pairs: usize,
    /// The mean length of the chosen option over those pairs.
    pub mean_chosen_length: f64,
    /// The mean length of the rejected option over those pairs.
    pub mean_rejected_length: f64,
}

/// Tests whether the longer option wins. `length_of(item, option)` gives an option's length in
/// whatever unit suits (characters, tokens), or `None` when unknown; such pairs are skipped, as
/// are tied pairs. Every strict pair of a ranking counts, and the pairs of one ranking are not
/// independent, so for rankings of three or more options the z-score overstates the evidence.
/// A high rate is a prompt to look, not proof of bias: the longer answer is sometimes better.
pub fn longer_response(judgments: &[Judgment], length_of: impl Fn(&str, &str) -> Option<usize>, options: &BiasOptions) -> LengthBias {
    let mut tally = LengthTally::default();
    tally.add(judgments, length_of);
    tally.report(options)
}

/// [`longer_response`] gathered a part of the judgments at a time.
#[derive(Debug, Clone, Default)]
pub struct LengthTally {
    wins: RateSums,
    pairs: usize,
    chosen_total: f64,
    rejected_total: f64,
}

impl LengthTally {
    /// Counts `judgments` in, with `length_of(item, option)` for the options' lengths.
    pub fn add(&mut self, judgments: &[Judgment], length_of: impl Fn(&str, &str) -> Option<usize>) {
        for judgment in judgments {
            let ranks = judgment.ranks();
            for (i, (x, rank_x)) in ranks.iter().enumerate() {
                for (y, rank_y) in &ranks[i + 1..] {
                    if rank_x == rank_y {
                        continue;
                    }
                    let (Some(length_x), Some(length_y)) = (length_of(judgment.item(), x), length_of(judgment.item(), y)) else {
                        continue;
                    };
                    let (chosen, rejected) = if rank_x < rank_y { (length_x, length_y) } else { (length_y, length_x) };
                    self.pairs += 1;
                    self.chosen_total += chosen as f64;
                    self.rejected_total += rejected as f64;
                    if chosen != rejected {
                        self.wins.add(f64::from(u8::from(chosen > rejected)), 0.25);
                    }
                }
            }
        }
    }

    /// The report on every judgment counted so far.
    pub fn report(&self, options: &BiasOptions) -> LengthBias {
        let mean = |total: f64| if self.pairs == 0 { 0.0 } else { total / self.pairs as f64 };
        LengthBias {
            test: self.wins.test(options),
            pairs: self.pairs,
            mean_chosen_length: mean(self.chosen_total),
            mean_rejected_length: mean(self.rejected_total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longer_options_wins_are_counted_over_strict_pairs() {
        let judgments = [
            Judgment::new("q1", "ann", [("a", 1), ("b", 2)]).unwrap(),          // longer (a, 100) wins
            Judgment::new("q1", "bob", [("a", 2), ("b", 1)]).unwrap(),          // shorter (b, 50) wins
            Judgment::new("q2", "ann", [("x", 1), ("y", 2), ("z", 3)]).unwrap(), // x 30 beats y 20, z 20; y = z in length
            Judgment::new("q3", "ann", [("u", 1), ("v", 1)]).unwrap(),          // tie: skipped
            Judgment::new("q4", "ann", [("u", 1), ("w", 2)]).unwrap(),          // w's length unknown: skipped
        ];
        let lengths = [("a", 100), ("b", 50), ("x", 30), ("y", 20), ("z", 20), ("u", 10), ("v", 5)];
        let length_of = |_: &str, option: &str| lengths.iter().find(|(name, _)| *name == option).map(|(_, length)| *length);
        let bias = longer_response(&judgments, length_of, &BiasOptions::default());
        // 3 of 4 decisive pairs: z = (3 - 2) / sqrt(4 / 4) = 1.
        assert_eq!((bias.test.observations, bias.test.rate, bias.test.z, bias.test.flagged), (4, 0.75, 1.0, false));
        // Chosen (100 + 50 + 30 + 30 + 20) / 5 = 46; rejected (50 + 100 + 20 + 20 + 20) / 5 = 42.
        assert_eq!((bias.pairs, bias.mean_chosen_length, bias.mean_rejected_length), (5, 46.0, 42.0));
    }
}
