//! Responses: a labeler answers a record, edits or withdraws the answer; and suggestions.

use juror_core::ids::{QuestionId, RecordId, ResponseId, SuggestionId};
use juror_core::presentation::Presentation;
use juror_core::record::Record;
use juror_core::response::{check_response_values, check_suggestion, NewSuggestion, Response, ResponseStatus, Suggestion};
use juror_core::time::Timestamp;
use juror_core::user::Role;
use juror_core::webhook::WebhookEvent;
use juror_store::StoreError;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::error::{not_found, on_unique, AppError, AppResult};
use crate::policy::Action;
use crate::App;

/// A response's values and status as a labeler gives them.
#[derive(Debug, Clone)]
pub struct ResponseWrite {
    pub values: Option<Map<String, Value>>,
    pub status: ResponseStatus,
    /// How the web UI showed the record; `None` keeps what was stored (API clients).
    pub presentation: Option<Presentation>,
}

/// The outcome of one item of a bulk response write.
#[derive(Debug)]
pub struct BulkResponseItem {
    pub result: AppResult<Response>,
}

/// Most items one bulk response request may carry.
pub const MAX_RESPONSES_PER_BULK: usize = 100;

impl App {
    /// Records the caller's answer to a record (owners and members); one answer per labeler.
    /// A record handed out by `next_record` is not read again: its dataset is remembered, and its
    /// texts are needed only to check span answers.
    pub async fn create_response(&self, caller: &Caller, record_id: RecordId, write: ResponseWrite) -> AppResult<Response> {
        let mut record = None;
        let dataset_id = match self.record_datasets.get(record_id) {
            Some(dataset_id) => dataset_id,
            None => record.insert(self.stored_record(record_id).await?).dataset_id,
        };
        self.dataset_for(caller, dataset_id, Action::Answer).await?;
        self.check_answer_limits(caller.user.id, dataset_id, record_id, write.status == ResponseStatus::Submitted).await?;
        let schema = self.schema(dataset_id).await?;
        if record.is_none() && schema.questions.iter().any(|question| question.settings.reads_record_text()) {
            record = Some(self.stored_record(record_id).await?);
        }
        check_response_values(&schema.questions, write.values.as_ref(), write.status, record.as_ref().map(|record| &record.fields))?;
        let now = Timestamp::now();
        let response = Response { id: ResponseId::new(), record_id, user_id: caller.user.id, values: write.values, status: write.status, presentation: write.presentation, inserted_at: now, updated_at: now };
        self.store.create_response(&response).await.map_err(|error| match error {
            // The record was deleted since it was handed out.
            StoreError::ForeignKeyViolation => not_found("Record", record_id),
            error => on_unique(error, || format!("Response already exists for record with id `{record_id}` and by user with id `{}`", caller.user.id)),
        })?;
        self.activity.answer(response.status);
        self.response_event(WebhookEvent::ResponseCreated, &response, Some(&caller.user)).await;
        Ok(response)
    }

    /// Replaces a response's values and status (its author, owners, and admins of the workspace).
    pub async fn update_response(&self, caller: &Caller, id: ResponseId, write: ResponseWrite) -> AppResult<Response> {
        let (mut response, record) = self.editable_response(caller, id).await?;
        if response.user_id == caller.user.id {
            self.check_answer_limits(caller.user.id, record.dataset_id, record.id, write.status == ResponseStatus::Submitted).await?;
        }
        self.check_values(&record, &write).await?;
        response.values = write.values;
        response.status = write.status;
        if write.presentation.is_some() {
            response.presentation = write.presentation;
        }
        response.updated_at = Timestamp::now();
        self.store.update_response(&response).await?;
        self.activity.answer(response.status);
        self.response_event(WebhookEvent::ResponseUpdated, &response, None).await;
        Ok(response)
    }

    /// Deletes a response (its author, owners, and admins of the workspace).
    pub async fn delete_response(&self, caller: &Caller, id: ResponseId) -> AppResult<Response> {
        let (response, _record) = self.editable_response(caller, id).await?;
        self.store.delete_response(id).await?;
        self.response_event(WebhookEvent::ResponseDeleted, &response, None).await;
        Ok(response)
    }

