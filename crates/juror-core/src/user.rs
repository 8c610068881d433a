//! Users, roles and workspaces: who exists and what group of datasets they belong to.

use crate::error::{check_length, ensure, ValidationError};
use crate::ids::{UserId, WorkspaceId};
use crate::time::Timestamp;

/// What a user may do: owners everything, admins their workspaces, annotators answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Manages users, workspaces and every dataset.
    Owner,
    /// Manages the datasets of the workspaces they belong to.
    Admin,
    /// Reads datasets of their workspaces and answers records.
    Annotator,
}

impl Role {
    /// Reads `owner`, `admin` or `annotator`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match text {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "annotator" => Ok(Self::Annotator),
            other => Err(ValidationError::new(format!(
                "role must be one of owner, admin or annotator, got `{other}`"
            ))),
        }
    }

    /// The role's name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Annotator => "annotator",
        }
    }
}

/// A person (or script) with an API key.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub role: Role,
    /// The API key, shown to its owner and to owners; never logged.
    pub api_key: String,
    pub password_hash: String,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    /// The first name, plus the last name when there is one.
    pub fn full_name(&self) -> String {
        match &self.last_name {
            Some(last) => format!("{} {last}", self.first_name),
            None => self.first_name.clone(),
        }
    }
}

/// A group of datasets and the users who may work on them.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Checks a username: 1 to 200 characters, no surrounding white space.
pub fn validate_username(username: &str) -> Result<(), ValidationError> {
    check_length("username", username, 1, 200)?;
    ensure(username.trim() == username, || "username must not start or end with white space".into())
}

/// Checks a first or last name: at least one character once trimmed.
pub fn validate_name(what: &str, name: &str) -> Result<(), ValidationError> {
    ensure(!name.trim().is_empty(), || format!("{what} must have at least 1 character"))?;
    check_length(what, name, 1, 200)
}

/// Checks a password: 8 to 100 characters.
pub fn validate_password(password: &str) -> Result<(), ValidationError> {
    check_length("password", password, 8, 100)
}

/// Checks a workspace name: 1 to 200 characters.
pub fn validate_workspace_name(name: &str) -> Result<(), ValidationError> {
    check_length("workspace name", name, 1, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_reject_unknown_names() {
        for role in [Role::Owner, Role::Admin, Role::Annotator] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn short_passwords_and_blank_names_are_rejected() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_name("first_name", "  ").is_err());
        assert!(validate_username("").is_err());
    }
}
