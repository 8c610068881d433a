//! Every pair's votes in a compact table: what the reliability fit needs from all judgments.
//!
//! The reliability model pools each labeler's accuracy over the whole dataset, so it has to see
//! every vote before it can resolve any pair. A table row is a pair's votes as (labeler index,
//! verdict): five bytes a vote plus four a pair, with no item, option or labeler strings beyond
//! one copy of each labeler's id. Callers that read a dataset a record at a time add each
//! record's judgments, fit, and then resolve the records again one at a time with the model.

use std::collections::HashMap;

use crate::judgment::Judgment;
use crate::pair_judgment::Outcome;
use crate::resolve::reliability::{fit_model, ReliabilityModel, ReliabilityOptions};
use crate::resolve::votes::collect;

/// The votes on every pair added so far, labelers interned as indexes.
#[derive(Debug, Clone, Default)]
pub struct VoteTable {
    /// Labeler ids by index, in the order they first voted.
    pub(crate) labelers: Vec<String>,
    index: HashMap<String, u32>,
    /// Where each pair's votes end in `voters`/`verdicts` (a pair starts where the previous ends).
    pub(crate) ends: Vec<u32>,
    /// Each vote's labeler index.
    pub(crate) voters: Vec<u32>,
    /// Each vote's verdict: +1 the option whose id sorts first wins, -1 the other, 0 a tie.
    pub(crate) verdicts: Vec<i8>,
}

impl VoteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the votes of `judgments`, grouped into pairs as every strategy groups them. Add all of
    /// an item's judgments in one call: votes on the same pair added in two calls become two
    /// pairs.
    pub fn add(&mut self, judgments: &[Judgment]) {
        for pair in collect(judgments) {
            for vote in &pair.votes {
                let next = u32::try_from(self.labelers.len()).expect("fewer than 4 billion labelers");
                let labeler = *self.index.entry(vote.labeler.to_owned()).or_insert_with(|| {
                    self.labelers.push(vote.labeler.to_owned());
                    next
                });
                self.voters.push(labeler);
                self.verdicts.push(match vote.outcome {
                    Outcome::AWins => 1,
                    Outcome::BWins => -1,
                    Outcome::Tie => 0,
                });
            }
            self.ends.push(u32::try_from(self.voters.len()).expect("fewer than 4 billion votes"));
        }
    }

    /// How many pairs the table holds.
    pub fn pairs(&self) -> usize {
        self.ends.len()
    }

    /// How many votes the table holds.
    pub fn votes(&self) -> usize {
        self.voters.len()
    }

    /// The index range of each pair's votes, in the order the pairs were added.
    pub(crate) fn pair_ranges(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let range = start..end as usize;
            start = end as usize;
            range
        })
    }

    /// Fits the reliability model to every vote in the table.
    pub fn fit(&self, options: &ReliabilityOptions) -> ReliabilityModel {
        fit_model(self, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::judgments;

    #[test]
    fn votes_are_grouped_by_pair_with_interned_labelers() {
        let mut table = VoteTable::new();
        table.add(&judgments(&[("ann", &[("a", 1), ("b", 2), ("c", 2)]), ("bob", &[("b", 1), ("a", 2)])]));
        // Pairs (a, b): ann +1, bob -1; (a, c): ann +1; (b, c): ann tie.
        assert_eq!((table.pairs(), table.votes()), (3, 4));
        assert_eq!(table.labelers, ["ann", "bob"]);
        assert_eq!(table.pair_ranges().collect::<Vec<_>>(), [0..2, 2..3, 3..4]);
        assert_eq!((table.voters.as_slice(), table.verdicts.as_slice()), ([0, 1, 0, 0].as_slice(), [1, -1, 1, 0].as_slice()));
    }
}
