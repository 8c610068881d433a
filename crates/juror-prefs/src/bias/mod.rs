//! Bias diagnostics: signs that labels reflect the interface or the labeler rather than quality.
//!
//! - [`first_position`]: does the option shown first win more than chance, overall and per
//!   labeler?
//! - [`longer_response`]: does the longer option win more than half the time?
//! - [`hasty_labelers`]: whose time on task is implausibly short?
//!
//! The win-rate diagnostics report a [`RateTest`]: the observed rate, the rate expected without
//! bias, a z-score, and a flag when |z| reaches [`BiasOptions::z_threshold`].

mod length;
mod position;
mod rate;
mod time;

pub use length::{longer_response, LengthBias};
pub use position::{first_position, LabelerRate, PositionBias};
pub use rate::{BiasOptions, RateTest};
pub use time::{hasty_labelers, HasteFlag, LabelerTime, TimeOptions, TimeReport};
