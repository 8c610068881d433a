//! The statistics of preference data: what a set of labelers' rankings says, and how far to trust it.
//!
//! Everything here is pure: no I/O, no async, no storage. The inputs are domain-neutral
//! [`Judgment`]s (one labeler's ranking of one item's options, with the shown order and the time on
//! task when known), so the app layer converts Juror's responses once and every statistic reads
//! the same validated type.
//!
//! - [`pairs`]: a ranking of N options gives its N(N-1)/2 (chosen, rejected) pairs, with tie and
//!   binarization policies; a pairwise rating (0 = equal, 1 or 2 = which is better) gives one.
//! - [`resolve`]: one verdict per (item, pair) from several labelers: majority, mean rank, Borda,
//!   and a Dawid-Skene model that weights labelers by their estimated accuracy.
//! - [`agreement`]: Krippendorff's alpha, percent agreement, Kendall's tau between labelers, and
//!   each labeler's agreement with the consensus.
//! - [`bias`]: first-position and length win rates with a z-test, and implausibly fast labelers.
//! - [`quality`]: while collecting: labelers' accuracy from gold answers (and when to flag them), and
//!   adaptive overlap (when a record's verdict is settled enough to stop).

pub mod agreement;
pub mod bias;
pub mod error;
pub mod judgment;
pub mod pair_judgment;
pub mod pairs;
pub mod quality;
pub mod resolve;

pub use error::PrefsError;
pub use judgment::Judgment;
pub use pair_judgment::{Outcome, PairJudgment};
