//! Typed identifiers: one newtype per entity so a `RecordId` can never be passed as a `UserId`.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! entity_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID, e.g. one a client supplied or one read from storage.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

entity_id!(
    /// Identifies a user.
    UserId,
    /// Identifies a workspace.
    WorkspaceId,
    /// Identifies a dataset.
    DatasetId,
    /// Identifies a field of a dataset.
    FieldId,
    /// Identifies a question of a dataset.
    QuestionId,
    /// Identifies a metadata property of a dataset.
    MetadataPropertyId,
    /// Identifies a vector setting of a dataset.
    VectorSettingsId,
    /// Identifies a record.
    RecordId,
    /// Identifies a labeler's response to a record.
    ResponseId,
    /// Identifies a suggestion on a record.
    SuggestionId,
    /// Identifies a webhook.
    WebhookId,
    /// Identifies one event's delivery to one webhook.
    DeliveryId,
);
