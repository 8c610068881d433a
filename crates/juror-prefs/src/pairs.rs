//! Pair extraction: a ranking of N options as (chosen, rejected) rows for reward-model training.

use crate::judgment::Judgment;
use crate::pair_judgment::{Outcome, PairJudgment};

/// What to do with two options a labeler ranked equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TiePolicy {
    /// Leave tied pairs out (what a plain Bradley-Terry loss needs).
    Drop,
    /// Keep them as [`Outcome::Tie`] rows (for losses or filters that use ties).
    Keep,
}

/// Which pairs of a ranking become rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binarization {
    /// Every pair: N(N-1)/2 rows from N options.
    AllPairs,
    /// Each top-ranked option against each bottom-ranked one: one row unless the top or the
    /// bottom is tied. A ranking that is one big tie gives its tie rows, subject to [`TiePolicy`].
    BestVsWorst,
}

/// The pairs of one judgment. A strict row has the better option as `a` ([`Outcome::AWins`]);
/// a tie row lists the two options in the judgment's order. Rows come best-first.
pub fn extract_pairs(judgment: &Judgment, binarization: Binarization, ties: TiePolicy) -> Vec<PairJudgment> {
    let mut ranked: Vec<&(String, u32)> = judgment.ranks().iter().collect();
    ranked.sort_by_key(|(_, rank)| *rank);
    let best = ranked[0].1;
    let worst = ranked[ranked.len() - 1].1;
    let mut rows = Vec::new();
    for (i, (a, rank_a)) in ranked.iter().enumerate() {
        for (b, rank_b) in &ranked[i + 1..] {
            let keep = match binarization {
                Binarization::AllPairs => true,
                Binarization::BestVsWorst => best == worst || (*rank_a == best && *rank_b == worst),
            };
            let outcome = Outcome::from_ranks(*rank_a, *rank_b);
            if keep && (outcome != Outcome::Tie || ties == TiePolicy::Keep) {
                rows.push(pair(judgment, a, b, outcome));
            }
        }
    }
    rows
}

/// The pairs of many judgments, in order.
pub fn extract_all(judgments: &[Judgment], binarization: Binarization, ties: TiePolicy) -> Vec<PairJudgment> {
    judgments.iter().flat_map(|judgment| extract_pairs(judgment, binarization, ties)).collect()
}

fn pair(judgment: &Judgment, a: &str, b: &str, outcome: Outcome) -> PairJudgment {
    PairJudgment::new(judgment.item(), judgment.labeler(), a, b, outcome)
        .expect("a judgment's ids are non-empty and its options unique")
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row = (&'static str, &'static str, Outcome);

    fn check(ranks: &[(&str, u32)], binarization: Binarization, ties: TiePolicy, expected: &[Row]) {
        let judgment = Judgment::new("item", "ann", ranks.iter().copied()).unwrap();
        let rows: Vec<(String, String, Outcome)> = extract_pairs(&judgment, binarization, ties)
            .iter()
            .map(|row| (row.a().to_owned(), row.b().to_owned(), row.outcome()))
            .collect();
        let expected: Vec<(String, String, Outcome)> =
            expected.iter().map(|(a, b, outcome)| (a.to_string(), b.to_string(), *outcome)).collect();
        assert_eq!(rows, expected, "{ranks:?} {binarization:?} {ties:?}");
    }

    use Binarization::{AllPairs, BestVsWorst};
    use Outcome::{AWins, Tie};
    use TiePolicy::{Drop, Keep};

    #[test]
    fn all_pairs_of_a_strict_ranking_are_n_choose_2() {
        let ranks = [("c", 3), ("a", 1), ("d", 4), ("b", 2)];
        check(
            &ranks,
            AllPairs,
            Drop,
            &[("a", "b", AWins), ("a", "c", AWins), ("a", "d", AWins), ("b", "c", AWins), ("b", "d", AWins), ("c", "d", AWins)],
        );
        check(&ranks, BestVsWorst, Drop, &[("a", "d", AWins)]);
    }

    #[test]
    fn ties_are_dropped_or_kept_by_policy() {
        let ranks = [("a", 1), ("b", 1), ("c", 3)];
        check(&ranks, AllPairs, Drop, &[("a", "c", AWins), ("b", "c", AWins)]);
        check(&ranks, AllPairs, Keep, &[("a", "b", Tie), ("a", "c", AWins), ("b", "c", AWins)]);
    }

    #[test]
    fn best_vs_worst_pairs_each_top_option_with_each_bottom_option() {
        check(&[("a", 1), ("b", 1), ("c", 2)], BestVsWorst, Keep, &[("a", "c", AWins), ("b", "c", AWins)]);
        check(&[("a", 1), ("b", 2), ("c", 3), ("d", 3)], BestVsWorst, Drop, &[("a", "c", AWins), ("a", "d", AWins)]);
        check(&[("a", 2), ("b", 2)], BestVsWorst, Keep, &[("a", "b", Tie)]);
        check(&[("a", 2), ("b", 2)], BestVsWorst, Drop, &[]);
    }

    #[test]
    fn rows_keep_the_item_and_labeler() {
        let judgments = [
            Judgment::new("i1", "ann", [("x", 1), ("y", 2)]).unwrap(),
            Judgment::new("i2", "bob", [("x", 2), ("y", 1)]).unwrap(),
        ];
        let rows = extract_all(&judgments, AllPairs, Drop);
        assert_eq!(rows[1].item(), "i2");
        assert_eq!(rows[1].labeler(), "bob");
        assert_eq!(rows[1].chosen_rejected(), Some(("y", "x")));
    }
}
