//! The JSON a webhook receives: Argilla's event envelope (`type`, `version`, `timestamp`,
//! `data`) around its event schemas, which nest what a listener needs (a record carries its
//! dataset and the dataset its workspace and settings, a response its record and author), so
//! the argilla SDK's `webhook_listener` parses them into its `Dataset`, `Record` and
//! `UserResponse`.
//!
//! These shapes are not the API's (`juror-server/src/wire.rs`): they nest instead of naming ids.
//! They are built here because events come from use cases, whichever client made them.

use juror_core::field::Field;
use juror_core::metadata::MetadataProperty;
use juror_core::question::Question;
use juror_core::record::{DatasetSchema, Record};
use juror_core::response::Response;
use juror_core::time::Timestamp;
use juror_core::user::{User, Workspace};
use juror_core::vector::VectorSettings;
use serde_json::{json, Value};

/// The envelope around an event's data, as text: exactly the bytes that are signed and sent.
pub fn envelope(event: &str, at: Timestamp, data: &Value) -> String {
    #[derive(serde::Serialize)]
    struct Envelope<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        version: u8,
        timestamp: String,
        data: &'a Value,
    }
    serde_json::to_string(&Envelope { kind: event, version: 1, timestamp: utc_iso(at), data }).unwrap_or_default()
}

/// `2024-06-01T10:20:30.123456Z`: the event time in UTC, as Argilla writes it.
fn utc_iso(at: Timestamp) -> String {
    format!("{}Z", at.to_naive_iso())
}

fn workspace(workspace: &Workspace) -> Value {
    json!({
        "id": workspace.id.to_string(),
        "name": workspace.name,
        "inserted_at": workspace.inserted_at.to_naive_iso(),
        "updated_at": workspace.updated_at.to_naive_iso(),
    })
}

fn field(field: &Field) -> Value {
    json!({
        "id": field.id.to_string(),
        "name": field.name,
        "title": field.title,
        "required": field.required,
        "settings": field.settings.to_json(),
        "inserted_at": field.inserted_at.to_naive_iso(),
        "updated_at": field.updated_at.to_naive_iso(),
    })
}

fn question(question: &Question) -> Value {
    json!({
        "id": question.id.to_string(),
        "name": question.name,
        "title": question.title,
        "description": question.description,
        "required": question.required,
        "settings": question.settings.to_json(),
        "inserted_at": question.inserted_at.to_naive_iso(),
        "updated_at": question.updated_at.to_naive_iso(),
    })
}

fn metadata_property(property: &MetadataProperty) -> Value {
    json!({
        "id": property.id.to_string(),
        "name": property.name,
        "title": property.title,
        "settings": property.settings.to_json(),
        "visible_for_annotators": property.visible_for_annotators,
        "inserted_at": property.inserted_at.to_naive_iso(),
        "updated_at": property.updated_at.to_naive_iso(),
    })
}

fn vector_settings(settings: &VectorSettings) -> Value {
    json!({
        "id": settings.id.to_string(),
        "name": settings.name,
        "title": settings.title,
        "dimensions": settings.dimensions,
        "inserted_at": settings.inserted_at.to_naive_iso(),
        "updated_at": settings.updated_at.to_naive_iso(),
    })
}

/// A dataset with its workspace and every setting.
pub fn dataset(schema: &DatasetSchema, owner: &Workspace) -> Value {
    let dataset = &schema.dataset;
    json!({
        "id": dataset.id.to_string(),
        "name": dataset.name,
        "guidelines": dataset.guidelines,
        "allow_extra_metadata": dataset.allow_extra_metadata,
        "status": dataset.status.as_str(),
        "distribution": {"strategy": "overlap", "min_submitted": dataset.distribution.min_submitted()},
        "workspace": workspace(owner),
        "questions": schema.questions.iter().map(question).collect::<Vec<_>>(),
        "fields": schema.fields.iter().map(field).collect::<Vec<_>>(),
        "metadata_properties": schema.metadata_properties.iter().map(metadata_property).collect::<Vec<_>>(),
        "vectors_settings": schema.vector_settings.iter().map(vector_settings).collect::<Vec<_>>(),
        "last_activity_at": dataset.last_activity_at.to_naive_iso(),
        "inserted_at": dataset.inserted_at.to_naive_iso(),
        "updated_at": dataset.updated_at.to_naive_iso(),
    })
}

