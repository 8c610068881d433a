//! Storage errors: what went wrong, in terms the use cases can act on.

use std::fmt;

/// A failed storage operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The row to change does not exist.
    #[error("row not found")]
    NotFound,
    /// A write collided with an existing row on one of its unique keys.
    #[error("unique key violated: {key}")]
    UniqueViolation { key: UniqueKey },
    /// A row is still referenced by others (e.g. a workspace that has datasets), or refers to
    /// one that does not exist.
    #[error("row is still referenced")]
    ForeignKeyViolation,
    /// The database ended the transaction to resolve a conflict with a concurrent one (a
    /// deadlock, a serialization failure): nothing was written and running it again is safe.
    #[error("the transaction collided with a concurrent one: {0}")]
    Contention(String),
    /// The answer breaks its record's assignment or its labeler's quota (checked inside the
    /// answer's transaction where several servers write at once).
    #[error("{0}")]
    Refused(juror_core::distribution::AnswerRefusal),
    /// The disk holding the database is full: the write was not made.
    #[error("the disk holding the database is full")]
    Full,
    /// The database could not be reached or is unavailable (a network store restarting).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: I/O, corruption, a bug.
    #[error("storage failure: {0}")]
    Other(String),
}

/// The result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Every unique key Juror's schema has, by what it means, so that use cases answer a collision
/// without knowing how a database words it. Each backend maps its own constraint reports here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueKey {
    /// A row's own id.
    Id,
    Username,
    ApiKey,
    WorkspaceName,
    /// A user's membership of a workspace.
    Membership,
    /// A dataset's name within its workspace.
    DatasetName,
    /// A field's, question's, metadata property's or vector setting's name within its dataset.
    SettingName,
    /// A record's `external_id` within its dataset.
    RecordExternalId,
    /// One response per labeler and record.
    ResponseOfLabeler,
    /// One suggestion per record and question.
    SuggestionOfQuestion,
    /// A browser session's token digest.
    Session,
    /// A key a backend reported that none of the above names.
    Unknown,
}

impl UniqueKey {
    /// The name users know the key by, for error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Username => "username",
            Self::ApiKey => "api_key",
            Self::WorkspaceName => "workspace name",
            Self::Membership => "workspace membership",
            Self::DatasetName => "dataset name",
            Self::SettingName => "setting name",
            Self::RecordExternalId => "external_id",
            Self::ResponseOfLabeler => "one response per labeler",
            Self::SuggestionOfQuestion => "one suggestion per question",
            Self::Session => "session",
            Self::Unknown => "unique key",
        }
    }

    /// The key a constraint protects, from the constraint's name (PostgreSQL reports it) or the
    /// `table.column, ...` list (SQLite reports that). Both backends' schemas name their keys
    /// so that this one table reads either.
    pub fn from_report(report: &str) -> Self {
        let report = report.trim();
        match report {
            "users.username" | "users_username_key" => Self::Username,
            "users.api_key_digest" | "users_api_key_digest_key" => Self::ApiKey,
            "workspaces.name" | "workspaces_name_key" => Self::WorkspaceName,
            "workspace_users.workspace_id, workspace_users.user_id" | "workspace_users_pkey" => Self::Membership,
            "datasets.workspace_id, datasets.name" | "datasets_name_workspace" => Self::DatasetName,
            "records.dataset_id, records.external_id" | "records_external_id" => Self::RecordExternalId,
            "responses.record_id, responses.user_id" | "responses_record_user" => Self::ResponseOfLabeler,
            "suggestions.record_id, suggestions.question_id" | "suggestions_record_id_question_id_key" => Self::SuggestionOfQuestion,
            "web_sessions.token_digest" | "web_sessions_pkey" => Self::Session,
            _ if report.ends_with(".id") || report.ends_with("_pkey") => Self::Id,
            _ if report.ends_with(".dataset_id, fields.name")
                || report.ends_with(".dataset_id, questions.name")
                || report.ends_with(".dataset_id, metadata_properties.name")
                || report.ends_with(".dataset_id, vector_settings.name")
                || report.ends_with("_dataset_id_name_key") =>
            {
                Self::SettingName
            }
            _ => Self::Unknown,
        }
    }
}

impl fmt::Display for UniqueKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        Self::Other(format!("stored JSON is unreadable: {error}"))
    }
}

#[cfg(feature = "sqlx")]
impl From<sqlx_core::Error> for StoreError {
    /// Reads a database error by its kind, not its wording; which key a unique violation hit
    /// comes from the constraint's name, or where the database gives none (SQLite) from the
    /// `table.column` list it reports.
    fn from(error: sqlx_core::Error) -> Self {
        use sqlx_core::error::ErrorKind;
        match &error {
            sqlx_core::Error::RowNotFound => Self::NotFound,
            sqlx_core::Error::Database(database_error) => match database_error.kind() {
                ErrorKind::UniqueViolation => {
                    let report = database_error.constraint().map_or_else(
                        || database_error.message().split_once(": ").map_or("", |(_, columns)| columns).to_owned(),
                        str::to_owned,
                    );
                    Self::UniqueViolation { key: UniqueKey::from_report(&report) }
                }
                ErrorKind::ForeignKeyViolation => Self::ForeignKeyViolation,
                // PostgreSQL's serialization_failure and deadlock_detected.
                _ if matches!(database_error.code().as_deref(), Some("40001" | "40P01")) => Self::Contention(error.to_string()),
                // SQLITE_FULL (13) and PostgreSQL's disk_full (53100).
                _ if matches!(database_error.code().as_deref(), Some("13" | "53100")) => Self::Full,
                // SQLite reports ON DELETE RESTRICT as a trigger constraint (code 1811).
                _ if database_error.code().as_deref() == Some("1811") => Self::ForeignKeyViolation,
                _ => Self::Other(error.to_string()),
            },
            sqlx_core::Error::Io(_) | sqlx_core::Error::PoolTimedOut | sqlx_core::Error::PoolClosed | sqlx_core::Error::Tls(_) => {
                Self::Unavailable(error.to_string())
            }
            _ => Self::Other(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_reports_name_the_same_keys() {
        for (sqlite, postgres, key) in [
            ("users.username", "users_username_key", UniqueKey::Username),
            ("records.dataset_id, records.external_id", "records_external_id", UniqueKey::RecordExternalId),
            ("responses.record_id, responses.user_id", "responses_record_user", UniqueKey::ResponseOfLabeler),
            ("workspace_users.workspace_id, workspace_users.user_id", "workspace_users_pkey", UniqueKey::Membership),
            ("questions.dataset_id, questions.name", "questions_dataset_id_name_key", UniqueKey::SettingName),
            ("records.id", "records_pkey", UniqueKey::Id),
        ] {
            assert_eq!(UniqueKey::from_report(sqlite), key, "{sqlite}");
            assert_eq!(UniqueKey::from_report(postgres), key, "{postgres}");
        }
        assert_eq!(UniqueKey::from_report("something else"), UniqueKey::Unknown);
    }
}
