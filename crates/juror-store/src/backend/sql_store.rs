//! Every `Store` trait, implemented once for any [`SqlBackend`]: a backend supplies how it runs
//! statements and opens transactions, and its own fast path for the labeling loop (answers and
//! hand-outs); everything else is the shared statements of `crud`, `read` and `write`.

use async_trait::async_trait;
use juror_core::audit::AuditEvent;
use juror_core::dataset::Dataset;
use juror_core::distribution::AnswerLimits;
use juror_core::field::Field;
use juror_core::ids::{DatasetId, DeliveryId, FieldId, MetadataPropertyId, QuestionId, RecordId, ResponseId, SuggestionId, UserId, VectorSettingsId, WebhookId, WorkspaceId};
use juror_core::metadata::MetadataProperty;
use juror_core::quality::{GoldVerdict, QualitySettings};
use juror_core::question::Question;
use juror_core::record::{DatasetSchema, Record, RecordRelations};
use juror_core::response::{NewSuggestion, Response, ResponseStatus, Suggestion};
use juror_core::time::Timestamp;
use juror_core::user::{User, Workspace};
use juror_core::vector::VectorSettings;
use juror_core::webhook::{Attempt, Delivery, DueDelivery, NewDelivery, Webhook};
use serde_json::Value;

use super::columns::Columns;
use super::rows::{self, FIELD_COLUMNS, METADATA_COLUMNS, QUESTION_COLUMNS, VECTOR_COLUMNS};
use super::retry::retried;
use super::run::Run;
use super::transaction::OpenTransaction;
use super::sql::Statement;
use super::{crud, quality, read, repeats, webhooks, write};
use crate::error::{StoreError, StoreResult};
use crate::{
    Adjudication, AuditStore, DatasetProgress, DatasetStore, DistributionStore, GoldStanding, Lease, LeaseRequest, QualityStore, RecordCursor, Repeat, RecordInclude, RecordPage, RecordScan,
    RecordStore, RecordWriteBatch, ResponseCounts, ResponseStore, SessionStore, UserChanges, UserProgressRow, UserStore, WebSession,
    WebhookStore,
};

/// Runs `$work` (an expression using `$tx`, a `&mut dyn Transaction`) in a transaction of
/// `$backend`, committed on success, and run again when the database aborted it for contention
/// ([`retried`]).
macro_rules! in_transaction {
    ($backend:expr, |$tx:ident| $work:expr) => {
        retried(|| async {
            let mut open = $backend.begin().await?;
            let value = {
                let $tx = open.as_mut();
                $work.await?
            };
            open.commit().await?;
            Ok(value)
        })
        .await
    };
}

/// A database backend on the shared statements.
#[async_trait]
pub trait SqlBackend: Run + Send + Sync + 'static {
    /// How a scan by `seq` names the dataset column so the planner keeps to the `seq` range.
    const SCAN_DATASET_COLUMN: &'static str = "dataset_id";

    /// Opens a transaction for writes.
    async fn begin(&self) -> StoreResult<Box<dyn OpenTransaction<Row = Self::Row> + '_>>;

    /// Stores an answer (created or updated), ends its labeler's lease unless it is a draft, and
    /// recounts the record, in one transaction acknowledged after it commits.
    async fn answer(&self, response: &Response, create: bool) -> StoreResult<()>;

    /// The next-record hand-out (`juror_core::distribution::Asker`), in one transaction.
    async fn lease(&self, request: &LeaseRequest) -> StoreResult<Option<(Lease, Record, RecordRelations)>>;

    /// Enqueues webhook deliveries in one transaction; a backend whose labeling writes are
    /// group-committed puts them in the same groups (they follow every answer when a webhook
    /// wants answers).
    async fn enqueue(&self, deliveries: &[NewDelivery]) -> StoreResult<u64> {
        let statements = webhooks::enqueue_deliveries(deliveries);
        if statements.is_empty() {
            return Ok(0);
        }
        in_transaction!(self, |tx| async {
            let mut enqueued = 0;
            for (insert, payloads) in &statements {
                enqueued += tx.execute(insert.clone()).await?;
                tx.execute(payloads.clone()).await?;
            }
            Ok::<u64, StoreError>(enqueued)
        })
    }
}


