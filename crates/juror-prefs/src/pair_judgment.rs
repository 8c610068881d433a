//! One labeler's verdict on one pair of options: the row of a pairwise preference dataset.

use crate::error::PrefsError;

/// Which side of a pair a labeler preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Option `a` is better.
    AWins,
    /// Option `b` is better.
    BWins,
    /// Neither is better.
    Tie,
}

impl Outcome {
    /// The same verdict with `a` and `b` swapped.
    pub fn flipped(self) -> Self {
        match self {
            Outcome::AWins => Outcome::BWins,
            Outcome::BWins => Outcome::AWins,
            Outcome::Tie => Outcome::Tie,
        }
    }

    /// The verdict of two ranks, `a`'s first (lower is better).
    pub fn from_ranks(rank_a: u32, rank_b: u32) -> Self {
        match rank_a.cmp(&rank_b) {
            std::cmp::Ordering::Less => Outcome::AWins,
            std::cmp::Ordering::Greater => Outcome::BWins,
            std::cmp::Ordering::Equal => Outcome::Tie,
        }
    }
}

/// A labeler's verdict on the pair (`a`, `b`) of an item's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairJudgment {
    item: String,
    labeler: String,
    a: String,
    b: String,
    outcome: Outcome,
}

impl PairJudgment {
    /// A verdict on two different options; ids must be non-empty.
    pub fn new(
        item: impl Into<String>,
        labeler: impl Into<String>,
        a: impl Into<String>,
        b: impl Into<String>,
        outcome: Outcome,
    ) -> Result<Self, PrefsError> {
        let (item, labeler, a, b) = (item.into(), labeler.into(), a.into(), b.into());
        for (id, what) in [(&item, "item"), (&labeler, "labeler"), (&a, "option"), (&b, "option")] {
            if id.is_empty() {
                return Err(PrefsError::EmptyId { what });
            }
        }
        if a == b {
            return Err(PrefsError::SameOption { option: a });
        }
        Ok(Self { item, labeler, a, b, outcome })
    }

    /// Reads the rating pattern of Argilla's reward-modeling guide, one `RatingQuestion` over two
    /// responses: 0 = equal, 1 = the first response is better, 2 = the second is.
    pub fn from_rating(
        item: impl Into<String>,
        labeler: impl Into<String>,
        first: impl Into<String>,
        second: impl Into<String>,
        rating: i64,
    ) -> Result<Self, PrefsError> {
        let outcome = match rating {
            0 => Outcome::Tie,
            1 => Outcome::AWins,
            2 => Outcome::BWins,
            rating => return Err(PrefsError::InvalidRating { rating }),
        };
        Self::new(item, labeler, first, second, outcome)
    }

    /// The item (record) id.
    pub fn item(&self) -> &str {
        &self.item
    }

    /// The labeler's id.
    pub fn labeler(&self) -> &str {
        &self.labeler
    }

    /// The first option of the pair.
    pub fn a(&self) -> &str {
        &self.a
    }

    /// The second option of the pair.
    pub fn b(&self) -> &str {
        &self.b
    }

    /// The verdict.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// `(chosen, rejected)`, or `None` for a tie.
    pub fn chosen_rejected(&self) -> Option<(&str, &str)> {
        match self.outcome {
            Outcome::AWins => Some((&self.a, &self.b)),
            Outcome::BWins => Some((&self.b, &self.a)),
            Outcome::Tie => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_follow_the_guide_pattern() {
        let check = |rating: i64, expected: Option<(&str, &str)>| {
            let pair = PairJudgment::from_rating("item", "ann", "r1", "r2", rating).unwrap();
            assert_eq!(pair.chosen_rejected(), expected, "rating {rating}");
        };
        check(0, None);
        check(1, Some(("r1", "r2")));
        check(2, Some(("r2", "r1")));
        for rating in [-1, 3] {
            assert_eq!(
                PairJudgment::from_rating("item", "ann", "r1", "r2", rating),
                Err(PrefsError::InvalidRating { rating })
            );
        }
    }

    #[test]
    fn a_pair_needs_two_options_and_ids() {
        assert_eq!(
            PairJudgment::new("item", "ann", "x", "x", Outcome::Tie),
            Err(PrefsError::SameOption { option: "x".into() })
        );
        assert_eq!(PairJudgment::new("item", "", "x", "y", Outcome::Tie), Err(PrefsError::EmptyId { what: "labeler" }));
    }

    #[test]
    fn outcomes_flip_and_follow_ranks() {
        assert_eq!(Outcome::from_ranks(1, 3), Outcome::AWins);
        assert_eq!(Outcome::from_ranks(3, 1), Outcome::BWins);
        assert_eq!(Outcome::from_ranks(2, 2).flipped(), Outcome::Tie);
        assert_eq!(Outcome::AWins.flipped(), Outcome::BWins);
    }
}
