//! Mean rank and Borda count: the consensus order of each item's options, read pair by pair.

use std::collections::HashMap;

use crate::judgment::Judgment;
use crate::pair_judgment::Outcome;
use crate::resolve::votes::collect;
use crate::resolve::ResolvedPair;

/// Scores closer than this are equal (they are means of small integers and halves).
const EPSILON: f64 = 1e-9;

/// The option with the lower mean rank wins each pair; equal means are a tie. `margin` is the
/// difference in mean rank. Each option's mean is over the judgments that rank it, and ranks are
/// read as given, so `1, 1, 2` and `1, 1, 3` weigh differently; Argilla v1's "mean" strategy does
/// the same before rounding (we keep the unrounded mean).
pub fn mean_rank(judgments: &[Judgment]) -> Vec<ResolvedPair> {
    let means = option_means(judgments, |_, rank| f64::from(rank));
    by_score(judgments, &means, |first, second| second - first)
}

/// The option with more Borda points wins each pair. A judgment gives an option one point for
/// each option it ranks below it and half a point for each tied one, so the result depends on the
/// order only, not on how ties were numbered. `margin` is the difference in mean points per
/// judgment (options ranked by fewer judgments are not penalised).
pub fn borda(judgments: &[Judgment]) -> Vec<ResolvedPair> {
    let points = option_means(judgments, borda_points);
    by_score(judgments, &points, |first, second| first - second)
}

fn borda_points(judgment: &Judgment, rank: u32) -> f64 {
    let beaten = judgment.ranks().iter().filter(|(_, other)| rank < *other).count() as f64;
    let tied = judgment.ranks().iter().filter(|(_, other)| rank == *other).count() as f64 - 1.0;
    beaten + 0.5 * tied
}

/// Each (item, option)'s mean score over the judgments that rank it.
fn option_means(judgments: &[Judgment], score: impl Fn(&Judgment, u32) -> f64) -> HashMap<(&str, &str), f64> {
    let mut sums: HashMap<(&str, &str), (f64, usize)> = HashMap::new();
    for judgment in judgments {
        for (option, rank) in judgment.ranks() {
            let entry = sums.entry((judgment.item(), option.as_str())).or_default();
            entry.0 += score(judgment, *rank);
            entry.1 += 1;
        }
    }
    sums.into_iter().map(|(key, (sum, count))| (key, sum / count as f64)).collect()
}

/// Resolves each pair by `advantage(first's score, second's score)`, positive when first wins.
fn by_score(judgments: &[Judgment], scores: &HashMap<(&str, &str), f64>, advantage: impl Fn(f64, f64) -> f64) -> Vec<ResolvedPair> {
    collect(judgments)
        .iter()
        .map(|pair| {
            let advantage = advantage(scores[&(pair.item, pair.first)], scores[&(pair.item, pair.second)]);
            let verdict = if advantage > EPSILON {
                Outcome::AWins
            } else if advantage < -EPSILON {
                Outcome::BWins
            } else {
                Outcome::Tie
            };
            let margin = if verdict == Outcome::Tie { 0.0 } else { advantage.abs() };
            pair.resolved(verdict, pair.share_first(), margin)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{check, judgments};

    #[test]
    fn without_ties_mean_rank_and_borda_give_the_same_order_and_margins() {
        // Mean ranks: a (1+2+3)/3 = 2, b (2+1+1)/3 = 4/3, c (3+3+2)/3 = 8/3.
        // Borda points: a (2+1+0)/3 = 1, b (1+2+2)/3 = 5/3, c (0+0+1)/3 = 1/3: the same gaps.
        let judgments = judgments(&[
            ("ann", &[("a", 1), ("b", 2), ("c", 3)]),
            ("bob", &[("a", 2), ("b", 1), ("c", 3)]),
            ("cid", &[("a", 3), ("b", 1), ("c", 2)]),
        ]);
        let expected = [
            ("b", "a", false, 2.0 / 3.0, 2.0 / 3.0, 3, 2.0 / 3.0),
            ("a", "c", false, 2.0 / 3.0, 2.0 / 3.0, 3, 2.0 / 3.0),
            ("b", "c", false, 1.0, 4.0 / 3.0, 3, 1.0),
        ];
        check(&mean_rank(&judgments), &expected);
        check(&borda(&judgments), &expected);
    }

    #[test]
    fn borda_reads_the_order_while_mean_rank_reads_the_numbers() {
        // ann numbers her tie densely (1, 1, 2). Mean ranks: a 1.5, b 2, c 1.5, so a and c tie.
        // Borda points: ann a 1.5, b 1.5, c 0; bob a 1, b 0, c 2; means a 1.25, b 0.75, c 1.
        let judgments = judgments(&[("ann", &[("a", 1), ("b", 1), ("c", 2)]), ("bob", &[("a", 2), ("b", 3), ("c", 1)])]);
        check(
            &mean_rank(&judgments),
            &[("a", "b", false, 0.75, 0.5, 2, 0.5), ("a", "c", true, 0.5, 0.0, 2, 0.0), ("c", "b", false, 0.5, 0.5, 2, 0.5)],
        );
        check(
            &borda(&judgments),
            &[("a", "b", false, 0.75, 0.5, 2, 0.5), ("a", "c", false, 0.5, 0.25, 2, 0.5), ("c", "b", false, 0.5, 0.25, 2, 0.5)],
        );
    }

    #[test]
    fn items_are_resolved_separately() {
        let judgments = [
            Judgment::new("q1", "ann", [("x", 1), ("y", 2)]).unwrap(),
            Judgment::new("q2", "ann", [("x", 2), ("y", 1)]).unwrap(),
        ];
        let rows = borda(&judgments);
        assert_eq!(rows.iter().map(|row| (row.item.as_str(), row.chosen.as_str())).collect::<Vec<_>>(), [("q1", "x"), ("q2", "y")]);
    }
}