/// A record with its dataset (as [`dataset`] gives it).
pub fn record(record: &Record, dataset: &Value) -> Value {
    json!({
        "id": record.id.to_string(),
        "status": record.status.as_str(),
        "fields": record.fields,
        "metadata": record.metadata,
        "external_id": record.external_id,
        "dataset": dataset,
        "inserted_at": record.inserted_at.to_naive_iso(),
        "updated_at": record.updated_at.to_naive_iso(),
    })
}

/// A response with its record (as [`record`] gives it) and author; never the author's API key.
pub fn response(response: &Response, record: &Value, author: &User) -> Value {
    json!({
        "id": response.id.to_string(),
        "values": response.values,
        "status": response.status.as_str(),
        "record": record,
        "user": {
            "id": author.id.to_string(),
            "first_name": author.first_name,
            "last_name": author.last_name,
            "username": author.username,
            "role": author.role.as_str(),
            "inserted_at": author.inserted_at.to_naive_iso(),
            "updated_at": author.updated_at.to_naive_iso(),
        },
        "inserted_at": response.inserted_at.to_naive_iso(),
        "updated_at": response.updated_at.to_naive_iso(),
    })
}

/// What a ping carries.
pub fn ping() -> Value {
    json!({"agent": "juror", "version": env!("CARGO_PKG_VERSION")})
}

#[cfg(test)]
mod tests {
    use super::*;
    use juror_core::ids::{RecordId, ResponseId, UserId, WorkspaceId};
    use juror_core::record::RecordStatus;
    use juror_core::response::ResponseStatus;
    use juror_core::user::Role;

    #[test]
    fn the_envelope_is_argillas() {
        let body = envelope("record.completed", Timestamp::from_micros(1_717_237_230_123_456), &json!({"id": "x"}));
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed, json!({"type": "record.completed", "version": 1, "timestamp": "2024-06-01T10:20:30.123456Z", "data": {"id": "x"}}));
    }

    #[test]
    fn a_response_nests_its_record_and_author_without_the_key() {
        let now = Timestamp::from_micros(1_717_237_230_000_000);
        let author = User {
            id: UserId::new(),
            username: "ann".into(),
            first_name: "Ann".into(),
            last_name: None,
            role: Role::Annotator,
            api_key: "secret-key".into(),
            password_hash: "hash".into(),
            inserted_at: now,
            updated_at: now,
        };
        let stored = Record {
            id: RecordId::new(),
            dataset_id: juror_core::ids::DatasetId::new(),
            external_id: Some("ext-1".into()),
            fields: json!({"prompt": "hi"}).as_object().cloned().unwrap(),
            metadata: None,
            status: RecordStatus::Completed,
            inserted_at: now,
            updated_at: now,
        };
        let answer = Response { id: ResponseId::new(), record_id: stored.id, user_id: author.id, values: None, status: ResponseStatus::Submitted, presentation: None, inserted_at: now, updated_at: now };
        let dataset = json!({"id": "d", "workspace": {"id": WorkspaceId::new().to_string()}});
        let data = response(&answer, &record(&stored, &dataset), &author);
        assert_eq!(data["record"]["dataset"], dataset);
        assert_eq!(data["record"]["status"], "completed");
        assert_eq!(data["record"]["external_id"], "ext-1");
        assert_eq!(data["user"]["username"], "ann");
        assert!(!data.to_string().contains("secret-key"));
    }
}
