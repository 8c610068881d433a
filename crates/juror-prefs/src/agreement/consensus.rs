//! Each labeler's agreement with the resolved consensus.

use std::collections::{BTreeMap, HashMap};

use crate::judgment::Judgment;
use crate::pair_judgment::Outcome;
use crate::resolve::votes::collect;
use crate::resolve::ResolvedPair;

/// How often one labeler's pair verdicts match the consensus.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelerAgreement {
    /// The labeler's id.
    pub labeler: String,
    /// How many of their pair verdicts had a resolved pair to compare with.
    pub compared: usize,
    /// How many of those equal the resolved verdict: counts add up across parts of a dataset,
    /// where `agreement` does not.
    pub agreed: usize,
    /// The share of those that equal the resolved verdict (a tie only matches a resolved tie).
    pub agreement: f64,
}

/// Each labeler's agreement with `resolved` (from any strategy), sorted by labeler id; labelers
/// with nothing to compare are left out. The labeler's own verdict is part of the consensus, so
/// with three judgments per pair everyone scores above chance: compare labelers with each other
/// rather than with 1.0.
pub fn consensus_agreement(judgments: &[Judgment], resolved: &[ResolvedPair]) -> Vec<LabelerAgreement> {
    let verdicts: HashMap<(&str, &str, &str), Outcome> = resolved
        .iter()
        .map(|pair| {
            let (chosen, rejected) = (pair.chosen.as_str(), pair.rejected.as_str());
            let (first, second) = if chosen < rejected { (chosen, rejected) } else { (rejected, chosen) };
            let verdict = match (pair.tie, first == chosen) {
                (true, _) => Outcome::Tie,
                (false, true) => Outcome::AWins,
                (false, false) => Outcome::BWins,
            };
            ((pair.item.as_str(), first, second), verdict)
        })
        .collect();
    let mut tallies: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for pair in collect(judgments) {
        let Some(verdict) = verdicts.get(&(pair.item, pair.first, pair.second)) else { continue };
        for vote in &pair.votes {
            let tally = tallies.entry(vote.labeler).or_default();
            tally.0 += 1;
            tally.1 += usize::from(vote.outcome == *verdict);
        }
    }
    tallies
        .into_iter()
        .map(|(labeler, (compared, agreed))| LabelerAgreement {
            labeler: labeler.to_owned(),
            compared,
            agreed,
            agreement: agreed as f64 / compared as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::majority;

    #[test]
    fn agreement_counts_matching_pair_verdicts() {
        // Majority: a > b, a > c, b > c. ann matches all 3; bob ties b and c (2 of 3); cid puts
        // b over a (2 of 3). dan judged an item nobody resolved.
        let judgments = [
            Judgment::new("q", "ann", [("a", 1), ("b", 2), ("c", 3)]).unwrap(),
            Judgment::new("q", "bob", [("a", 1), ("b", 2), ("c", 2)]).unwrap(),
            Judgment::new("q", "cid", [("a", 2), ("b", 1), ("c", 3)]).unwrap(),
        ];
        let resolved = majority(&judgments);
        let mut with_stranger = judgments.to_vec();
        with_stranger.push(Judgment::new("other", "dan", [("x", 1), ("y", 2)]).unwrap());
        let rows: Vec<(String, usize, f64)> = consensus_agreement(&with_stranger, &resolved)
            .into_iter()
            .map(|row| (row.labeler, row.compared, row.agreement))
            .collect();
        assert_eq!(rows, [("ann".into(), 3, 1.0), ("bob".into(), 3, 2.0 / 3.0), ("cid".into(), 3, 2.0 / 3.0)]);
    }
}
