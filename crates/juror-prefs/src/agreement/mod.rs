//! Agreement between labelers: how far their judgments can be trusted as data.
//!
//! - [`krippendorff_alpha`] over [`ReliabilityData`] (any number of coders, missing values allowed),
//!   at the nominal, ordinal, interval or ratio level.
//! - [`percent_agreement`]: the plain share of agreeing coder pairs.
//! - [`kendall_tau_b`] between two sequences, and [`labeler_taus`] between labelers' rankings.
//! - [`consensus_agreement`]: each labeler's agreement with resolved pairs.

mod consensus;
mod data;
mod kendall;
mod krippendorff;
mod percent;

pub use consensus::{consensus_agreement, LabelerAgreement};
pub use data::ReliabilityData;
pub use kendall::{kendall_tau_b, labeler_taus, LabelerTau};
pub use krippendorff::{krippendorff_alpha, Level};
pub use percent::percent_agreement;
