//! The audit log: who changed users, roles, memberships, keys, datasets and their settings, and
//! what they deleted, when.

use serde_json::{Map, Value};

use crate::ids::UserId;
use crate::time::Timestamp;

/// An administrative action, named `noun.verb` in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    UserCreated,
    UserUpdated,
    UserDeleted,
    PasswordChanged,
    ApiKeyRotated,
    WorkspaceCreated,
    WorkspaceDeleted,
    MemberAdded,
    MemberRemoved,
    DatasetCreated,
    DatasetUpdated,
    DatasetPublished,
    DatasetDeleted,
    SettingCreated,
    SettingUpdated,
    SettingDeleted,
    RecordsDeleted,
    AssignmentsReplaced,
    QuotaSet,
    WebhookCreated,
    WebhookUpdated,
    WebhookDeleted,
    QualitySet,
    GoldSet,
    GoldUnset,
    LabelerResumed,
    ReviewerSet,
}

const ACTIONS: [(AuditAction, &str); 27] = [
    (AuditAction::UserCreated, "user.created"),
    (AuditAction::UserUpdated, "user.updated"),
    (AuditAction::UserDeleted, "user.deleted"),
    (AuditAction::PasswordChanged, "user.password_changed"),
    (AuditAction::ApiKeyRotated, "user.api_key_rotated"),
    (AuditAction::WorkspaceCreated, "workspace.created"),
    (AuditAction::WorkspaceDeleted, "workspace.deleted"),
    (AuditAction::MemberAdded, "workspace.member_added"),
    (AuditAction::MemberRemoved, "workspace.member_removed"),
    (AuditAction::DatasetCreated, "dataset.created"),
    (AuditAction::DatasetUpdated, "dataset.updated"),
    (AuditAction::DatasetPublished, "dataset.published"),
    (AuditAction::DatasetDeleted, "dataset.deleted"),
    (AuditAction::SettingCreated, "setting.created"),
    (AuditAction::SettingUpdated, "setting.updated"),
    (AuditAction::SettingDeleted, "setting.deleted"),
    (AuditAction::RecordsDeleted, "records.deleted"),
    (AuditAction::AssignmentsReplaced, "dataset.assignments_replaced"),
    (AuditAction::QuotaSet, "dataset.quota_set"),
    (AuditAction::WebhookCreated, "webhook.created"),
    (AuditAction::WebhookUpdated, "webhook.updated"),
    (AuditAction::WebhookDeleted, "webhook.deleted"),
    (AuditAction::QualitySet, "dataset.quality_set"),
    (AuditAction::GoldSet, "dataset.gold_set"),
    (AuditAction::GoldUnset, "dataset.gold_unset"),
    (AuditAction::LabelerResumed, "dataset.labeler_resumed"),
    (AuditAction::ReviewerSet, "dataset.reviewer_set"),
];

impl AuditAction {
    /// The name kept in the log.
    pub fn as_str(self) -> &'static str {
        ACTIONS.iter().find(|(action, _)| *action == self).map_or("unknown", |(_, name)| name)
    }

    /// The action with this name, if any.
    pub fn parse(name: &str) -> Option<Self> {
        ACTIONS.iter().find(|(_, candidate)| *candidate == name).map(|(action, _)| *action)
    }
}

/// One entry of the audit log. The actor's name is kept as it was, so the entry still reads after
/// the account is renamed or deleted; `actor` is `None` for the command line acting without an
/// account (the first owner, users and workspaces added before any owner exists).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// The log's own order, assigned when the entry is stored.
    pub sequence: u64,
    pub at: Timestamp,
    pub actor: Option<UserId>,
    pub actor_name: String,
    pub action: AuditAction,
    /// What was acted on: `user`, `workspace`, `dataset`, `field`, `question`, ...
    pub target_kind: String,
    pub target_id: String,
    /// What changed, without secrets: names of changed values, new roles, counts.
    pub details: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_action_has_one_name_that_reads_back() {
        let names: HashSet<&str> = ACTIONS.iter().map(|(_, name)| *name).collect();
        assert_eq!(names.len(), ACTIONS.len());
        for (action, name) in ACTIONS {
            assert_eq!(action.as_str(), name);
            assert_eq!(AuditAction::parse(name), Some(action));
        }
        assert_eq!(AuditAction::parse("user.exploded"), None);
    }
}
