//! The `Store` trait: every read and write Juror makes, in domain types.

use async_trait::async_trait;
use juror_core::audit::AuditEvent;
use juror_core::dataset::Dataset;
use juror_core::distribution::AnswerLimits;
use juror_core::field::Field;
use juror_core::ids::{
    DatasetId, DeliveryId, FieldId, MetadataPropertyId, QuestionId, RecordId, ResponseId, SuggestionId, UserId, VectorSettingsId,
    WebhookId, WorkspaceId,
};
use juror_core::metadata::MetadataProperty;
use juror_core::presentation::Presentation;
use juror_core::quality::{GoldSettings, GoldVerdict, QualitySettings};
use juror_core::question::Question;
use juror_core::record::{DatasetSchema, Record, RecordRelations, RecordStatus, ValidRecordWrite};
use juror_core::response::{NewSuggestion, Response, ResponseStatus, Suggestion};
use juror_core::time::Timestamp;
use juror_core::user::{Role, User, Workspace};
use juror_core::vector::VectorSettings;
use juror_core::webhook::{Attempt, Delivery, DueDelivery, NewDelivery, Webhook};
use juror_prefs::quality::{GoldRule, GoldTally};
use serde_json::Value;

use crate::StoreResult;

/// Which relationships to load with records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordInclude {
    pub responses: bool,
    pub suggestions: bool,
    /// `None`: no vectors; `Some(empty)`: all; `Some(names)`: those named.
    pub vectors: Option<Vec<String>>,
    /// Only this user's responses, for per-labeler views.
    pub responses_of: Option<UserId>,
}

/// A page of records in insertion order, with the dataset's total.
#[derive(Debug, Clone, Default)]
pub struct RecordPage {
    pub items: Vec<(Record, RecordRelations)>,
    pub total: u64,
}

/// Where a scan of a dataset's records stopped (the `seq` of the last record read); the next
/// page starts after it. The default starts at the beginning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCursor(i64);

impl RecordCursor {
    /// The cursor after the record with this insertion sequence.
    pub fn after(sequence: i64) -> Self {
        Self(sequence)
    }

    /// The insertion sequence of the last record read.
    pub fn sequence(self) -> i64 {
        self.0
    }
}

/// A dataset's records with their answers, loaded for search.
#[derive(Debug, Clone, Default)]
pub struct RecordScan {
    pub records: Vec<Record>,
    /// Responses and suggestions, grouped per record, in the same order as `records`.
    pub responses: Vec<Vec<Response>>,
    pub suggestions: Vec<Vec<Suggestion>>,
}

/// How suggestions in a record write treat existing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionsMode {
    /// Replace the suggestion for each question named; keep the others.
    UpsertPerQuestion,
    /// Remove every suggestion of the record first.
    ReplaceAll,
}

/// A batch of validated record writes for one dataset, stored in one transaction.
///
/// An item whose `id` is `Some` updates that existing record; `None` inserts a new record.
#[derive(Debug, Clone)]
pub struct RecordWriteBatch {
    pub dataset_id: DatasetId,
    pub suggestions_mode: SuggestionsMode,
    pub items: Vec<ValidRecordWrite>,
}

/// Counts of a dataset's records by status and who has answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatasetProgress {
    pub total: u64,
    pub completed: u64,
    /// Usernames of the users who answered, by their first answer.
    pub users: Vec<String>,
}

/// One user's responses in a dataset, by record status and response status.
#[derive(Debug, Clone, PartialEq)]
pub struct UserProgressRow {
    pub username: String,
    pub record_status: RecordStatus,
    pub response_status: ResponseStatus,
    pub count: u64,
}

/// A user's responses in a dataset by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseCounts {
    pub submitted: u64,
    pub discarded: u64,
    pub draft: u64,
}

/// Everything Juror stores: one implementation per database, each method one transaction.
///
/// The methods are grouped into one trait per area so each backend module implements one of them.
pub trait Store: UserStore + DatasetStore + RecordStore + ResponseStore + DistributionStore + QualityStore + SessionStore + AuditStore + WebhookStore + Lifecycle {}

impl<T: UserStore + DatasetStore + RecordStore + ResponseStore + DistributionStore + QualityStore + SessionStore + AuditStore + WebhookStore + Lifecycle> Store for T {}

