//! Storage errors: what went wrong, in terms the use cases can act on.

/// A failed storage operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The row to change does not exist.
    #[error("row not found")]
    NotFound,
    /// A uniqueness constraint was violated; `constraint` names it (table and columns).
    #[error("unique constraint violated: {constraint}")]
    UniqueViolation { constraint: String },
    /// A row is still referenced by others (e.g. a workspace that has datasets).
    #[error("row is still referenced")]
    ForeignKeyViolation,
    /// The disk holding the database is full: the write was not made.
    #[error("the disk holding the database is full")]
    Full,
    /// Anything else: I/O, corruption, a bug.
    #[error("storage failure: {0}")]
    Other(String),
}

/// The result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(database_error) => {
                let message = database_error.message();
                if database_error.is_unique_violation() || message.starts_with("UNIQUE constraint failed") {
                    let constraint = message.trim_start_matches("UNIQUE constraint failed: ").to_owned();
                    Self::UniqueViolation { constraint }
                } else if database_error.is_foreign_key_violation() || message.starts_with("FOREIGN KEY constraint failed") {
                    // SQLite reports ON DELETE RESTRICT as a trigger constraint, hence the message check.
                    Self::ForeignKeyViolation
                } else if database_error.code().as_deref() == Some("13") || message.contains("database or disk is full") {
                    // SQLITE_FULL: the file or its write-ahead log could not grow.
                    Self::Full
                } else {
                    Self::Other(error.to_string())
                }
            }
            _ => Self::Other(error.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        Self::Other(format!("stored JSON is unreadable: {error}"))
    }
}
