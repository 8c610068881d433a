//! Datasets: a named collection of records with its settings, drafted then published.

use crate::error::{check_length, ensure, ValidationError};
use crate::ids::{DatasetId, WorkspaceId};
use crate::time::Timestamp;

/// Whether a dataset's settings may still change (draft) or records may be added (ready).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetStatus {
    /// Settings are being defined; no records yet.
    Draft,
    /// Published: fields and questions are fixed, records may be added and answered.
    Ready,
}

impl DatasetStatus {
    /// The status name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Ready => "ready",
        }
    }

    /// Reads `draft` or `ready`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match text {
            "draft" => Ok(Self::Draft),
            "ready" => Ok(Self::Ready),
            other => Err(ValidationError::new(format!("unknown dataset status `{other}`"))),
        }
    }
}

/// How records are shared among labelers: a record is complete once `min_submitted` labelers submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distribution {
    min_submitted: u32,
}

impl Distribution {
    /// The overlap strategy with at least one submission per record.
    pub fn overlap(min_submitted: i64) -> Result<Self, ValidationError> {
        ensure(min_submitted >= 1, || "min_submitted must be greater than or equal to 1".into())?;
        let min_submitted = u32::try_from(min_submitted)
            .map_err(|_| ValidationError::new("min_submitted is too large"))?;
        Ok(Self { min_submitted })
    }

    /// How many submitted responses complete a record.
    pub fn min_submitted(self) -> u32 {
        self.min_submitted
    }
}

impl Default for Distribution {
    fn default() -> Self {
        Self { min_submitted: 1 }
    }
}

/// A dataset and its top-level settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub id: DatasetId,
    pub name: String,
    pub guidelines: Option<String>,
    pub allow_extra_metadata: bool,
    pub status: DatasetStatus,
    pub distribution: Distribution,
    /// Free-form metadata about the dataset itself (a JSON object), if any.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub workspace_id: WorkspaceId,
    pub last_activity_at: Timestamp,
    pub inserted_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A dataset's `last_activity_at` moves when an answer is at least this much newer (in
/// microseconds): a labeling loop then writes the dataset's row about once a second, not once
/// per answer.
pub const LAST_ACTIVITY_STEP_MICROS: i64 = 1_000_000;

/// Whether an answer given at `now` moves a last activity of `last`.
pub fn moves_last_activity(last: Timestamp, now: Timestamp) -> bool {
    now.micros() - last.micros() > LAST_ACTIVITY_STEP_MICROS
}

impl Dataset {
    /// True once the dataset has been published.
    pub fn is_ready(&self) -> bool {
        self.status == DatasetStatus::Ready
    }
}

/// Checks a dataset name: 1 to 200 characters.
pub fn validate_dataset_name(name: &str) -> Result<(), ValidationError> {
    check_length("dataset name", name, 1, 200)
}

/// Checks guidelines: 1 to 10,000 characters when present.
pub fn validate_guidelines(guidelines: &str) -> Result<(), ValidationError> {
    check_length("guidelines", guidelines, 1, 10_000)
}

/// Checks a title: 1 to 500 characters.
pub fn validate_title(title: &str) -> Result<(), ValidationError> {
    check_length("title", title, 1, 500)
}

/// Checks the name of a field, question, metadata property or vector setting: 1 to 200 characters.
pub fn validate_setting_name(name: &str) -> Result<(), ValidationError> {
    check_length("name", name, 1, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_needs_at_least_one_submission() {
        assert!(Distribution::overlap(0).is_err());
        assert_eq!(Distribution::overlap(3).map(Distribution::min_submitted), Ok(3));
        assert_eq!(Distribution::default().min_submitted(), 1);
    }

    #[test]
    fn empty_guidelines_are_rejected() {
        assert!(validate_guidelines("").is_err());
        assert!(validate_guidelines("Rank by helpfulness.").is_ok());
        assert!(validate_dataset_name(&"x".repeat(201)).is_err());
    }
}
