//! The one error type of the crate: a row that could not be written.

/// What went wrong while exporting. Messages are lowercase fragments that read after "failed to ...".
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output refused the bytes (disk full, closed pipe).
    #[error("write export row")]
    Io(#[from] std::io::Error),
    /// A row could not be turned into JSON (a non-finite number).
    #[error("serialize export row")]
    Json(#[from] serde_json::Error),
    /// The Parquet writer failed (or its schema did not parse).
    #[error("write parquet file")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A format name that is not one of [`crate::Format::NAMES`].
    #[error("unknown export format `{name}`, expected one of: {expected}")]
    UnknownFormat {
        /// The name given.
        name: String,
        /// The accepted names, comma-separated.
        expected: String,
    },
}