#[async_trait]
impl<B: SqlBackend> UserStore for B {
    async fn create_user(&self, user: &User, api_key_digest: &str) -> StoreResult<()> {
        self.write(crud::create_user(user, api_key_digest)).await.map(drop)
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.read_optional(crud::get_user(id), rows::user).await
    }

    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.read_optional(crud::find_user_by("username", username), rows::user).await
    }

    async fn find_user_by_api_key_digest(&self, digest: &str) -> StoreResult<Option<User>> {
        self.read_optional(crud::find_user_by("api_key_digest", digest), rows::user).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read_all(crud::list_users(), rows::user).await
    }

    async fn update_user(&self, id: UserId, changes: &UserChanges) -> StoreResult<()> {
        self.write_one(crud::update_user(id, changes)).await
    }

    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        in_transaction!(self, |tx| write::delete_user(tx, id))
    }

    async fn count_users(&self) -> StoreResult<u64> {
        self.read_one(crud::count("users"), rows::count).await
    }

    async fn create_workspace(&self, workspace: &Workspace) -> StoreResult<()> {
        self.write(crud::create_workspace(workspace)).await.map(drop)
    }

    async fn get_workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        self.read_optional(crud::get_workspace(id), rows::workspace).await
    }

    async fn find_workspace_by_name(&self, name: &str) -> StoreResult<Option<Workspace>> {
        self.read_optional(crud::find_workspace_by_name(name), rows::workspace).await
    }

    async fn list_workspaces(&self) -> StoreResult<Vec<Workspace>> {
        self.read_all(crud::list_workspaces(), rows::workspace).await
    }

    async fn delete_workspace(&self, id: WorkspaceId) -> StoreResult<()> {
        self.write_one(crud::delete_workspace(id)).await
    }

    async fn add_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<()> {
        self.write(crud::add_workspace_member(workspace, user, Timestamp::now())).await.map(drop)
    }

    async fn remove_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<bool> {
        Ok(self.write(crud::remove_workspace_member(workspace, user)).await? == 1)
    }

    async fn list_workspace_members(&self, workspace: WorkspaceId) -> StoreResult<Vec<User>> {
        self.read_all(crud::list_workspace_members(workspace), rows::user).await
    }

    async fn list_user_workspaces(&self, user: UserId) -> StoreResult<Vec<Workspace>> {
        self.read_all(crud::list_user_workspaces(user), rows::workspace).await
    }

    async fn is_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<bool> {
        self.read_one(crud::is_workspace_member(workspace, user), rows::flag).await
    }
}

#[async_trait]
impl<B: SqlBackend> DatasetStore for B {
    async fn create_dataset(&self, dataset: &Dataset) -> StoreResult<()> {
        self.write(crud::create_dataset(dataset)).await.map(drop)
    }

    async fn get_dataset(&self, id: DatasetId) -> StoreResult<Option<Dataset>> {
        self.read_optional(crud::get_dataset(id), rows::dataset).await
    }

    async fn list_datasets(&self, workspaces: Option<&[WorkspaceId]>) -> StoreResult<Vec<Dataset>> {
        if workspaces.is_some_and(<[WorkspaceId]>::is_empty) {
            return Ok(Vec::new());
        }
        self.read_all(crud::list_datasets(workspaces), rows::dataset).await
    }

    async fn update_dataset(&self, dataset: &Dataset) -> StoreResult<()> {
        in_transaction!(self, |tx| write::update_dataset(tx, dataset))
    }

    async fn delete_dataset(&self, id: DatasetId) -> StoreResult<()> {
        self.write_one(crud::delete_dataset(id)).await
    }

    async fn count_datasets_in_workspace(&self, workspace: WorkspaceId) -> StoreResult<u64> {
        self.read_one(crud::count_datasets_in_workspace(workspace), rows::count).await
    }