/// How a store's connections and writes are doing, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Open connections, and how many of them are idle.
    pub connections: u32,
    pub idle_connections: u32,
    /// Groups the labeling loop's writes were committed in, and the writes in them (zero where a
    /// backend commits each write on its own).
    pub group_commits: u64,
    pub group_commit_writes: u64,
}

/// What a process does with a store besides reading and writing.
#[async_trait]
pub trait Lifecycle: Send + Sync + 'static {
    /// Which database this is, for logs and messages (never with a password).
    fn describe(&self) -> String;
    /// Its connections and group commits now.
    fn stats(&self) -> StoreStats;
    /// Waits for acknowledged writes and closes every connection.
    async fn close(&self);
}

/// A browser login: the digest of the cookie's token, whose it is, and the form token that
/// every state-changing request of the session must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub token_digest: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub inserted_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Asks for the next record of a dataset for one labeler.
#[derive(Debug, Clone, Copy)]
pub struct LeaseRequest {
    pub dataset: DatasetId,
    pub user: UserId,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// A labeler's hold on a record until `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub record_id: RecordId,
    pub user_id: UserId,
    pub expires_at: Timestamp,
}

/// The columns of a user to change; `None` leaves one as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct UserChanges {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<Option<String>>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    /// A new API key with its digest.
    pub api_key: Option<(String, String)>,
    pub updated_at: Timestamp,
}

impl UserChanges {
    /// No change yet, stamped `updated_at`.
    pub fn at(updated_at: Timestamp) -> Self {
        Self { username: None, first_name: None, last_name: None, role: None, password_hash: None, api_key: None, updated_at }
    }
}

/// Users, workspaces and memberships.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    async fn create_user(&self, user: &User, api_key_digest: &str) -> StoreResult<()>;
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn find_user_by_api_key_digest(&self, digest: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Writes only the columns `changes` names, so concurrent changes to other columns (a role
    /// change beside a password change) are never undone.
    async fn update_user(&self, id: UserId, changes: &UserChanges) -> StoreResult<()>;
    async fn delete_user(&self, id: UserId) -> StoreResult<()>;
    async fn count_users(&self) -> StoreResult<u64>;

    async fn create_workspace(&self, workspace: &Workspace) -> StoreResult<()>;
    async fn get_workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>>;
    async fn find_workspace_by_name(&self, name: &str) -> StoreResult<Option<Workspace>>;
    async fn list_workspaces(&self) -> StoreResult<Vec<Workspace>>;
    async fn delete_workspace(&self, id: WorkspaceId) -> StoreResult<()>;
    async fn add_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<()>;
    /// Removes a membership; false when there was none.
    async fn remove_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<bool>;
    async fn list_workspace_members(&self, workspace: WorkspaceId) -> StoreResult<Vec<User>>;
    async fn list_user_workspaces(&self, user: UserId) -> StoreResult<Vec<Workspace>>;
    async fn is_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<bool>;
}

/// Datasets and their settings.
#[async_trait]
pub trait DatasetStore: Send + Sync + 'static {
    async fn create_dataset(&self, dataset: &Dataset) -> StoreResult<()>;
    async fn get_dataset(&self, id: DatasetId) -> StoreResult<Option<Dataset>>;
    /// Datasets in insertion order, all of them or those of the given workspaces.
    async fn list_datasets(&self, workspaces: Option<&[WorkspaceId]>) -> StoreResult<Vec<Dataset>>;
    /// Saves a dataset; when its distribution changed, every record's status is recomputed.
    async fn update_dataset(&self, dataset: &Dataset) -> StoreResult<()>;
    async fn delete_dataset(&self, id: DatasetId) -> StoreResult<()>;
    async fn count_datasets_in_workspace(&self, workspace: WorkspaceId) -> StoreResult<u64>;
    async fn load_schema(&self, id: DatasetId) -> StoreResult<Option<DatasetSchema>>;

    async fn create_field(&self, field: &Field) -> StoreResult<()>;
    async fn get_field(&self, id: FieldId) -> StoreResult<Option<Field>>;
    async fn update_field(&self, field: &Field) -> StoreResult<()>;
    async fn delete_field(&self, id: FieldId) -> StoreResult<()>;

    async fn create_question(&self, question: &Question) -> StoreResult<()>;
    async fn get_question(&self, id: QuestionId) -> StoreResult<Option<Question>>;
    async fn update_question(&self, question: &Question) -> StoreResult<()>;
    async fn delete_question(&self, id: QuestionId) -> StoreResult<()>;

    async fn create_metadata_property(&self, property: &MetadataProperty) -> StoreResult<()>;
    async fn get_metadata_property(&self, id: MetadataPropertyId) -> StoreResult<Option<MetadataProperty>>;
    async fn update_metadata_property(&self, property: &MetadataProperty) -> StoreResult<()>;
    async fn delete_metadata_property(&self, id: MetadataPropertyId) -> StoreResult<()>;
    /// The values records hold for one metadata key, for the property's metrics.
    async fn metadata_values(&self, dataset: DatasetId, name: &str) -> StoreResult<Vec<Value>>;

    async fn create_vector_settings(&self, settings: &VectorSettings) -> StoreResult<()>;
    async fn get_vector_settings(&self, id: VectorSettingsId) -> StoreResult<Option<VectorSettings>>;
    async fn update_vector_settings(&self, settings: &VectorSettings) -> StoreResult<()>;
    async fn delete_vector_settings(&self, id: VectorSettingsId) -> StoreResult<()>;
}

