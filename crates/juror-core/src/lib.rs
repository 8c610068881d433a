//! Juror's domain: the nouns of preference-data collection and the rules that keep them valid.
//!
//! Everything here is pure: no I/O, no async, no SQL, no HTTP. Values that cross a boundary are
//! parsed into types whose constructors enforce the rules (parse, don't validate), so the layers
//! above can take `&QuestionSettings` or `&Ranking` and never re-check them.
//!
//! Settings and values have one canonical JSON form, produced by `to_json` and read back by
//! `from_json`/`parse`: the store persists it and the Argilla surface happens to speak it too.

pub mod audit;
pub mod dataset;
pub mod distribution;
pub mod error;
pub mod field;
pub mod ids;
pub mod metadata;
pub mod presentation;
pub mod quality;
pub mod question;
pub mod record;
pub mod response;
pub mod search;
pub mod time;
pub mod user;
pub mod value;
pub mod vector;
pub mod webhook;

pub use error::ValidationError;