    async fn load_schema(&self, id: DatasetId) -> StoreResult<Option<DatasetSchema>> {
        let Some(dataset) = self.get_dataset(id).await? else { return Ok(None) };
        Ok(Some(DatasetSchema {
            dataset,
            fields: self.read_all(crud::settings_of(FIELD_COLUMNS, "fields", id), rows::field).await?,
            questions: self.read_all(crud::settings_of(QUESTION_COLUMNS, "questions", id), rows::question).await?,
            metadata_properties: self.read_all(crud::settings_of(METADATA_COLUMNS, "metadata_properties", id), rows::metadata_property).await?,
            vector_settings: self.read_all(crud::settings_of(VECTOR_COLUMNS, "vector_settings", id), rows::vector_settings).await?,
        }))
    }

    async fn create_field(&self, field: &Field) -> StoreResult<()> {
        self.write(crud::create_field(field)).await.map(drop)
    }

    async fn get_field(&self, id: FieldId) -> StoreResult<Option<Field>> {
        self.read_optional(crud::get_field(id), rows::field).await
    }

    async fn update_field(&self, field: &Field) -> StoreResult<()> {
        self.write_one(crud::update_field(field)).await
    }

    async fn delete_field(&self, id: FieldId) -> StoreResult<()> {
        self.write_one(crud::delete_field(id)).await
    }

    async fn create_question(&self, question: &Question) -> StoreResult<()> {
        self.write(crud::create_question(question)).await.map(drop)
    }

    async fn get_question(&self, id: QuestionId) -> StoreResult<Option<Question>> {
        self.read_optional(crud::get_question(id), rows::question).await
    }

    async fn update_question(&self, question: &Question) -> StoreResult<()> {
        self.write_one(crud::update_question(question)).await
    }

    async fn delete_question(&self, id: QuestionId) -> StoreResult<()> {
        self.write_one(crud::delete_question(id)).await
    }

    async fn create_metadata_property(&self, property: &MetadataProperty) -> StoreResult<()> {
        self.write(crud::create_metadata_property(property)).await.map(drop)
    }

    async fn get_metadata_property(&self, id: MetadataPropertyId) -> StoreResult<Option<MetadataProperty>> {
        self.read_optional(crud::get_metadata_property(id), rows::metadata_property).await
    }

    async fn update_metadata_property(&self, property: &MetadataProperty) -> StoreResult<()> {
        self.write_one(crud::update_metadata_property(property)).await
    }

    async fn delete_metadata_property(&self, id: MetadataPropertyId) -> StoreResult<()> {
        self.write_one(crud::delete_metadata_property(id)).await
    }

    async fn metadata_values(&self, dataset: DatasetId, name: &str) -> StoreResult<Vec<Value>> {
        let objects = self.read_all(crud::record_metadata(dataset), rows::first_text).await?;
        rows::values_named(&objects, name)
    }

    async fn create_vector_settings(&self, settings: &VectorSettings) -> StoreResult<()> {
        self.write(crud::create_vector_settings(settings)).await.map(drop)
    }

    async fn get_vector_settings(&self, id: VectorSettingsId) -> StoreResult<Option<VectorSettings>> {
        self.read_optional(crud::get_vector_settings(id), rows::vector_settings).await
    }

    async fn update_vector_settings(&self, settings: &VectorSettings) -> StoreResult<()> {
        self.write_one(crud::update_vector_settings(settings)).await
    }

    async fn delete_vector_settings(&self, id: VectorSettingsId) -> StoreResult<()> {
        self.write_one(crud::delete_vector_settings(id)).await
    }
}

#[async_trait]
impl<B: SqlBackend> RecordStore for B {
    async fn resolve_records(&self, dataset: DatasetId, keys: &[(Option<String>, Option<RecordId>)]) -> StoreResult<Vec<Option<RecordId>>> {
        read::resolve(self, dataset, keys).await
    }

    async fn write_records(&self, batch: RecordWriteBatch) -> StoreResult<Vec<Record>> {
        let written = in_transaction!(self, |tx| write::records(tx, &batch))?;
        Ok(write::assemble(batch, written))
    }

    async fn get_record(&self, id: RecordId) -> StoreResult<Option<Record>> {
        self.read_optional(read::get_record(id), rows::record).await
    }

    async fn load_relations(&self, records: &[Record], include: &RecordInclude) -> StoreResult<Vec<RecordRelations>> {
        read::relations(self, records, include).await
    }