/// Records and their vectors.
#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    /// Resolves each (external id, id) pair to an existing record of the dataset: by external id
    /// first, then by id.
    async fn resolve_records(
        &self,
        dataset: DatasetId,
        keys: &[(Option<String>, Option<RecordId>)],
    ) -> StoreResult<Vec<Option<RecordId>>>;
    /// Stores a batch whole or not at all; returns the records as stored, in input order.
    async fn write_records(&self, batch: RecordWriteBatch) -> StoreResult<Vec<Record>>;
    async fn get_record(&self, id: RecordId) -> StoreResult<Option<Record>>;
    async fn load_relations(&self, records: &[Record], include: &RecordInclude) -> StoreResult<Vec<RecordRelations>>;
    async fn list_records(&self, dataset: DatasetId, offset: u64, limit: u64, include: &RecordInclude) -> StoreResult<RecordPage>;
    async fn count_records(&self, dataset: DatasetId) -> StoreResult<u64>;
    /// The ids of every record of the dataset, in insertion order.
    async fn scan_record_ids(&self, dataset: DatasetId) -> StoreResult<Vec<RecordId>>;
    /// Up to `limit` records after `after` (from the start with the default cursor), in
    /// insertion order, with their relations, and the cursor to continue from. Each page costs
    /// the same however deep into the dataset it is (no OFFSET).
    async fn records_after(&self, dataset: DatasetId, after: RecordCursor, limit: u64, include: &RecordInclude) -> StoreResult<(Vec<(Record, RecordRelations)>, RecordCursor)>;
    /// Every record of the dataset with its responses and suggestions, in insertion order.
    async fn scan_records(&self, dataset: DatasetId) -> StoreResult<RecordScan>;
    /// The named vector of each record that has one.
    async fn record_vectors(&self, dataset: DatasetId, vector: VectorSettingsId) -> StoreResult<Vec<(RecordId, Vec<f64>)>>;
    /// Deletes those of `ids` that belong to the dataset; returns how many.
    async fn delete_records(&self, dataset: DatasetId, ids: &[RecordId]) -> StoreResult<u64>;
}

