//! The use cases' error: what went wrong, by the kind of answer a client should get.

use juror_core::ValidationError;
use juror_store::StoreError;

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No credentials, or unknown ones.
    #[error("could not validate credentials")]
    Unauthorized,
    /// The caller may not do this.
    #[error("operation not allowed")]
    Forbidden,
    /// The caller may not do this, for a reason worth telling them (an assignment, a quota).
    #[error("{0}")]
    Refused(String),
    /// The named entity does not exist (or is not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// The change collides with existing data.
    #[error("{0}")]
    Conflict(String),
    /// The input breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// A similarity query names a record that lacks the vector.
    #[error("{0}")]
    MissingVector(String),
    /// The server cannot take writes now (its disk is full); reads still work.
    #[error("{0}")]
    Unavailable(String),
    /// The database cannot be reached (a network store restarting); nothing was done.
    #[error("{0}")]
    StorageDown(String),
    /// Too many failed attempts; the client may try again after `retry_after`.
    #[error("too many failed attempts; try again in {} s", retry_after.as_secs().max(1))]
    TooManyAttempts { retry_after: std::time::Duration },
    /// Something unexpected; the cause is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;

impl From<ValidationError> for AppError {
    fn from(error: ValidationError) -> Self {
        Self::Invalid(error.message().to_owned())
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UniqueViolation { key } => Self::Conflict(format!("an entity with the same {key} already exists")),
            StoreError::NotFound => Self::NotFound("entity not found".into()),
            StoreError::Full => Self::Unavailable("the server's disk is full: nothing was written; try again once space is freed".into()),
            StoreError::Unavailable(reason) => Self::StorageDown(format!("the database cannot be reached ({reason}); try again shortly")),
            StoreError::Refused(refusal) => Self::Refused(refusal.to_string()),
            StoreError::Contention(reason) => Self::StorageDown(format!("the database is busy with concurrent changes ({reason}); try again")),
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

/// "`Entity` with id `id` not found", the message every by-id lookup gives.
pub(crate) fn not_found(entity: &str, id: impl std::fmt::Display) -> AppError {
    AppError::NotFound(format!("{entity} with id `{id}` not found"))
}

/// Maps a unique violation to a conflict with a message of our own; other errors pass through.
pub(crate) fn on_unique(error: StoreError, message: impl FnOnce() -> String) -> AppError {
    match error {
        StoreError::UniqueViolation { .. } => AppError::Conflict(message()),
        other => other.into(),
    }
}
