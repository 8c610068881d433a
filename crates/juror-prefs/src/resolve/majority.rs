//! Majority vote on each pair.

use crate::judgment::Judgment;
use crate::pair_judgment::Outcome;
use crate::resolve::votes::collect;
use crate::resolve::ResolvedPair;

/// The most common verdict on each pair. When both sides have the same number of votes the pair
/// is a tie; when tie votes draw level with one side, that side wins (a stated preference beats
/// an abstention). `margin` is |wins - losses| / judgments.
///
/// Argilla v1's ranking "majority" picks the most common whole ranking, breaking draws at random;
/// counting per pair gives the same answer for two options, is deterministic, and still finds a
/// majority on each pair when no two labelers gave the same full ranking of many options.
pub fn majority(judgments: &[Judgment]) -> Vec<ResolvedPair> {
    collect(judgments)
        .iter()
        .map(|pair| {
            let (first, second, tie) = (pair.count(Outcome::AWins), pair.count(Outcome::BWins), pair.count(Outcome::Tie));
            let verdict = if first > second && first >= tie {
                Outcome::AWins
            } else if second > first && second >= tie {
                Outcome::BWins
            } else {
                Outcome::Tie
            };
            let margin = first.abs_diff(second) as f64 / pair.votes.len() as f64;
            pair.resolved(verdict, pair.share_first(), margin)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{check, judgments};

    #[test]
    fn each_pair_goes_to_the_most_common_verdict() {
        // Three labelers rank a, b, c: a > b twice, b > a once; c is last twice and tied once.
        let judgments = judgments(&[
            ("ann", &[("a", 1), ("b", 2), ("c", 3)]),
            ("bob", &[("a", 1), ("b", 2), ("c", 2)]),
            ("cid", &[("a", 2), ("b", 1), ("c", 3)]),
        ]);
        check(
            &majority(&judgments),
            &[
                // (chosen, rejected, tie, p_chosen, margin, judgments, agreement)
                ("a", "b", false, 2.0 / 3.0, 1.0 / 3.0, 3, 2.0 / 3.0),
                ("a", "c", false, 1.0, 1.0, 3, 1.0),
                ("b", "c", false, 2.5 / 3.0, 2.0 / 3.0, 3, 2.0 / 3.0),
            ],
        );
    }

    #[test]
    fn draws_between_sides_are_ties_and_preferences_beat_abstentions() {
        let split = judgments(&[("ann", &[("x", 1), ("y", 2)]), ("bob", &[("x", 2), ("y", 1)])]);
        check(&majority(&split), &[("x", "y", true, 0.5, 0.0, 2, 0.0)]);
        let mostly_tied = judgments(&[("ann", &[("x", 1), ("y", 1)]), ("bob", &[("x", 1), ("y", 1)]), ("cid", &[("x", 2), ("y", 1)])]);
        check(&majority(&mostly_tied), &[("x", "y", true, 1.0 / 3.0, 1.0 / 3.0, 3, 2.0 / 3.0)]);
        let level = judgments(&[("ann", &[("x", 1), ("y", 1)]), ("bob", &[("x", 2), ("y", 1)])]);
        check(&majority(&level), &[("y", "x", false, 0.75, 0.5, 2, 0.5)]);
    }
}
