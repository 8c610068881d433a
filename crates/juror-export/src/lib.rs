//! Preference data as training files: one JSON object per line, written row by row, or Parquet.
//!
//! The inputs are plain rows ([`PairRow`], [`JudgmentRow`]) that the app layer builds from stored
//! responses and resolved pairs, so this crate knows nothing of records, stores or statistics.
//! Every writer streams to any [`std::io::Write`]: memory does not grow with the file.
//!
//! - [`PairFormat`]: TRL's explicit-prompt, implicit-prompt and conversational preference formats,
//!   and OpenAI's DPO fine-tuning format, each optionally with confidence columns.
//! - [`ParquetPairWriter`]: every pair format as a Parquet file (messages as lists of
//!   `role`/`content` structs), buffered one row group at a time.
//! - [`JudgmentWriter`]: one line per labeler response, for analyses outside Juror.

pub mod error;
pub mod format;
pub mod judgments;
mod lines;
mod shared;
pub mod pairs;
pub mod parquet;

pub use error::ExportError;
pub use format::{Format, PairFormat};
pub use judgments::{JudgmentRow, JudgmentWriter};
pub use pairs::{Columns, Message, PairRow, PairWriter};
pub use parquet::ParquetPairWriter;
