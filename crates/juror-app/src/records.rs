//! Records: bulk create and upsert (all or nothing), read, update and delete.

use std::collections::HashSet;

use juror_core::audit::AuditAction;
use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::record::{DatasetSchema, Record, RecordRelations, RecordWrite, ValidRecordWrite};
use juror_core::webhook::WebhookEvent;
use juror_store::{RecordCursor, RecordInclude, RecordWriteBatch, SuggestionsMode};
use serde_json::json;

use crate::auth::Caller;
use crate::error::{not_found, AppError, AppResult};
use crate::policy::Action;
use crate::search::{SearchRequest, SearchResult};
use crate::visibility::Visibility;
use crate::App;

/// A record with the relationships that were asked for.
#[derive(Debug, Clone)]
pub struct RecordView {
    pub record: Record,
    pub relations: RecordRelations,
}

/// A page request for a dataset's records; filters and sorts turn it into a search.
#[derive(Debug, Clone, Default)]
pub struct RecordsQuery {
    pub offset: u64,
    pub limit: u64,
    pub include: RecordInclude,
    pub search: Option<SearchRequest>,
}

/// Most records one bulk request may carry.
pub const MAX_RECORDS_PER_BULK: usize = 1000;
/// Most ids one delete request may carry.
pub const MAX_IDS_PER_DELETE: usize = 100;

fn at_position(index: usize, reason: impl std::fmt::Display) -> AppError {
    AppError::Invalid(format!("Record at position {index} is not valid because {reason}"))
}

impl App {
    /// Creates records in a published dataset; any invalid record rejects the whole batch.
    pub async fn create_records(&self, caller: &Caller, dataset_id: DatasetId, writes: Vec<RecordWrite>) -> AppResult<Vec<Record>> {
        let schema = self.writable_schema(caller, dataset_id).await?;
        if !schema.dataset.is_ready() {
            return Err(AppError::Invalid("records cannot be created for a non published dataset".into()));
        }
        check_unique_external_ids(&writes)?;
        let keys: Vec<(Option<String>, Option<RecordId>)> = writes.iter().map(|write| (write.external_id.clone(), None)).collect();
        let existing = self.store.resolve_records(dataset_id, &keys).await?;
        if let Some(index) = existing.iter().position(Option::is_some) {
            return Err(at_position(index, format!("a record with external_id `{}` already exists", keys[index].0.as_deref().unwrap_or_default())));
        }
        let items = self.validate_writes(&schema, writes, &vec![None; keys.len()]).await?;
        self.write(&schema, SuggestionsMode::UpsertPerQuestion, items).await
    }

    /// Creates or updates records, matched by external id and then by id within the dataset.
    pub async fn upsert_records(&self, caller: &Caller, dataset_id: DatasetId, writes: Vec<RecordWrite>) -> AppResult<Vec<Record>> {
        let schema = self.writable_schema(caller, dataset_id).await?;
        check_unique_external_ids(&writes)?;
        let keys: Vec<(Option<String>, Option<RecordId>)> = writes.iter().map(|write| (write.external_id.clone(), write.id)).collect();
        let existing = self.store.resolve_records(dataset_id, &keys).await?;
        let items = self.validate_writes(&schema, writes, &existing).await?;
        self.write(&schema, SuggestionsMode::UpsertPerQuestion, items).await
    }

