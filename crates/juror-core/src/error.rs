//! The one error type of the domain: a rule that an input broke, said in words a client can act on.

/// An input broke a domain rule. The message reads on its own, e.g. "Option values must be unique".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    message: String,
}

impl ValidationError {
    /// A validation error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// The message, as shown to clients.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `prefix` put in front, for errors nested inside a larger input.
    pub fn prefixed(self, prefix: impl std::fmt::Display) -> Self {
        Self::new(format!("{prefix}{}", self.message))
    }
}

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), ValidationError> {
    if condition {
        Ok(())
    } else {
        Err(ValidationError::new(message()))
    }
}

/// Checks that a string has between `min` and `max` characters.
pub fn check_length(what: &str, value: &str, min: usize, max: usize) -> Result<(), ValidationError> {
    let count = value.chars().count();
    ensure((min..=max).contains(&count), || {
        format!("{what} must have between {min} and {max} characters, got {count}")
    })
}