    async fn list_records(&self, dataset: DatasetId, offset: u64, limit: u64, include: &RecordInclude) -> StoreResult<RecordPage> {
        read::page(self, dataset, offset, limit, include).await
    }

    async fn count_records(&self, dataset: DatasetId) -> StoreResult<u64> {
        self.read_one(read::count_records(dataset), rows::count).await
    }

    async fn scan_record_ids(&self, dataset: DatasetId) -> StoreResult<Vec<RecordId>> {
        self.read_all(read::record_ids(dataset), rows::first_id).await
    }

    async fn records_after(&self, dataset: DatasetId, after: RecordCursor, limit: u64, include: &RecordInclude) -> StoreResult<(Vec<(Record, RecordRelations)>, RecordCursor)> {
        read::after(self, dataset, after, limit, include, Self::SCAN_DATASET_COLUMN).await
    }

    async fn scan_records(&self, dataset: DatasetId) -> StoreResult<RecordScan> {
        read::scan(self, dataset).await
    }

    async fn record_vectors(&self, dataset: DatasetId, vector: VectorSettingsId) -> StoreResult<Vec<(RecordId, Vec<f64>)>> {
        read::vectors(self, dataset, vector).await
    }

    async fn delete_records(&self, dataset: DatasetId, ids: &[RecordId]) -> StoreResult<u64> {
        in_transaction!(self, |tx| async {
            let mut deleted = 0;
            for statement in read::delete_records(dataset, ids) {
                deleted += tx.execute(statement).await?;
            }
            Ok::<u64, StoreError>(deleted)
        })
    }
}

#[async_trait]
impl<B: SqlBackend> ResponseStore for B {
    async fn create_response(&self, response: &Response) -> StoreResult<()> {
        self.answer(response, true).await
    }

    async fn get_response(&self, id: ResponseId) -> StoreResult<Option<Response>> {
        self.read_optional(crud::get_response(id), rows::response).await
    }

    async fn update_response(&self, response: &Response) -> StoreResult<()> {
        self.answer(response, false).await
    }

    async fn delete_response(&self, id: ResponseId) -> StoreResult<()> {
        in_transaction!(self, |tx| write::delete_response(tx, id))
    }

    async fn find_response(&self, record: RecordId, user: UserId) -> StoreResult<Option<Response>> {
        self.read_optional(crud::find_response(record, user), rows::response).await
    }

    async fn list_suggestions(&self, record: RecordId) -> StoreResult<Vec<Suggestion>> {
        self.read_all(crud::list_suggestions(record), rows::suggestion).await
    }

    async fn upsert_suggestion(&self, record: RecordId, suggestion: &NewSuggestion) -> StoreResult<(Suggestion, bool)> {
        in_transaction!(self, |tx| write::upsert_suggestion(tx, record, suggestion))
    }

    async fn get_suggestion(&self, id: SuggestionId) -> StoreResult<Option<Suggestion>> {
        self.read_optional(crud::get_suggestion(id), rows::suggestion).await
    }

    async fn delete_suggestion(&self, id: SuggestionId) -> StoreResult<()> {
        self.write_one(crud::delete_suggestion(id)).await
    }

    async fn delete_record_suggestions(&self, record: RecordId, ids: &[SuggestionId]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(crud::delete_record_suggestions(record, ids)).await.map(drop)
    }

    async fn dataset_progress(&self, dataset: DatasetId) -> StoreResult<DatasetProgress> {
        let (total, completed) = self.read_one(crud::dataset_totals(dataset), |row| Ok((rows::count_at(row, 0)?, rows::count_at(row, 1)?))).await?;
        let users = self.read_all(crud::dataset_labelers(dataset), rows::first_text).await?;
        Ok(DatasetProgress { total, completed, users })
    }

    async fn users_progress(&self, dataset: DatasetId) -> StoreResult<Vec<UserProgressRow>> {
        self.read_all(crud::users_progress(dataset), rows::user_progress).await
    }

    async fn user_response_counts(&self, dataset: DatasetId, user: UserId) -> StoreResult<ResponseCounts> {
        let counted = self.read_all(crud::user_response_counts(dataset, user), |row| Ok((row.text(0)?.to_owned(), rows::count_at(row, 1)?))).await?;
        Ok(rows::response_counts(&counted))
    }