/// Responses, suggestions and progress.
#[async_trait]
pub trait ResponseStore: Send + Sync + 'static {
    /// Creates a response; the record's status and claims follow, and a submit or discard ends
    /// the labeler's lease on it. `Refused` when it breaks the record's assignment or the
    /// labeler's quota (`AnswerLimits`), checked in the same transaction.
    async fn create_response(&self, response: &Response) -> StoreResult<()>;
    async fn get_response(&self, id: ResponseId) -> StoreResult<Option<Response>>;
    /// Updates a response's values and status; the record follows, and limits hold, as on create.
    async fn update_response(&self, response: &Response) -> StoreResult<()>;
    /// Deletes a response; the record's status and claims follow.
    async fn delete_response(&self, id: ResponseId) -> StoreResult<()>;
    async fn find_response(&self, record: RecordId, user: UserId) -> StoreResult<Option<Response>>;

    async fn list_suggestions(&self, record: RecordId) -> StoreResult<Vec<Suggestion>>;
    /// Creates or replaces the record's suggestion for the question; true when created.
    async fn upsert_suggestion(&self, record: RecordId, suggestion: &NewSuggestion) -> StoreResult<(Suggestion, bool)>;
    async fn get_suggestion(&self, id: SuggestionId) -> StoreResult<Option<Suggestion>>;
    async fn delete_suggestion(&self, id: SuggestionId) -> StoreResult<()>;
    async fn delete_record_suggestions(&self, record: RecordId, ids: &[SuggestionId]) -> StoreResult<()>;

    async fn dataset_progress(&self, dataset: DatasetId) -> StoreResult<DatasetProgress>;
    async fn users_progress(&self, dataset: DatasetId) -> StoreResult<Vec<UserProgressRow>>;
    async fn user_response_counts(&self, dataset: DatasetId, user: UserId) -> StoreResult<ResponseCounts>;
    /// A user's responses in a dataset, with this status or any, most recently changed first.
    async fn list_user_responses(&self, dataset: DatasetId, user: UserId, status: Option<ResponseStatus>, limit: u64) -> StoreResult<Vec<Response>>;
}

/// Browser sessions of the web UI.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    async fn create_session(&self, session: &WebSession) -> StoreResult<()>;
    /// The unexpired session with this token digest, and its user.
    async fn find_session(&self, token_digest: &str, now: Timestamp) -> StoreResult<Option<(WebSession, User)>>;
    async fn delete_session(&self, token_digest: &str) -> StoreResult<()>;
    /// Ends every session of the user but `keep` (after a password change), and any expired one.
    async fn delete_user_sessions(&self, user: UserId, keep: Option<&str>, now: Timestamp) -> StoreResult<()>;
    /// Deletes the sessions that expired by `now`.
    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<()>;
}

/// Workload distribution: leases, skips, explicit assignments and quotas.
///
/// A record is handed out only while its submitted responses plus unexpired leases are fewer
/// than `min_submitted`, however many processes hand out at once (SQLite serialises them on its
/// single writer; PostgreSQL locks the record it picks).
#[async_trait]
pub trait DistributionStore: Send + Sync + 'static {
    /// Reclaims expired leases, then returns the labeler's current lease in the dataset (extended)
    /// or a new one on the next open record: one the labeler has not answered, assigned to them
    /// or to nobody, within their quota; skipped records come last. `None` when nothing is left.
    /// The record comes with the labeler's own response (a draft, on a held lease) and the
    /// record's suggestions, read in the same step.
    async fn lease_next_record(&self, request: &LeaseRequest) -> StoreResult<Option<(Lease, Record, RecordRelations)>>;
    /// Gives up a lease; with `skip`, the record is also put behind the labeler's other records.
    /// False when there was no lease.
    async fn release_lease(&self, record: RecordId, user: UserId, skip: bool) -> StoreResult<bool>;
    /// Unexpired leases of a dataset.
    async fn list_leases(&self, dataset: DatasetId, now: Timestamp) -> StoreResult<Vec<Lease>>;
    /// Unexpired leases in every dataset.
    async fn count_live_leases(&self, now: Timestamp) -> StoreResult<u64>;
    /// Replaces the dataset's assignments (record, user) with these.
    async fn replace_assignments(&self, dataset: DatasetId, assignments: &[(RecordId, UserId)]) -> StoreResult<()>;
    /// The dataset's assignments, in record order.
    async fn list_assignments(&self, dataset: DatasetId) -> StoreResult<Vec<(RecordId, UserId)>>;
    /// Sets (or with `None` removes) a labeler's quota in a dataset.
    async fn set_quota(&self, dataset: DatasetId, user: UserId, max_records: Option<u32>) -> StoreResult<()>;
    /// The dataset's quotas.
    async fn list_quotas(&self, dataset: DatasetId) -> StoreResult<Vec<(UserId, u32)>>;
    /// Whether the dataset has any assignment or quota; when not, no answer needs
    /// `answer_limits`.
    async fn has_answer_limits(&self, dataset: DatasetId) -> StoreResult<bool>;
    /// The record's assignment and the labeler's quota in the dataset, with what the labeler has
    /// submitted there besides this record.
    async fn answer_limits(&self, dataset: DatasetId, record: RecordId, user: UserId) -> StoreResult<AnswerLimits>;
}

