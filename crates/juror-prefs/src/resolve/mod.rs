//! Conflict resolution: one verdict per (item, pair of options) from several labelers' judgments.
//!
//! Every strategy returns the same [`ResolvedPair`] rows, one per pair of options that at least
//! one judgment ranks both of, sorted by item and then by option ids. The strategies:
//!
//! - [`majority`]: the most common verdict on each pair.
//! - [`mean_rank`]: the option with the lower mean rank wins (Argilla v1's "mean").
//! - [`borda`]: the option with more Borda points wins (ties split the point).
//! - [`reliability`]: a Dawid-Skene model that learns each labeler's accuracy and weights their
//!   votes by it; see that module for the model and why it was chosen. Its labeler parameters
//!   pool every vote, so a caller that reads a dataset an item at a time fills a [`VoteTable`]
//!   first, fits a [`ReliabilityModel`], and then resolves each item with it.
//!
//! [`cyclic_items`] finds the items whose verdicts go round (A over B, B over C, C over A).

mod cycles;
mod majority;
mod rank;
mod reliability;
mod resolved;
mod vote_table;
pub(crate) mod votes;

pub use cycles::cyclic_items;
pub use majority::majority;
pub use rank::{borda, mean_rank};
pub use reliability::{reliability, LabelerReliability, ReliabilityFit, ReliabilityModel, ReliabilityOptions};
pub use resolved::ResolvedPair;
pub use vote_table::VoteTable;

use crate::judgment::Judgment;

/// A conflict-resolution strategy, for callers that pick one at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// See [`majority`].
    Majority,
    /// See [`mean_rank`].
    MeanRank,
    /// See [`borda`].
    Borda,
    /// See [`reliability`].
    Reliability(ReliabilityOptions),
}

/// Resolves `judgments` with `strategy`.
pub fn resolve(judgments: &[Judgment], strategy: &Strategy) -> Vec<ResolvedPair> {
    match strategy {
        Strategy::Majority => majority(judgments),
        Strategy::MeanRank => mean_rank(judgments),
        Strategy::Borda => borda(judgments),
        Strategy::Reliability(options) => reliability(judgments, options).pairs,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// (chosen, rejected, tie, p_chosen, margin, judgments, agreement)
    pub(crate) type Row = (&'static str, &'static str, bool, f64, f64, usize, f64);

    /// Judgments of one item, `q`, by the given labelers.
    pub(crate) fn judgments(spec: &[(&str, &[(&str, u32)])]) -> Vec<Judgment> {
        spec.iter().map(|(labeler, ranks)| Judgment::new("q", *labeler, ranks.iter().copied()).unwrap()).collect()
    }

    pub(crate) fn check(resolved: &[ResolvedPair], expected: &[Row]) {
        assert_eq!(resolved.len(), expected.len(), "{resolved:#?}");
        for (got, want) in resolved.iter().zip(expected) {
            let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
            let same = (got.chosen.as_str(), got.rejected.as_str(), got.tie, got.judgments) == (want.0, want.1, want.2, want.5)
                && close(got.p_chosen, want.3)
                && close(got.margin, want.4)
                && close(got.agreement, want.6);
            assert!(same, "got {got:?}, expected {want:?}");
        }
    }

    #[test]
    fn every_strategy_agrees_on_a_unanimous_item() {
        let unanimous = judgments(&[("ann", &[("b", 2), ("a", 1)]), ("bob", &[("a", 1), ("b", 2)])]);
        for strategy in [Strategy::Majority, Strategy::MeanRank, Strategy::Borda, Strategy::Reliability(ReliabilityOptions::default())] {
            let rows = resolve(&unanimous, &strategy);
            assert_eq!((rows[0].chosen.as_str(), rows[0].tie, rows[0].judgments, rows[0].agreement), ("a", false, 2, 1.0), "{strategy:?}");
        }
    }
}