    async fn list_user_responses(&self, dataset: DatasetId, user: UserId, status: Option<ResponseStatus>, limit: u64) -> StoreResult<Vec<Response>> {
        self.read_all(crud::list_user_responses(dataset, user, status, limit), rows::response).await
    }
}

#[async_trait]
impl<B: SqlBackend> DistributionStore for B {
    async fn lease_next_record(&self, request: &LeaseRequest) -> StoreResult<Option<(Lease, Record, RecordRelations)>> {
        self.lease(request).await
    }

    async fn release_lease(&self, record: RecordId, user: UserId, skip: bool) -> StoreResult<bool> {
        in_transaction!(self, |tx| write::release_lease(tx, record, user, skip))
    }

    async fn list_leases(&self, dataset: DatasetId, now: Timestamp) -> StoreResult<Vec<Lease>> {
        self.read_all(crud::list_leases(dataset, now), rows::lease).await
    }

    async fn count_live_leases(&self, now: Timestamp) -> StoreResult<u64> {
        self.read_one(crud::count_live_leases(now), rows::count).await
    }

    async fn replace_assignments(&self, dataset: DatasetId, assignments: &[(RecordId, UserId)]) -> StoreResult<()> {
        in_transaction!(self, |tx| async {
            tx.execute(crud::clear_assignments(dataset)).await?;
            for statement in crud::insert_assignments(dataset, assignments) {
                tx.execute(statement).await?;
            }
            Ok::<(), StoreError>(())
        })
    }

    async fn list_assignments(&self, dataset: DatasetId) -> StoreResult<Vec<(RecordId, UserId)>> {
        self.read_all(crud::list_assignments(dataset), rows::id_pair).await
    }

    async fn set_quota(&self, dataset: DatasetId, user: UserId, max_records: Option<u32>) -> StoreResult<()> {
        let statement = match max_records {
            Some(max_records) => crud::set_quota(dataset, user, max_records),
            None => crud::remove_quota(dataset, user),
        };
        self.write(statement).await.map(drop)
    }

    async fn list_quotas(&self, dataset: DatasetId) -> StoreResult<Vec<(UserId, u32)>> {
        self.read_all(crud::list_quotas(dataset), rows::quota).await
    }

    async fn has_answer_limits(&self, dataset: DatasetId) -> StoreResult<bool> {
        self.read_one(crud::has_answer_limits(dataset), rows::flag).await
    }

    async fn answer_limits(&self, dataset: DatasetId, record: RecordId, user: UserId) -> StoreResult<AnswerLimits> {
        let (assigned_to_others, quota, settings) =
            self.read_one(crud::assignment_and_quota(dataset, record, user), |row| Ok((row.flag(0)?, row.int_opt(1)?, quality::settings_of(row.text_opt(2)?)?))).await?;
        let submitted_elsewhere = match quota {
            None => 0,
            Some(_) => self.read_one(crud::submitted_elsewhere(dataset, record, user), rows::count).await?,
        };
        let paused = match settings.gold.filter(|gold| gold.pause) {
            Some(gold) => self.gold_standing(dataset, user).await?.is_paused(&gold),
            None => false,
        };
        Ok(AnswerLimits { assigned_to_others, quota: quota.map(|max| u32::try_from(max).unwrap_or(u32::MAX)), submitted_elsewhere, paused })
    }
}

#[async_trait]
impl<B: SqlBackend> QualityStore for B {
    async fn dataset_quality(&self, dataset: DatasetId) -> StoreResult<QualitySettings> {
        let stored = self.read_optional(Statement::new("SELECT quality FROM datasets WHERE id = ?").bind(dataset.to_string()), |row| Ok(row.text_opt(0)?.map(str::to_owned))).await?;
        quality::settings_of(stored.ok_or(StoreError::NotFound)?.as_deref())
    }

    async fn set_dataset_quality(&self, dataset: DatasetId, settings: &QualitySettings) -> StoreResult<()> {
        in_transaction!(self, |tx| write::set_dataset_quality(tx, dataset, settings))
    }

