//! What a caller may see of a dataset's records.
//!
//! Those who manage a dataset (owners, admins of its workspace) see everything. Everyone else is a
//! labeler there: they see only their own responses, never another labeler's (labelers who can
//! read each other's answers are no longer independent judges), and no metadata whose property is
//! hidden from annotators. Every use case that hands a labeler records goes through one
//! [`Visibility`], so the rule is written once.

use std::collections::HashSet;
use std::sync::Arc;

use juror_core::ids::{DatasetId, UserId};
use juror_core::metadata::MetadataProperty;
use juror_core::record::DatasetSchema;
use juror_core::user::Role;

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::policy::{allows, Action};
use crate::records::RecordView;
use crate::App;

/// How much of a dataset's records one caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Visibility {
    /// Owners and admins of the workspace: every response and every metadata key.
    Everything,
    /// Anyone else: their own responses and the metadata shown to annotators.
    Labeler { user: UserId, hidden_metadata: HashSet<String> },
}

impl Visibility {
    /// The visibility of a caller who manages the dataset or not.
    pub(crate) fn of(manages: bool, user: UserId, properties: &[MetadataProperty]) -> Self {
        if manages {
            return Self::Everything;
        }
        let hidden_metadata = properties.iter().filter(|property| !property.visible_for_annotators).map(|property| property.name.clone()).collect();
        Self::Labeler { user, hidden_metadata }
    }

    /// The only user whose responses may be read, or `None` for everyone's.
    pub(crate) fn responses_of(&self) -> Option<UserId> {
        match self {
            Self::Everything => None,
            Self::Labeler { user, .. } => Some(*user),
        }
    }

    /// Whether the metadata key `name` is hidden from this caller (in bodies, filters, sorts and
    /// metrics alike).
    pub(crate) fn hides_metadata(&self, name: &str) -> bool {
        match self {
            Self::Everything => false,
            Self::Labeler { hidden_metadata, .. } => hidden_metadata.contains(name),
        }
    }

    /// Removes what this caller may not see from a record read for them.
    pub(crate) fn redact(&self, view: &mut RecordView) {
        let Self::Labeler { user, hidden_metadata } = self else { return };
        if let Some(responses) = &mut view.relations.responses {
            responses.retain(|response| response.user_id == *user);
        }
        if let Some(metadata) = &mut view.record.metadata {
            if !hidden_metadata.is_empty() {
                metadata.retain(|name, _| !hidden_metadata.contains(name));
            }
        }
    }
}

impl App {
    /// The dataset's settings, once the caller may take `action` on it (404 before 403), with
    /// what the caller sees of its records: one schema lookup and one membership lookup for both.
    pub(crate) async fn schema_seen_by(&self, caller: &Caller, id: DatasetId, action: Action) -> AppResult<(Arc<DatasetSchema>, Visibility)> {
        let schema = self.schema(id).await?;
        let role = caller.user.role;
        let is_member = role == Role::Owner || self.is_member(schema.dataset.workspace_id, caller.user.id).await?;
        if !allows(role, is_member, action) {
            return Err(AppError::Forbidden);
        }
        let visibility = Visibility::of(allows(role, is_member, Action::Manage), caller.user.id, &schema.metadata_properties);
        Ok((schema, visibility))
    }
}

#[cfg(test)]
mod tests {
    use juror_core::ids::{DatasetId, RecordId, ResponseId};
    use juror_core::record::{Record, RecordRelations};
    use juror_core::response::{Response, ResponseStatus};
    use juror_core::time::Timestamp;
    use serde_json::json;

    use super::*;

    fn response(user: UserId) -> Response {
        let now = Timestamp::now();
        Response { id: ResponseId::new(), record_id: RecordId::new(), user_id: user, values: None, status: ResponseStatus::Submitted, presentation: None, inserted_at: now, updated_at: now }
    }

    fn view(responses: Vec<Response>) -> RecordView {
        let now = Timestamp::now();
        let metadata = json!({"topic": "math", "source": "hh-rlhf", "extra": 1}).as_object().cloned();
        let record = Record { id: RecordId::new(), dataset_id: DatasetId::new(), external_id: None, fields: Default::default(), metadata, status: juror_core::record::RecordStatus::Pending, inserted_at: now, updated_at: now };
        RecordView { record, relations: RecordRelations { responses: Some(responses), ..RecordRelations::default() } }
    }

    fn labeler(user: UserId, hidden: &[&str]) -> Visibility {
        Visibility::Labeler { user, hidden_metadata: hidden.iter().map(|name| name.to_string()).collect() }
    }

    fn metadata_keys(view: &RecordView) -> Vec<&str> {
        view.record.metadata.as_ref().map(|metadata| metadata.keys().map(String::as_str).collect()).unwrap_or_default()
    }

    #[test]
    fn a_labeler_sees_only_their_own_responses() {
        let (me, other) = (UserId::new(), UserId::new());
        let mut seen = view(vec![response(other), response(me), response(other)]);
        labeler(me, &[]).redact(&mut seen);
        let users: Vec<UserId> = seen.relations.responses.unwrap().iter().map(|response| response.user_id).collect();
        assert_eq!(users, vec![me]);
    }

    #[test]
    fn hidden_metadata_is_removed_and_the_rest_kept() {
        let me = UserId::new();
        let mut seen = view(Vec::new());
        let visibility = labeler(me, &["source"]);
        visibility.redact(&mut seen);
        assert_eq!(metadata_keys(&seen), vec!["extra", "topic"]);
        assert!(visibility.hides_metadata("source"));
        assert!(!visibility.hides_metadata("topic"));
    }

    #[test]
    fn managers_see_everything() {
        let mut seen = view(vec![response(UserId::new()), response(UserId::new())]);
        Visibility::Everything.redact(&mut seen);
        assert_eq!(seen.relations.responses.as_ref().map(Vec::len), Some(2));
        assert_eq!(metadata_keys(&seen).len(), 3);
        assert_eq!(Visibility::Everything.responses_of(), None);
    }

    #[test]
    fn the_properties_decide_which_metadata_is_hidden() {
        let now = Timestamp::now();
        let property = |name: &str, visible: bool| MetadataProperty {
            id: Default::default(),
            name: name.into(),
            title: name.into(),
            settings: juror_core::metadata::MetadataSettings::from_json(&json!({"type": "terms"})).unwrap(),
            visible_for_annotators: visible,
            dataset_id: DatasetId::new(),
            inserted_at: now,
            updated_at: now,
        };
        let properties = [property("topic", true), property("source", false)];
        let me = UserId::new();
        assert_eq!(Visibility::of(false, me, &properties), labeler(me, &["source"]));
        assert_eq!(Visibility::of(true, me, &properties), Visibility::Everything);
    }
}