/// A labeler's answers to a dataset's gold records, judged against their verdicts: all of them,
/// and those given after an owner last let them go on (which alone can pause them again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoldStanding {
    pub all: GoldTally,
    pub since_resume: GoldTally,
    /// When an owner last let them go on, if ever.
    pub resumed_at: Option<Timestamp>,
}

impl GoldStanding {
    /// The flag rule of a dataset's gold settings.
    pub fn rule(gold: &GoldSettings) -> GoldRule {
        GoldRule { threshold: gold.threshold, min_answers: gold.min_answers, certainty: gold.certainty }
    }

    /// Flagged by the dataset's rule, on the answers since the last resume.
    pub fn is_flagged(&self, gold: &GoldSettings) -> bool {
        self.since_resume.is_flagged(&Self::rule(gold))
    }

    /// Paused: flagged, in a dataset that pauses flagged labelers.
    pub fn is_paused(&self, gold: &GoldSettings) -> bool {
        gold.pause && self.is_flagged(gold)
    }
}

/// A swapped repeat of a record for one labeler (web UI), and their second answer once given.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub record: RecordId,
    pub user: UserId,
    pub dataset: DatasetId,
    /// `None` until they answer.
    pub status: Option<ResponseStatus>,
    pub values: Option<serde_json::Map<String, Value>>,
    pub presentation: Option<Presentation>,
    pub started_at: Timestamp,
    pub answered_at: Option<Timestamp>,
}

impl Repeat {
    /// Still to be answered: not yet, or only as a draft.
    pub fn is_open(&self) -> bool {
        matches!(self.status, None | Some(ResponseStatus::Draft))
    }
}

/// A reviewer's final verdict on a record: a complete answer to its preference `question` (the
/// answer's JSON `value`), with a note. The labelers' answers are never changed by it.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjudication {
    pub record: RecordId,
    pub dataset: DatasetId,
    pub question: String,
    pub verdict: Value,
    pub note: Option<String>,
    pub reviewer: UserId,
    /// The reviewer's username when they decided.
    pub reviewer_name: String,
    pub decided_at: Timestamp,
}

