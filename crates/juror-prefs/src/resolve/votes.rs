//! The verdicts on each pair of options, gathered from rankings: what every strategy counts.

use std::collections::BTreeMap;

use crate::judgment::Judgment;
use crate::pair_judgment::Outcome;
use crate::resolve::ResolvedPair;

/// One labeler's verdict on a pair, `Outcome::AWins` meaning `first` is better.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vote<'a> {
    pub(crate) labeler: &'a str,
    pub(crate) outcome: Outcome,
}

/// The verdicts on one pair; `first` is the option whose id sorts first, so every labeler's vote
/// on the same two options lands in the same place whatever order they were ranked in.
#[derive(Debug, Clone)]
pub(crate) struct PairVotes<'a> {
    pub(crate) item: &'a str,
    pub(crate) first: &'a str,
    pub(crate) second: &'a str,
    pub(crate) votes: Vec<Vote<'a>>,
}

impl PairVotes<'_> {
    /// How many votes say `outcome`.
    pub(crate) fn count(&self, outcome: Outcome) -> usize {
        self.votes.iter().filter(|vote| vote.outcome == outcome).count()
    }

    /// The share of votes preferring `first`, a tie counting half.
    pub(crate) fn share_first(&self) -> f64 {
        let first = self.count(Outcome::AWins) as f64 + 0.5 * self.count(Outcome::Tie) as f64;
        first / self.votes.len() as f64
    }

    /// The row for `verdict` (relative to `first`), with `p_first` = P(first is better).
    pub(crate) fn resolved(&self, verdict: Outcome, p_first: f64, margin: f64) -> ResolvedPair {
        let (chosen, rejected, p_chosen) = match verdict {
            Outcome::BWins => (self.second, self.first, 1.0 - p_first),
            Outcome::AWins | Outcome::Tie => (self.first, self.second, p_first),
        };
        ResolvedPair {
            item: self.item.to_owned(),
            chosen: chosen.to_owned(),
            rejected: rejected.to_owned(),
            tie: verdict == Outcome::Tie,
            p_chosen,
            margin,
            judgments: self.votes.len(),
            agreement: self.count(verdict) as f64 / self.votes.len() as f64,
        }
    }
}

/// The votes on every pair that some judgment ranks both options of, sorted by item then ids.
pub(crate) fn collect(judgments: &[Judgment]) -> Vec<PairVotes<'_>> {
    let mut pairs: BTreeMap<(&str, &str, &str), Vec<Vote<'_>>> = BTreeMap::new();
    for judgment in judgments {
        let ranks = judgment.ranks();
        for (i, (x, rank_x)) in ranks.iter().enumerate() {
            for (y, rank_y) in &ranks[i + 1..] {
                let outcome = Outcome::from_ranks(*rank_x, *rank_y);
                let (first, second, outcome) = if x < y { (x, y, outcome) } else { (y, x, outcome.flipped()) };
                let vote = Vote { labeler: judgment.labeler(), outcome };
                pairs.entry((judgment.item(), first, second)).or_default().push(vote);
            }
        }
    }
    pairs.into_iter().map(|((item, first, second), votes)| PairVotes { item, first, second, votes }).collect()
}