    /// Updates metadata, suggestions (replaced whole) and vectors of existing records.
    pub async fn update_records(&self, caller: &Caller, dataset_id: DatasetId, writes: Vec<RecordWrite>) -> AppResult<()> {
        let schema = self.writable_schema(caller, dataset_id).await?;
        let mut seen = HashSet::new();
        let mut keys = Vec::with_capacity(writes.len());
        for write in &writes {
            let id = write.id.ok_or_else(|| AppError::Invalid("every record to update needs an `id`".into()))?;
            if !seen.insert(id) {
                return Err(AppError::Invalid(format!("Found duplicate records IDs: {id}")));
            }
            keys.push((None, Some(id)));
        }
        let existing = self.store.resolve_records(dataset_id, &keys).await?;
        let missing: Vec<String> = keys.iter().zip(&existing).filter(|(_, found)| found.is_none()).map(|((_, id), _)| id.map(|id| id.to_string()).unwrap_or_default()).collect();
        if !missing.is_empty() {
            return Err(AppError::Invalid(format!("Found records that do not exist: {}", missing.join(", "))));
        }
        let items = self.validate_writes(&schema, writes, &existing).await?;
        self.write(&schema, SuggestionsMode::ReplaceAll, items).await?;
        Ok(())
    }

    /// Every record of a dataset with everyone's responses, a page at a time in insertion order
    /// (owners and admins).
    pub async fn record_pages(&self, caller: &Caller, dataset_id: DatasetId, include: RecordInclude) -> AppResult<RecordPages> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        Ok(RecordPages::new(dataset_id, include))
    }

    /// A stored record, or `NotFound`; no authorization check.
    pub(crate) async fn stored_record(&self, id: RecordId) -> AppResult<Record> {
        self.store.get_record(id).await?.ok_or_else(|| not_found("Record", id))
    }

    /// One record with its relationships (owners and members); a labeler gets only their own
    /// response and the metadata shown to annotators.
    pub async fn get_record(&self, caller: &Caller, id: RecordId) -> AppResult<RecordView> {
        let record = self.stored_record(id).await?;
        let (_, visibility) = self.schema_seen_by(caller, record.dataset_id, Action::Read).await?;
        let include = RecordInclude { responses_of: visibility.responses_of(), ..all_relations() };
        let relations = self.store.load_relations(std::slice::from_ref(&record), &include).await?.pop().unwrap_or_default();
        let mut view = RecordView { record, relations };
        visibility.redact(&mut view);
        Ok(view)
    }

    /// Changes one record's fields, metadata, suggestions (replaced whole) or vectors.
    pub async fn update_record(&self, caller: &Caller, id: RecordId, mut write: RecordWrite) -> AppResult<RecordView> {
        let record = self.stored_record(id).await?;
        let schema = self.writable_schema(caller, record.dataset_id).await?;
        write.id = Some(id);
        write.external_id = None;
        write.responses = None;
        let fields_context = write.fields.clone().or(Some(record.fields.clone()));
        let mut item = schema
            .check_record(RecordWrite { fields: fields_context, ..write.clone() }, false, &|_| true)
            .map_err(AppError::from)?;
        if write.fields.is_none() {
            item.fields = None;
        }
        self.write(&schema, SuggestionsMode::ReplaceAll, vec![item]).await?;
        let record = self.stored_record(id).await?;
        self.view(record).await
    }

    /// Deletes one record (owners, and admins of its workspace).
    pub async fn delete_record(&self, caller: &Caller, id: RecordId) -> AppResult<Record> {
        let record = self.stored_record(id).await?;
        self.dataset_for(caller, record.dataset_id, Action::Manage).await?;
        self.store.delete_records(record.dataset_id, &[id]).await?;
        self.records_event(WebhookEvent::RecordDeleted, std::slice::from_ref(&record)).await;
        self.audit(Some(caller), AuditAction::RecordsDeleted, "dataset", record.dataset_id, json!({"record_ids": [id.to_string()], "deleted": 1})).await;
        Ok(record)
    }

    /// Deletes up to 100 records of a dataset; unknown ids are skipped.
    pub async fn delete_records(&self, caller: &Caller, dataset_id: DatasetId, ids: &[RecordId]) -> AppResult<u64> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        if ids.is_empty() || ids.len() > MAX_IDS_PER_DELETE {
            return Err(AppError::Invalid(format!("number of record ids must be between 1 and {MAX_IDS_PER_DELETE}, got {}", ids.len())));
        }
        let doomed = self.records_to_report_deleted(dataset_id, ids).await;
        let deleted = self.store.delete_records(dataset_id, ids).await?;
        self.records_event(WebhookEvent::RecordDeleted, &doomed).await;
        let record_ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.audit(Some(caller), AuditAction::RecordsDeleted, "dataset", dataset_id, json!({"record_ids": record_ids, "deleted": deleted})).await;
        Ok(deleted)
    }

    /// Which of these external ids the dataset's records already carry (owners and admins), so a
    /// resumed generation or import can skip them.
    pub async fn existing_external_ids(&self, caller: &Caller, dataset_id: DatasetId, external_ids: &[String]) -> AppResult<std::collections::HashSet<String>> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        let keys: Vec<(Option<String>, Option<RecordId>)> = external_ids.iter().map(|id| (Some(id.clone()), None)).collect();
        let found = self.store.resolve_records(dataset_id, &keys).await?;
        Ok(external_ids.iter().zip(found).filter(|(_, record)| record.is_some()).map(|(id, _)| id.clone()).collect())
    }

    /// A page of a dataset's records, with every labeler's responses (owners and admins).
    pub async fn list_records(&self, caller: &Caller, dataset_id: DatasetId, query: RecordsQuery) -> AppResult<SearchResult> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        if let Some(search) = query.search {
            return self.run_search(dataset_id, search, &Visibility::Everything, query.offset, query.limit, &query.include).await;
        }
        let page = self.store.list_records(dataset_id, query.offset, query.limit, &query.include).await?;
        Ok(SearchResult {
            hits: page.items.into_iter().map(|(record, relations)| crate::search::SearchHit { view: RecordView { record, relations }, score: None }).collect(),
            total: page.total,
        })
    }

    /// The records with all their relationships, in the given order.
    pub async fn with_relations(&self, records: Vec<Record>) -> AppResult<Vec<RecordView>> {
        let relations = self.store.load_relations(&records, &all_relations()).await?;
        Ok(records.into_iter().zip(relations).map(|(record, relations)| RecordView { record, relations }).collect())
    }

    async fn writable_schema(&self, caller: &Caller, dataset_id: DatasetId) -> AppResult<DatasetSchema> {
        self.dataset_for(caller, dataset_id, Action::Manage).await?;
        Ok((*self.schema(dataset_id).await?).clone())
    }

    async fn validate_writes(&self, schema: &DatasetSchema, writes: Vec<RecordWrite>, existing: &[Option<RecordId>]) -> AppResult<Vec<ValidRecordWrite>> {
        if writes.is_empty() {
            return Err(AppError::Invalid("at least one record is needed".into()));
        }
        if writes.len() > MAX_RECORDS_PER_BULK {
            return Err(AppError::Invalid(format!("at most {MAX_RECORDS_PER_BULK} records per request, got {}", writes.len())));
        }
        let known_users = self.known_users(&writes).await?;
        let user_exists = |user: UserId| known_users.contains(&user);
        let mut items = Vec::with_capacity(writes.len());
        for (index, (write, existing)) in writes.into_iter().zip(existing).enumerate() {
            let mut item = schema.check_record(write, existing.is_none(), &user_exists).map_err(|error| at_position(index, error.message()))?;
            item.id = *existing;
            items.push(item);
        }
        Ok(items)
    }

    async fn known_users(&self, writes: &[RecordWrite]) -> AppResult<HashSet<UserId>> {
        let wanted: HashSet<UserId> = writes.iter().flat_map(|write| write.responses.iter().flatten().map(|response| response.user_id)).collect();
        let mut known = HashSet::with_capacity(wanted.len());
        for user in wanted {
            if self.store.get_user(user).await?.is_some() {
                known.insert(user);
            }
        }
        Ok(known)
    }

    async fn write(&self, schema: &DatasetSchema, suggestions_mode: SuggestionsMode, items: Vec<ValidRecordWrite>) -> AppResult<Vec<Record>> {
        let batch = RecordWriteBatch {
            dataset_id: schema.dataset.id,
            suggestions_mode,
            items,
        };
        let kinds: Vec<(bool, bool)> = batch.items.iter().map(|item| (item.id.is_none(), !item.responses.is_empty())).collect();
        let records = self.store.write_records(batch).await.map_err(|error| match error {
            juror_store::StoreError::UniqueViolation { key } => AppError::Invalid(format!("records conflict with existing ones on their {key}")),
            other => other.into(),
        })?;
        self.report_written(&records, &kinds).await;
        Ok(records)
    }

    /// Reports written records to webhooks: created, updated, and completed by the responses
    /// they carried.
    async fn report_written(&self, records: &[Record], kinds: &[(bool, bool)]) {
        let (mut created, mut updated, mut answered) = (Vec::new(), Vec::new(), Vec::new());
        for (record, (is_new, has_responses)) in records.iter().zip(kinds) {
            if *is_new { &mut created } else { &mut updated }.push(record.clone());
            if *has_responses {
                answered.push(record.clone());
            }
        }
        self.records_event(WebhookEvent::RecordCreated, &created).await;
        self.records_event(WebhookEvent::RecordUpdated, &updated).await;
        self.completions_event(&answered).await;
    }

    pub(crate) async fn view(&self, record: Record) -> AppResult<RecordView> {
        let relations = self.store.load_relations(std::slice::from_ref(&record), &all_relations()).await?.pop().unwrap_or_default();
        Ok(RecordView { record, relations })
    }
}