    /// Creates or replaces the caller's responses to up to 100 records; each item fails alone.
    pub async fn upsert_my_responses(&self, caller: &Caller, items: Vec<(RecordId, ResponseWrite)>) -> AppResult<Vec<BulkResponseItem>> {
        if items.is_empty() || items.len() > MAX_RESPONSES_PER_BULK {
            return Err(AppError::Invalid(format!("bulk responses take between 1 and {MAX_RESPONSES_PER_BULK} items, got {}", items.len())));
        }
        let mut results = Vec::with_capacity(items.len());
        for (record_id, write) in items {
            results.push(BulkResponseItem { result: self.upsert_my_response(caller, record_id, write).await });
        }
        Ok(results)
    }

    /// Creates or replaces the caller's response to a record.
    pub async fn upsert_my_response(&self, caller: &Caller, record_id: RecordId, write: ResponseWrite) -> AppResult<Response> {
        match self.store.find_response(record_id, caller.user.id).await? {
            Some(existing) => self.update_response(caller, existing.id, write).await,
            None => self.create_response(caller, record_id, write).await,
        }
    }

    async fn editable_response(&self, caller: &Caller, id: ResponseId) -> AppResult<(Response, Record)> {
        let response = self.store.get_response(id).await?.ok_or_else(|| not_found("Response", id))?;
        let record = self.stored_record(response.record_id).await?;
        let dataset = self.store.get_dataset(record.dataset_id).await?.ok_or_else(|| not_found("Dataset", record.dataset_id))?;
        let is_author = response.user_id == caller.user.id;
        if is_author {
            self.authorize(caller, dataset.workspace_id, Action::Answer).await?;
        } else if caller.user.role == Role::Annotator {
            return Err(AppError::Forbidden);
        } else {
            self.authorize(caller, dataset.workspace_id, Action::Manage).await?;
        }
        Ok((response, record))
    }

    async fn check_values(&self, record: &Record, write: &ResponseWrite) -> AppResult<()> {
        let schema = self.schema(record.dataset_id).await?;
        check_response_values(&schema.questions, write.values.as_ref(), write.status, Some(&record.fields))?;
        Ok(())
    }

    /// A record's suggestions (owners and members).
    pub async fn list_suggestions(&self, caller: &Caller, record_id: RecordId) -> AppResult<Vec<Suggestion>> {
        let record = self.stored_record(record_id).await?;
        self.dataset_for(caller, record.dataset_id, Action::Read).await?;
        Ok(self.store.list_suggestions(record_id).await?)
    }

    /// Creates or replaces the record's suggestion for a question; true when created.
    pub async fn upsert_suggestion(&self, caller: &Caller, record_id: RecordId, suggestion: NewSuggestion) -> AppResult<(Suggestion, bool)> {
        let record = self.stored_record(record_id).await?;
        self.dataset_for(caller, record.dataset_id, Action::Manage).await?;
        let schema = self.schema(record.dataset_id).await?;
        let question = schema
            .question(suggestion.question_id)
            .ok_or_else(|| AppError::Invalid(format!("question_id={} does not exist", suggestion.question_id)))?;
        check_suggestion(question, &suggestion, Some(&record.fields))?;
        Ok(self.store.upsert_suggestion(record_id, &suggestion).await?)
    }

    /// Deletes some of a record's suggestions (1 to 100 ids).
    pub async fn delete_record_suggestions(&self, caller: &Caller, record_id: RecordId, ids: &[SuggestionId]) -> AppResult<()> {
        let record = self.stored_record(record_id).await?;
        self.dataset_for(caller, record.dataset_id, Action::Manage).await?;
        if ids.is_empty() || ids.len() > 100 {
            return Err(AppError::Invalid(format!("number of suggestion ids must be between 1 and 100, got {}", ids.len())));
        }
        Ok(self.store.delete_record_suggestions(record_id, ids).await?)
    }

    /// Deletes one suggestion.
    pub async fn delete_suggestion(&self, caller: &Caller, id: SuggestionId) -> AppResult<Suggestion> {
        let suggestion = self.store.get_suggestion(id).await?.ok_or_else(|| not_found("Suggestion", id))?;
        let record = self.stored_record(suggestion.record_id).await?;
        self.dataset_for(caller, record.dataset_id, Action::Manage).await?;
        self.store.delete_suggestion(id).await?;
        Ok(suggestion)
    }

    /// The id of the dataset question with this name, for clients that name questions.
    pub async fn question_id_by_name(&self, record_id: RecordId, name: &str) -> AppResult<Option<QuestionId>> {
        let record = self.stored_record(record_id).await?;
        Ok(self.schema(record.dataset_id).await?.question_named(name).map(|question| question.id))
    }
}
