//! The one error type of the crate: an input that a statistic cannot be computed from.

/// What was wrong with an input. Messages are lowercase fragments that read after "failed to ...".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrefsError {
    /// An item, labeler or option id was the empty string.
    #[error("{what} id must not be empty")]
    EmptyId {
        /// Which id: "item", "labeler" or "option".
        what: &'static str,
    },
    /// A judgment ranked fewer than two options, so it compares nothing.
    #[error("a judgment needs at least two ranked options, got {count}")]
    TooFewOptions {
        /// How many options were ranked.
        count: usize,
    },
    /// The same option appeared twice in one ranking.
    #[error("option `{option}` is ranked twice")]
    DuplicateOption {
        /// The repeated option.
        option: String,
    },
    /// A rank was 0; ranks start at 1 (best).
    #[error("rank of option `{option}` must be at least 1")]
    ZeroRank {
        /// The option with rank 0.
        option: String,
    },
    /// The shown order was not a permutation of the ranked options.
    #[error("shown order must list each ranked option exactly once")]
    ShownOrderMismatch,
    /// A pair named the same option on both sides.
    #[error("a pair needs two different options, got `{option}` twice")]
    SameOption {
        /// The option given twice.
        option: String,
    },
    /// A pairwise rating outside 0 (equal), 1 (first better), 2 (second better).
    #[error("rating {rating} is not a pairwise rating, expected 0 (equal), 1 (first better) or 2 (second better)")]
    InvalidRating {
        /// The rating given.
        rating: i64,
    },
    /// Reliability-data rows (one per coder) had different numbers of units.
    #[error("row {row} has {found} units, expected {expected} like the first row")]
    RaggedRows {
        /// The offending row, 0-based.
        row: usize,
        /// Its length.
        found: usize,
        /// The first row's length.
        expected: usize,
    },
    /// A value was NaN or infinite.
    #[error("values must be finite numbers, got {value}")]
    NonFinite {
        /// The value given.
        value: f64,
    },
    /// The ratio metric was asked of negative values.
    #[error("the ratio metric needs non-negative values, got {value}")]
    NegativeRatioValue {
        /// The negative value.
        value: f64,
    },
    /// Two paired sequences had different lengths.
    #[error("paired sequences must have the same length, got {left} and {right}")]
    LengthMismatch {
        /// The first sequence's length.
        left: usize,
        /// The second sequence's length.
        right: usize,
    },
    /// Too few comparable values for the statistic (e.g. no unit coded twice).
    #[error("needs at least {needed} comparable values, got {found}")]
    NotEnoughData {
        /// How many the statistic needs.
        needed: usize,
        /// How many there were.
        found: usize,
    },
    /// Every value was the same, so the statistic is 0/0.
    #[error("all values are equal, so the statistic is undefined")]
    NoVariation,
}