fn check_unique_external_ids(writes: &[RecordWrite]) -> AppResult<()> {
    let mut seen = HashSet::new();
    for (index, write) in writes.iter().enumerate() {
        if let Some(external_id) = &write.external_id {
            if !seen.insert(external_id.as_str()) {
                return Err(at_position(index, format!("external_id `{external_id}` appears more than once in the request")));
            }
        }
    }
    Ok(())
}

/// Responses, suggestions and every vector.
pub(crate) fn all_relations() -> RecordInclude {
    RecordInclude { responses: true, suggestions: true, vectors: Some(Vec::new()), responses_of: None }
}

/// Records read per store call by [`RecordPages`].
const PAGE: u64 = 1000;

/// A dataset's records with the relations `include` asks for, read a page of 1,000 at a time by
/// key (each page one records query plus one per relation, whatever its depth), for passes over
/// a whole dataset.
#[derive(Debug)]
pub struct RecordPages {
    dataset: DatasetId,
    include: RecordInclude,
    cursor: RecordCursor,
    done: bool,
    /// Records left out of every page (gold records, for exports and figures).
    left_out: HashSet<RecordId>,
}

impl RecordPages {
    pub(crate) fn new(dataset: DatasetId, include: RecordInclude) -> Self {
        Self { dataset, include, cursor: RecordCursor::default(), done: false, left_out: HashSet::new() }
    }

    /// The same pages without these records (a page may then come back empty).
    pub(crate) fn leaving_out(self, left_out: HashSet<RecordId>) -> Self {
        Self { left_out, ..self }
    }

    /// The next page of records, `None` after the last.
    pub async fn next(&mut self, app: &App) -> AppResult<Option<Vec<(Record, RecordRelations)>>> {
        if self.done {
            return Ok(None);
        }
        let (mut page, cursor) = app.store.records_after(self.dataset, self.cursor, PAGE, &self.include).await?;
        self.cursor = cursor;
        self.done = (page.len() as u64) < PAGE;
        if page.is_empty() {
            return Ok(None);
        }
        if !self.left_out.is_empty() {
            page.retain(|(record, _)| !self.left_out.contains(&record.id));
        }
        Ok(Some(page))
    }
}