    async fn set_gold(&self, dataset: DatasetId, gold: &[(RecordId, GoldVerdict)]) -> StoreResult<()> {
        in_transaction!(self, |tx| write::set_gold(tx, dataset, gold))
    }

    async fn unset_gold(&self, dataset: DatasetId, records: &[RecordId]) -> StoreResult<u64> {
        in_transaction!(self, |tx| write::unset_gold(tx, dataset, records))
    }

    async fn list_gold(&self, dataset: DatasetId) -> StoreResult<Vec<(RecordId, GoldVerdict)>> {
        let select = Statement::new("SELECT g.record_id, g.verdict FROM gold_records g JOIN records r ON r.id = g.record_id WHERE g.dataset_id = ? ORDER BY r.seq");
        self.read_all(select.bind(dataset.to_string()), quality::gold_record).await
    }

    async fn gold_standings(&self, dataset: DatasetId) -> StoreResult<Vec<(UserId, GoldStanding)>> {
        quality::standings(&self.read(quality::gold_answers_of(dataset, None)).await?)
    }

    async fn gold_standing(&self, dataset: DatasetId, user: UserId) -> StoreResult<GoldStanding> {
        quality::standing(&self.read(quality::gold_answers_of(dataset, Some(user))).await?)
    }

    async fn resume_labeler(&self, dataset: DatasetId, user: UserId, at: Timestamp) -> StoreResult<()> {
        let upsert = Statement::new(
            "INSERT INTO gold_resumes (dataset_id, user_id, resumed_at) VALUES (?, ?, ?) ON CONFLICT (dataset_id, user_id) DO UPDATE SET resumed_at = excluded.resumed_at",
        );
        self.write(upsert.bind(dataset.to_string()).bind(user.to_string()).bind(at.micros())).await.map(drop)
    }

    async fn repeat_for(&self, dataset: DatasetId, user: UserId, rate: Option<f64>, now: Timestamp) -> StoreResult<Option<RecordId>> {
        let open = self.read_optional(repeats::open_one(dataset, user), rows::first_id).await?;
        match (open, rate) {
            (Some(record), _) => Ok(Some(record)),
            (None, None) => Ok(None),
            (None, Some(rate)) => in_transaction!(self, |tx| repeats::repeat_for(tx, dataset, user, rate, now)),
        }
    }

    async fn find_repeat(&self, record: RecordId, user: UserId) -> StoreResult<Option<Repeat>> {
        self.read_optional(repeats::find(record, user), repeats::repeat).await
    }

    async fn answer_repeat(&self, repeat: &Repeat) -> StoreResult<()> {
        self.write_one(repeats::answer(repeat)).await
    }

    async fn list_repeats(&self, dataset: DatasetId) -> StoreResult<Vec<(Repeat, Option<serde_json::Map<String, Value>>)>> {
        self.read_all(repeats::submitted(dataset), |row| Ok((repeats::repeat(row)?, rows::json_object(row.text_opt(9)?)?))).await
    }

    async fn set_reviewer(&self, dataset: DatasetId, user: UserId, reviewer: bool) -> StoreResult<()> {
        let statement = match reviewer {
            true => Statement::new("INSERT INTO dataset_reviewers (dataset_id, user_id, inserted_at) VALUES (?, ?, ?) ON CONFLICT (dataset_id, user_id) DO NOTHING")
                .bind(dataset.to_string())
                .bind(user.to_string())
                .bind(Timestamp::now().micros()),
            false => Statement::new("DELETE FROM dataset_reviewers WHERE dataset_id = ? AND user_id = ?").bind(dataset.to_string()).bind(user.to_string()),
        };
        self.write(statement).await.map(drop)
    }

    async fn list_reviewers(&self, dataset: DatasetId) -> StoreResult<Vec<UserId>> {
        self.read_all(Statement::new("SELECT user_id FROM dataset_reviewers WHERE dataset_id = ? ORDER BY inserted_at, user_id").bind(dataset.to_string()), rows::first_id).await
    }

    async fn adjudicate(&self, adjudication: &Adjudication) -> StoreResult<()> {
        self.write(repeats::adjudicate(adjudication)).await.map(drop)
    }

