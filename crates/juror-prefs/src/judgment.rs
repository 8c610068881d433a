//! One labeler's ranking of one item's options: the input every statistic reads.

use std::collections::HashSet;

use crate::error::PrefsError;
use crate::pair_judgment::{Outcome, PairJudgment};

/// A labeler's ranking of an item's options; rank 1 is best and equal ranks are ties.
///
/// Built only through [`Judgment::new`], so ids are non-empty, options unique, ranks at least 1,
/// and the shown order (when given) is a permutation of the ranked options. Ranks are kept as
/// given: `1, 1, 3` and `1, 1, 2` say the same order, and only mean rank reads the numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgment {
    item: String,
    labeler: String,
    ranks: Vec<(String, u32)>,
    shown_order: Option<Vec<String>>,
    time_on_task_ms: Option<u64>,
}

impl Judgment {
    /// A judgment of `item` by `labeler`, from `(option, rank)` pairs in any order.
    pub fn new<O: Into<String>>(
        item: impl Into<String>,
        labeler: impl Into<String>,
        ranks: impl IntoIterator<Item = (O, u32)>,
    ) -> Result<Self, PrefsError> {
        let item = non_empty(item.into(), "item")?;
        let labeler = non_empty(labeler.into(), "labeler")?;
        let ranks: Vec<(String, u32)> = ranks.into_iter().map(|(option, rank)| (option.into(), rank)).collect();
        if ranks.len() < 2 {
            return Err(PrefsError::TooFewOptions { count: ranks.len() });
        }
        let mut seen = HashSet::new();
        for (option, rank) in &ranks {
            if option.is_empty() {
                return Err(PrefsError::EmptyId { what: "option" });
            }
            if !seen.insert(option.as_str()) {
                return Err(PrefsError::DuplicateOption { option: option.clone() });
            }
            if *rank == 0 {
                return Err(PrefsError::ZeroRank { option: option.clone() });
            }
        }
        Ok(Self { item, labeler, ranks, shown_order: None, time_on_task_ms: None })
    }

    /// The two-option judgment a pairwise verdict stands for: the winner ranked 1 and the loser 2,
    /// or both 1 for a tie. This is how pairwise ratings reach the resolvers.
    pub fn from_pair(pair: &PairJudgment) -> Self {
        let (rank_a, rank_b) = match pair.outcome() {
            Outcome::AWins => (1, 2),
            Outcome::BWins => (2, 1),
            Outcome::Tie => (1, 1),
        };
        Self {
            item: pair.item().to_owned(),
            labeler: pair.labeler().to_owned(),
            ranks: vec![(pair.a().to_owned(), rank_a), (pair.b().to_owned(), rank_b)],
            shown_order: None,
            time_on_task_ms: None,
        }
    }

    /// The same judgment with the order its options were shown in, first on screen first.
    pub fn with_shown_order<O: Into<String>>(mut self, order: impl IntoIterator<Item = O>) -> Result<Self, PrefsError> {
        let order: Vec<String> = order.into_iter().map(Into::into).collect();
        let unique: HashSet<&str> = order.iter().map(String::as_str).collect();
        let complete = order.len() == self.ranks.len()
            && unique.len() == order.len()
            && self.ranks.iter().all(|(option, _)| unique.contains(option.as_str()));
        if !complete {
            return Err(PrefsError::ShownOrderMismatch);
        }
        self.shown_order = Some(order);
        Ok(self)
    }

    /// The same judgment with the time the labeler spent on it, in milliseconds.
    pub fn with_time_on_task_ms(mut self, milliseconds: u64) -> Self {
        self.time_on_task_ms = Some(milliseconds);
        self
    }

    /// The judged item (record) id.
    pub fn item(&self) -> &str {
        &self.item
    }

    /// The labeler's id.
    pub fn labeler(&self) -> &str {
        &self.labeler
    }

    /// The `(option, rank)` pairs in the order given.
    pub fn ranks(&self) -> &[(String, u32)] {
        &self.ranks
    }

    /// The rank given to `option`, if this judgment ranks it.
    pub fn rank_of(&self, option: &str) -> Option<u32> {
        self.ranks.iter().find(|(candidate, _)| candidate == option).map(|(_, rank)| *rank)
    }

    /// The order the options were shown in, when it was recorded.
    pub fn shown_order(&self) -> Option<&[String]> {
        self.shown_order.as_deref()
    }

    /// The time on task in milliseconds, when it was recorded.
    pub fn time_on_task_ms(&self) -> Option<u64> {
        self.time_on_task_ms
    }
}

fn non_empty(id: String, what: &'static str) -> Result<String, PrefsError> {
    if id.is_empty() {
        Err(PrefsError::EmptyId { what })
    } else {
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judgment(ranks: &[(&str, u32)]) -> Result<Judgment, PrefsError> {
        Judgment::new("item", "ann", ranks.iter().copied())
    }

    #[test]
    fn rankings_with_ties_are_accepted_and_kept_as_given() {
        let judgment = judgment(&[("b", 2), ("a", 1), ("c", 1)]).unwrap();
        assert_eq!(judgment.rank_of("c"), Some(1));
        assert_eq!(judgment.rank_of("z"), None);
        assert_eq!(judgment.ranks()[0], ("b".to_owned(), 2));
    }

    #[test]
    fn malformed_rankings_are_rejected_with_the_reason() {
        let cases: [(&[(&str, u32)], PrefsError); 4] = [
            (&[("a", 1)], PrefsError::TooFewOptions { count: 1 }),
            (&[("a", 1), ("a", 2)], PrefsError::DuplicateOption { option: "a".into() }),
            (&[("a", 0), ("b", 1)], PrefsError::ZeroRank { option: "a".into() }),
            (&[("", 1), ("b", 1)], PrefsError::EmptyId { what: "option" }),
        ];
        for (ranks, expected) in cases {
            assert_eq!(judgment(ranks), Err(expected), "{ranks:?}");
        }
        assert_eq!(Judgment::new("", "ann", [("a", 1), ("b", 2)]), Err(PrefsError::EmptyId { what: "item" }));
    }

    #[test]
    fn shown_order_must_be_a_permutation_of_the_ranked_options() {
        let base = judgment(&[("a", 1), ("b", 2)]).unwrap();
        assert_eq!(base.clone().with_shown_order(["b", "a"]).unwrap().shown_order().unwrap(), ["b", "a"]);
        for bad in [vec!["a"], vec!["a", "a"], vec!["a", "c"], vec!["a", "b", "c"]] {
            assert_eq!(base.clone().with_shown_order(bad.clone()), Err(PrefsError::ShownOrderMismatch), "{bad:?}");
        }
    }

    #[test]
    fn a_pair_verdict_becomes_a_two_option_ranking() {
        let pair = PairJudgment::new("item", "ann", "x", "y", Outcome::BWins).unwrap();
        let judgment = Judgment::from_pair(&pair);
        assert_eq!((judgment.rank_of("x"), judgment.rank_of("y")), (Some(2), Some(1)));
        let tie = PairJudgment::new("item", "ann", "x", "y", Outcome::Tie).unwrap();
        assert_eq!(Judgment::from_pair(&tie).rank_of("y"), Some(1));
    }
}
