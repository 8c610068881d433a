//! Domain values in Argilla's JSON shapes. Every response body is built here.

use juror_app::{RecordView, ResponseCounts};
use juror_core::dataset::Dataset;
use juror_core::field::Field;
use juror_core::metadata::MetadataProperty;
use juror_core::question::Question;
use juror_core::response::{Response, Suggestion};
use juror_core::user::{User, Workspace};
use juror_core::vector::VectorSettings;
use serde_json::{json, Map, Value};

/// `{"items": [...]}`, the list envelope of `/api/v1`.
pub fn items<T>(values: &[T], to_json: impl Fn(&T) -> Value) -> Value {
    json!({"items": values.iter().map(to_json).collect::<Vec<_>>()})
}

pub fn user(user: &User) -> Value {
    json!({
        "id": user.id.to_string(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "role": user.role.as_str(),
        "api_key": user.api_key,
        "inserted_at": user.inserted_at.to_naive_iso(),
        "updated_at": user.updated_at.to_naive_iso(),
    })
}

/// The legacy (`/api/*`) user: adds `full_name` and workspace names, omits null keys.
pub fn legacy_user(user: &User, workspaces: &[Workspace]) -> Value {
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
    object.insert("api_key".into(), user.api_key.clone().into());
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
pub fn record(view: &RecordView) -> Value {
    let record = &view.record;
    let mut object = Map::new();
    object.insert("id".into(), record.id.to_string().into());
    object.insert("status".into(), record.status.as_str().into());
    object.insert("fields".into(), Value::Object(record.fields.clone()));
    object.insert("metadata".into(), record.metadata.clone().map_or(Value::Null, Value::Object));
    object.insert("external_id".into(), record.external_id.clone().map_or(Value::Null, Value::String));
    if let Some(responses) = &view.relations.responses {
        object.insert("responses".into(), responses.iter().map(response).collect());
    }
    if let Some(suggestions) = &view.relations.suggestions {
        object.insert("suggestions".into(), suggestions.iter().map(suggestion).collect());
    }
    if let Some(vectors) = &view.relations.vectors {
        let vectors: Map<String, Value> = vectors.iter().map(|(name, vector)| (name.clone(), json!(vector))).collect();
        object.insert("vectors".into(), Value::Object(vectors));
    }
    object.insert("dataset_id".into(), record.dataset_id.to_string().into());
    object.insert("inserted_at".into(), record.inserted_at.to_naive_iso().into());
    object.insert("updated_at".into(), record.updated_at.to_naive_iso().into());
    Value::Object(object)
}

/// Response counts by status.
pub fn counts(counts: &ResponseCounts) -> Value {
    json!({"submitted": counts.submitted, "discarded": counts.discarded, "draft": counts.draft})
}