    async fn find_adjudication(&self, record: RecordId) -> StoreResult<Option<Adjudication>> {
        let select = Statement::new(format!("SELECT {} FROM adjudications WHERE record_id = ?", repeats::ADJUDICATION_COLUMNS)).bind(record.to_string());
        self.read_optional(select, repeats::adjudication).await
    }

    async fn list_adjudications(&self, dataset: DatasetId) -> StoreResult<Vec<Adjudication>> {
        let select = Statement::new(format!("SELECT {} FROM adjudications WHERE dataset_id = ? ORDER BY decided_at, record_id", repeats::ADJUDICATION_COLUMNS)).bind(dataset.to_string());
        self.read_all(select, repeats::adjudication).await
    }
}

#[async_trait]
impl<B: SqlBackend> SessionStore for B {
    async fn create_session(&self, session: &WebSession) -> StoreResult<()> {
        self.write(crud::create_session(session)).await.map(drop)
    }

    async fn find_session(&self, token_digest: &str, now: Timestamp) -> StoreResult<Option<(WebSession, User)>> {
        self.read_optional(crud::find_session(token_digest, now), |row| rows::session(row, token_digest)).await
    }

    async fn delete_session(&self, token_digest: &str) -> StoreResult<()> {
        self.write(crud::delete_session(token_digest)).await.map(drop)
    }

    async fn delete_user_sessions(&self, user: UserId, keep: Option<&str>, now: Timestamp) -> StoreResult<()> {
        self.write(crud::delete_user_sessions(user, keep, now)).await.map(drop)
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<()> {
        self.write(crud::delete_expired_sessions(now)).await.map(drop)
    }
}

#[async_trait]
impl<B: SqlBackend> AuditStore for B {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<u64> {
        self.write_returning_one(crud::append_audit(event), rows::count).await
    }

    async fn list_audit(&self, before: Option<u64>, limit: u64) -> StoreResult<Vec<AuditEvent>> {
        self.read_all(crud::list_audit(before, limit), rows::audit_event).await
    }
}

#[async_trait]
impl<B: SqlBackend> WebhookStore for B {
    async fn create_webhook(&self, webhook: &Webhook) -> StoreResult<()> {
        self.write(webhooks::create_webhook(webhook)).await.map(drop)
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>> {
        self.read_all(webhooks::list_webhooks(), webhooks::webhook).await
    }

    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>> {
        self.read_optional(webhooks::get_webhook(id), webhooks::webhook).await
    }

    async fn update_webhook(&self, webhook: &Webhook) -> StoreResult<()> {
        self.write_one(webhooks::update_webhook(webhook)).await
    }

    async fn delete_webhook(&self, id: WebhookId) -> StoreResult<()> {
        self.write_one(webhooks::delete_webhook(id)).await
    }

    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<u64> {
        self.enqueue(deliveries).await
    }

    async fn claim_deliveries(&self, now: Timestamp, until: Timestamp, limit: u64, per_webhook: u64, busy: &[WebhookId]) -> StoreResult<Vec<DueDelivery>> {
        let rows = retried(|| self.write_returning(webhooks::claim_deliveries(now, until, limit, per_webhook, busy))).await?;
        rows.iter().map(webhooks::due_delivery).collect()
    }

    async fn record_attempts(&self, attempts: &[(DeliveryId, Attempt)]) -> StoreResult<()> {
        match attempts {
            [] => Ok(()),
            [(delivery, attempt)] => self.write(webhooks::record_attempt(*delivery, attempt)).await.map(drop),
            attempts => in_transaction!(self, |tx| async {
                for (delivery, attempt) in attempts {
                    tx.execute(webhooks::record_attempt(*delivery, attempt)).await?;
                }
                Ok::<(), StoreError>(())
            }),
        }
    }

    async fn list_deliveries(&self, webhook: WebhookId, limit: u64) -> StoreResult<Vec<Delivery>> {
        self.read_all(webhooks::list_deliveries(webhook, limit), webhooks::delivery).await
    }

    async fn count_pending_deliveries(&self) -> StoreResult<u64> {
        self.read_one(webhooks::count_pending_deliveries(), rows::count).await
    }

    async fn prune_deliveries(&self, before: Timestamp) -> StoreResult<u64> {
        self.write(webhooks::prune_deliveries(before)).await
    }
}