/// Quality control while collecting (`juror_core::quality`): a dataset's settings, its gold
/// records, and where each labeler stands by their gold answers. Adaptive overlap's targets and
/// gold hand-outs happen inside the labeling loop's own methods.
#[async_trait]
pub trait QualityStore: Send + Sync + 'static {
    /// The dataset's quality settings; everything off when never set.
    async fn dataset_quality(&self, dataset: DatasetId) -> StoreResult<QualitySettings>;
    /// Stores the dataset's quality settings and recounts its records (their targets follow).
    async fn set_dataset_quality(&self, dataset: DatasetId, settings: &QualitySettings) -> StoreResult<()>;
    /// Makes these records of the dataset gold with their verdicts (a record already gold gets
    /// the new verdict); they leave the overlap hand-out. `NotFound` when a record is not the
    /// dataset's, and then nothing is stored.
    async fn set_gold(&self, dataset: DatasetId, gold: &[(RecordId, GoldVerdict)]) -> StoreResult<()>;
    /// Makes these records ordinary again; how many were gold.
    async fn unset_gold(&self, dataset: DatasetId, records: &[RecordId]) -> StoreResult<u64>;
    /// The dataset's gold records and their verdicts, in insertion order of the records.
    async fn list_gold(&self, dataset: DatasetId) -> StoreResult<Vec<(RecordId, GoldVerdict)>>;
    /// Where each labeler who answered a gold record of the dataset stands.
    async fn gold_standings(&self, dataset: DatasetId) -> StoreResult<Vec<(UserId, GoldStanding)>>;
    /// Where one labeler stands (nothing answered: the default).
    async fn gold_standing(&self, dataset: DatasetId, user: UserId) -> StoreResult<GoldStanding>;
    /// Lets a labeler go on: only gold answers given after `at` can pause them again.
    async fn resume_labeler(&self, dataset: DatasetId, user: UserId, at: Timestamp) -> StoreResult<()>;
    /// The labeler's open repeat in the dataset; else, with a `rate`, when the draw
    /// (`juror_core::quality::repeat_is_due` on their answers and repeats so far) says one is due
    /// and they hold no lease there, a new one on the record they submitted longest ago, at least
    /// `juror_core::quality::REPEAT_GAP` answers back, not gold and not repeated before.
    async fn repeat_for(&self, dataset: DatasetId, user: UserId, rate: Option<f64>, now: Timestamp) -> StoreResult<Option<RecordId>>;
    /// The labeler's repeat of a record, open or answered.
    async fn find_repeat(&self, record: RecordId, user: UserId) -> StoreResult<Option<Repeat>>;
    /// Stores the answer to an open repeat (its status, values and presentation); `NotFound`
    /// when there is no open repeat of the record for the labeler.
    async fn answer_repeat(&self, repeat: &Repeat) -> StoreResult<()>;
    /// The dataset's submitted repeats, each with the values of the labeler's first answer.
    async fn list_repeats(&self, dataset: DatasetId) -> StoreResult<Vec<(Repeat, Option<serde_json::Map<String, Value>>)>>;
    /// Gives (or with `false` takes back) a user's reviewer right in a dataset.
    async fn set_reviewer(&self, dataset: DatasetId, user: UserId, reviewer: bool) -> StoreResult<()>;
    /// The dataset's reviewers, in the order they were named.
    async fn list_reviewers(&self, dataset: DatasetId) -> StoreResult<Vec<UserId>>;
    /// Stores a record's final verdict, replacing an earlier one.
    async fn adjudicate(&self, adjudication: &Adjudication) -> StoreResult<()>;
    /// The record's final verdict, if it has one.
    async fn find_adjudication(&self, record: RecordId) -> StoreResult<Option<Adjudication>>;
    /// Every final verdict in the dataset, oldest first.
    async fn list_adjudications(&self, dataset: DatasetId) -> StoreResult<Vec<Adjudication>>;
}

/// The audit log of administrative actions.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends an entry (its `sequence` is ignored) and returns the sequence it was given.
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<u64>;
    /// Up to `limit` entries, newest first, older than `before` when given.
    async fn list_audit(&self, before: Option<u64>, limit: u64) -> StoreResult<Vec<AuditEvent>>;
}

/// Webhooks and the durable queue of their deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn create_webhook(&self, webhook: &Webhook) -> StoreResult<()>;
    /// Every webhook, oldest first.
    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>>;
    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>>;
    /// Stores a webhook's URL, events, enabled flag, description and `updated_at`.
    async fn update_webhook(&self, webhook: &Webhook) -> StoreResult<()>;
    /// Deletes a webhook with its deliveries.
    async fn delete_webhook(&self, id: WebhookId) -> StoreResult<()>;
    /// Enqueues deliveries in one transaction, leaving out those whose (webhook, dedupe key) is
    /// already queued or sent; returns how many were enqueued.
    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<u64>;
    /// Claims up to `limit` pending deliveries of enabled webhooks due at `now`, oldest due
    /// first, none of the webhooks in `busy` and at most `per_webhook` of any other, by moving
    /// their next attempt to `until` (a claim another server will not take before then); each
    /// comes with its webhook's URL and secret.
    async fn claim_deliveries(&self, now: Timestamp, until: Timestamp, limit: u64, per_webhook: u64, busy: &[WebhookId]) -> StoreResult<Vec<DueDelivery>>;
    /// Records attempts, in one transaction: each delivery becomes delivered, waits for a retry,
    /// or failed.
    async fn record_attempts(&self, attempts: &[(DeliveryId, Attempt)]) -> StoreResult<()>;
    /// A webhook's deliveries, newest first, up to `limit`.
    async fn list_deliveries(&self, webhook: WebhookId, limit: u64) -> StoreResult<Vec<Delivery>>;
    /// Deliveries waiting for an attempt, across all webhooks.
    async fn count_pending_deliveries(&self) -> StoreResult<u64>;
    /// Deletes delivered and failed deliveries, and those a disabled webhook holds, enqueued
    /// before `before`; returns how many.
    async fn prune_deliveries(&self, before: Timestamp) -> StoreResult<u64>;
}
