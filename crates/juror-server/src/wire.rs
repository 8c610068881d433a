//! Domain values in Argilla's JSON shapes. Every response body is built here.

use juror_app::{Caller, RecordView, ResponseCounts};
use juror_core::audit::AuditEvent;
use juror_core::dataset::Dataset;
use juror_core::field::Field;
use juror_core::metadata::MetadataProperty;
use juror_core::question::Question;
use juror_core::response::{Response, Suggestion};
use juror_core::user::{User, Workspace};
use juror_core::vector::VectorSettings;
use juror_core::webhook::{Delivery, Webhook};
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

/// `{"items": [...]}`, the list envelope of `/api/v1`.
pub fn items<T>(values: &[T], to_json: impl Fn(&T) -> Value) -> Value {
    json!({"items": values.iter().map(to_json).collect::<Vec<_>>()})
}

/// A user; the API key only for the user and owners, `null` for anyone else.
pub fn user(user: &User, viewer: &Caller) -> Value {
    json!({
        "id": user.id.to_string(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "role": user.role.as_str(),
        "api_key": viewer.may_see_api_key_of(user).then_some(&user.api_key),
        "inserted_at": user.inserted_at.to_naive_iso(),
        "updated_at": user.updated_at.to_naive_iso(),
    })
}

/// The legacy (`/api/*`) user: adds `full_name` and workspace names, omits null keys. The
/// argilla-v1 SDK requires `api_key` to be a string: it is empty for viewers who may not see it.
pub fn legacy_user(user: &User, workspaces: &[Workspace], viewer: &Caller) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), user.id.to_string().into());
    object.insert("first_name".into(), user.first_name.clone().into());
    if let Some(last_name) = &user.last_name {
        object.insert("last_name".into(), last_name.clone().into());
    }
    object.insert("full_name".into(), user.full_name().into());
    object.insert("username".into(), user.username.clone().into());
    object.insert("role".into(), user.role.as_str().into());
    object.insert("workspaces".into(), workspaces.iter().map(|workspace| Value::from(workspace.name.clone())).collect());
    let api_key = if viewer.may_see_api_key_of(user) { user.api_key.as_str() } else { "" };
    object.insert("api_key".into(), api_key.into());
    object.insert("inserted_at".into(), user.inserted_at.to_naive_iso().into());
    object.insert("updated_at".into(), user.updated_at.to_naive_iso().into());
    Value::Object(object)
}

pub fn workspace(workspace: &Workspace) -> Value {
    json!({
        "id": workspace.id.to_string(),
        "name": workspace.name,
        "inserted_at": workspace.inserted_at.to_naive_iso(),
        "updated_at": workspace.updated_at.to_naive_iso(),
    })
}

pub fn dataset(dataset: &Dataset) -> Value {
    json!({
        "id": dataset.id.to_string(),
        "name": dataset.name,
        "guidelines": dataset.guidelines,
        "allow_extra_metadata": dataset.allow_extra_metadata,
        "status": dataset.status.as_str(),
        "distribution": {"strategy": "overlap", "min_submitted": dataset.distribution.min_submitted()},
        "metadata": dataset.metadata,
        "workspace_id": dataset.workspace_id.to_string(),
        "last_activity_at": dataset.last_activity_at.to_naive_iso(),
        "inserted_at": dataset.inserted_at.to_naive_iso(),
        "updated_at": dataset.updated_at.to_naive_iso(),
    })
}

pub fn field(field: &Field) -> Value {
    json!({
        "id": field.id.to_string(),
        "name": field.name,
        "title": field.title,
        "required": field.required,
        "settings": field.settings.to_json(),
        "dataset_id": field.dataset_id.to_string(),
        "inserted_at": field.inserted_at.to_naive_iso(),
        "updated_at": field.updated_at.to_naive_iso(),
    })
}

pub fn question(question: &Question) -> Value {
    json!({
        "id": question.id.to_string(),
        "name": question.name,
        "title": question.title,
        "description": question.description,
        "required": question.required,
        "settings": question.settings.to_json(),
        "dataset_id": question.dataset_id.to_string(),
        "inserted_at": question.inserted_at.to_naive_iso(),
        "updated_at": question.updated_at.to_naive_iso(),
    })
}

pub fn metadata_property(property: &MetadataProperty) -> Value {
    json!({
        "id": property.id.to_string(),
        "name": property.name,
        "title": property.title,
        "settings": property.settings.to_json(),
        "visible_for_annotators": property.visible_for_annotators,
        "dataset_id": property.dataset_id.to_string(),
        "inserted_at": property.inserted_at.to_naive_iso(),
        "updated_at": property.updated_at.to_naive_iso(),
    })
}

pub fn vector_settings(settings: &VectorSettings) -> Value {
    json!({
        "id": settings.id.to_string(),
        "name": settings.name,
        "title": settings.title,
        "dimensions": settings.dimensions,
        "dataset_id": settings.dataset_id.to_string(),
        "inserted_at": settings.inserted_at.to_naive_iso(),
        "updated_at": settings.updated_at.to_naive_iso(),
    })
}

pub fn response(response: &Response) -> Value {
    json!({
        "id": response.id.to_string(),
        "values": response.values,
        "status": response.status.as_str(),
        "record_id": response.record_id.to_string(),
        "user_id": response.user_id.to_string(),
        "inserted_at": response.inserted_at.to_naive_iso(),
        "updated_at": response.updated_at.to_naive_iso(),
    })
}

pub fn suggestion(suggestion: &Suggestion) -> Value {
    json!({
        "id": suggestion.id.to_string(),
        "question_id": suggestion.question_id.to_string(),
        "type": suggestion.kind.map(|kind| kind.as_str()),
        "value": suggestion.value,
        "agent": suggestion.agent,
        "score": suggestion.score,
        "inserted_at": suggestion.inserted_at.to_naive_iso(),
        "updated_at": suggestion.updated_at.to_naive_iso(),
    })
}

/// A record, with the relationship keys that were loaded and none of the others.
///
/// It borrows the record's fields and metadata, so large texts are written out without copies.
#[derive(Serialize)]
pub struct RecordJson<'a> {
    id: String,
    status: &'static str,
    fields: &'a Map<String, Value>,
    metadata: Option<&'a Map<String, Value>>,
    external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responses: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestions: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vectors: Option<BTreeMap<&'a str, &'a [f64]>>,
    dataset_id: String,
    inserted_at: String,
    updated_at: String,
}

pub fn record(view: &RecordView) -> RecordJson<'_> {
    let record = &view.record;
    let relations = &view.relations;
    RecordJson {
        id: record.id.to_string(),
        status: record.status.as_str(),
        fields: &record.fields,
        metadata: record.metadata.as_ref(),
        external_id: record.external_id.as_deref(),
        responses: relations.responses.as_ref().map(|responses| responses.iter().map(response).collect()),
        suggestions: relations.suggestions.as_ref().map(|suggestions| suggestions.iter().map(suggestion).collect()),
        vectors: relations.vectors.as_ref().map(|vectors| vectors.iter().map(|(name, vector)| (name.as_str(), vector.as_slice())).collect()),
        dataset_id: record.dataset_id.to_string(),
        inserted_at: record.inserted_at.to_naive_iso(),
        updated_at: record.updated_at.to_naive_iso(),
    }
}

/// `{"items": [Record], "total"?}`, the record list shapes.
#[derive(Serialize)]
pub struct RecordList<'a> {
    pub items: Vec<RecordJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// One search hit: the record and its score.
#[derive(Serialize)]
pub struct SearchItem<'a> {
    pub record: RecordJson<'a>,
    pub query_score: Option<f64>,
}

/// `{"items": [{"record", "query_score"}], "total"}`.
#[derive(Serialize)]
pub struct SearchList<'a> {
    pub items: Vec<SearchItem<'a>>,
    pub total: u64,
}

/// One entry of the audit log.
pub fn audit_event(event: &AuditEvent) -> Value {
    json!({
        "sequence": event.sequence,
        "at": event.at.to_naive_iso(),
        "actor_id": event.actor.map(|actor| actor.to_string()),
        "actor_name": event.actor_name,
        "action": event.action.as_str(),
        "target_kind": event.target_kind,
        "target_id": event.target_id,
        "details": event.details,
    })
}

/// Response counts by status.
pub fn counts(counts: &ResponseCounts) -> Value {
    json!({"submitted": counts.submitted, "discarded": counts.discarded, "draft": counts.draft})
}

/// A webhook, with its signing secret (only owners read webhooks).
pub fn webhook(webhook: &Webhook) -> Value {
    json!({
        "id": webhook.id.to_string(),
        "url": webhook.url,
        "secret": webhook.secret,
        "events": webhook.events.iter().map(|event| event.as_str()).collect::<Vec<_>>(),
        "enabled": webhook.enabled,
        "description": webhook.description,
        "inserted_at": webhook.inserted_at.to_naive_iso(),
        "updated_at": webhook.updated_at.to_naive_iso(),
    })
}

/// One event's delivery to a webhook: where it stands and what its last attempt came to.
pub fn delivery(delivery: &Delivery) -> Value {
    json!({
        "id": delivery.id.to_string(),
        "webhook_id": delivery.webhook_id.to_string(),
        "event": delivery.event,
        "status": delivery.status.as_str(),
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.map(|at| at.to_naive_iso()),
        "last_attempt_at": delivery.last_attempt_at.map(|at| at.to_naive_iso()),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "inserted_at": delivery.inserted_at.to_naive_iso(),
        "delivered_at": delivery.delivered_at.map(|at| at.to_naive_iso()),
    })
}
