//! Decoding stored rows into domain types, and encoding the values that need it, for every
//! backend: both schemas store the same columns (ids and JSON as text, times as microseconds),
//! so one decoder per type reads a row of either through [`Columns`].

use std::str::FromStr;

use juror_core::audit::{AuditAction, AuditEvent};
use juror_core::dataset::{Dataset, DatasetStatus, Distribution};
use juror_core::field::{Field, FieldSettings};
use juror_core::metadata::{MetadataProperty, MetadataSettings};
use juror_core::ids::{RecordId, UserId};
use juror_core::presentation::Presentation;
use juror_core::question::{Question, QuestionSettings};
use juror_core::record::{Record, RecordRelations, RecordStatus};
use juror_core::response::{Response, ResponseStatus, Suggestion, SuggestionType};
use juror_core::time::Timestamp;
use juror_core::user::{Role, User, Workspace};
use juror_core::vector::VectorSettings;
use serde_json::{Map, Value};

use super::columns::Columns;
use crate::error::{StoreError, StoreResult};
use crate::{Lease, ResponseCounts, UserProgressRow, WebSession};

pub const USER_COLUMNS: &str =
    "id, username, first_name, last_name, role, api_key, password_hash, inserted_at, updated_at";
pub const WORKSPACE_COLUMNS: &str = "id, name, inserted_at, updated_at";
pub const DATASET_COLUMNS: &str = "id, name, guidelines, allow_extra_metadata, status, min_submitted, metadata, workspace_id, last_activity_at, inserted_at, updated_at";
pub const FIELD_COLUMNS: &str = "id, name, title, required, settings, dataset_id, inserted_at, updated_at";
pub const QUESTION_COLUMNS: &str =
    "id, name, title, description, required, settings, dataset_id, inserted_at, updated_at";
pub const METADATA_COLUMNS: &str =
    "id, name, title, settings, visible_for_annotators, dataset_id, inserted_at, updated_at";
pub const VECTOR_COLUMNS: &str = "id, name, title, dimensions, dataset_id, inserted_at, updated_at";
pub const RECORD_COLUMNS: &str = "id, dataset_id, external_id, fields, metadata, status, inserted_at, updated_at";
pub const RESPONSE_COLUMNS: &str =
    "id, record_id, user_id, \"values\", status, inserted_at, updated_at, shown_order, time_on_task_ms";
pub const SUGGESTION_COLUMNS: &str =
    "id, record_id, question_id, type, value, agent, score, inserted_at, updated_at";

pub fn id<T: FromStr>(row: &impl Columns, index: usize) -> StoreResult<T> {
    let text: &str = row.text(index)?;
    text.parse().map_err(|_| StoreError::Other(format!("stored id `{text}` is not a UUID")))
}

fn timestamp(row: &impl Columns, index: usize) -> StoreResult<Timestamp> {
    Ok(Timestamp::from_micros(row.int(index)?))
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("stored {what} is invalid: {error}"))
}

pub fn json_object(text: Option<&str>) -> StoreResult<Option<Map<String, Value>>> {
    match text {
        None => Ok(None),
        Some(text) => match serde_json::from_str(text)? {
            Value::Object(object) => Ok(Some(object)),
            Value::Null => Ok(None),
            other => Err(corrupt("object", other)),
        },
    }
}

pub fn encode_object(object: Option<&Map<String, Value>>) -> Option<String> {
    object.map(encode_map)
}

/// A JSON object as text, serialised straight from the borrowed map.
pub fn encode_map(object: &Map<String, Value>) -> String {
    serde_json::to_string(object).unwrap_or_else(|_| "{}".to_owned())
}

pub fn user(row: &impl Columns) -> StoreResult<User> {
    user_at(row, 0)
}

/// A user whose `USER_COLUMNS` start at column `at`.
pub fn user_at(row: &impl Columns, at: usize) -> StoreResult<User> {
    Ok(User {
        id: id(row, at)?,
        username: row.text(at + 1)?.to_owned(),
        first_name: row.text(at + 2)?.to_owned(),
        last_name: row.text_opt(at + 3)?.map(str::to_owned),
        role: Role::parse(row.text(at + 4)?).map_err(|error| corrupt("role", error))?,
        api_key: row.text(at + 5)?.to_owned(),
        password_hash: row.text(at + 6)?.to_owned(),
        inserted_at: timestamp(row, at + 7)?,
        updated_at: timestamp(row, at + 8)?,
    })
}

pub fn workspace(row: &impl Columns) -> StoreResult<Workspace> {
    Ok(Workspace { id: id(row, 0)?, name: row.text(1)?.to_owned(), inserted_at: timestamp(row, 2)?, updated_at: timestamp(row, 3)? })
}

pub fn dataset(row: &impl Columns) -> StoreResult<Dataset> {
    let min_submitted: i64 = row.int(5)?;
    Ok(Dataset {
        id: id(row, 0)?,
        name: row.text(1)?.to_owned(),
        guidelines: row.text_opt(2)?.map(str::to_owned),
        allow_extra_metadata: row.flag(3)?,
        status: DatasetStatus::parse(row.text(4)?).map_err(|error| corrupt("dataset status", error))?,
        distribution: Distribution::overlap(min_submitted).map_err(|error| corrupt("distribution", error))?,
        metadata: json_object(row.text_opt(6)?)?,
        workspace_id: id(row, 7)?,
        last_activity_at: timestamp(row, 8)?,
        inserted_at: timestamp(row, 9)?,
        updated_at: timestamp(row, 10)?,
    })
}

fn settings_json(row: &impl Columns, index: usize) -> StoreResult<Value> {
    let text: &str = row.text(index)?;
    Ok(serde_json::from_str(text)?)
}

pub fn field(row: &impl Columns) -> StoreResult<Field> {
    Ok(Field {
        id: id(row, 0)?,
        name: row.text(1)?.to_owned(),
        title: row.text(2)?.to_owned(),
        required: row.flag(3)?,
        settings: FieldSettings::from_json(&settings_json(row, 4)?).map_err(|error| corrupt("field settings", error))?,
        dataset_id: id(row, 5)?,
        inserted_at: timestamp(row, 6)?,
        updated_at: timestamp(row, 7)?,
    })
}

pub fn question(row: &impl Columns) -> StoreResult<Question> {
    Ok(Question {
        id: id(row, 0)?,
        name: row.text(1)?.to_owned(),
        title: row.text(2)?.to_owned(),
        description: row.text_opt(3)?.map(str::to_owned),
        required: row.flag(4)?,
        settings: QuestionSettings::from_json(&settings_json(row, 5)?).map_err(|error| corrupt("question settings", error))?,
        dataset_id: id(row, 6)?,
        inserted_at: timestamp(row, 7)?,
        updated_at: timestamp(row, 8)?,
    })
}

pub fn metadata_property(row: &impl Columns) -> StoreResult<MetadataProperty> {
    Ok(MetadataProperty {
        id: id(row, 0)?,
        name: row.text(1)?.to_owned(),
        title: row.text(2)?.to_owned(),
        settings: MetadataSettings::from_json(&settings_json(row, 3)?).map_err(|error| corrupt("metadata settings", error))?,
        visible_for_annotators: row.flag(4)?,
        dataset_id: id(row, 5)?,
        inserted_at: timestamp(row, 6)?,
        updated_at: timestamp(row, 7)?,
    })
}

pub fn vector_settings(row: &impl Columns) -> StoreResult<VectorSettings> {
    let dimensions: i64 = row.int(3)?;
    Ok(VectorSettings {
        id: id(row, 0)?,
        name: row.text(1)?.to_owned(),
        title: row.text(2)?.to_owned(),
        dimensions: u32::try_from(dimensions).map_err(|error| corrupt("dimensions", error))?,
        dataset_id: id(row, 4)?,
        inserted_at: timestamp(row, 5)?,
        updated_at: timestamp(row, 6)?,
    })
}

pub fn record(row: &impl Columns) -> StoreResult<Record> {
    record_at(row, 0)
}

/// A record whose `RECORD_COLUMNS` start at column `at`.
pub fn record_at(row: &impl Columns, at: usize) -> StoreResult<Record> {
    let fields: &str = row.text(at + 3)?;
    Ok(Record {
        id: id(row, at)?,
        dataset_id: id(row, at + 1)?,
        external_id: row.text_opt(at + 2)?.map(str::to_owned),
        fields: json_object(Some(fields))?.unwrap_or_default(),
        metadata: json_object(row.text_opt(at + 4)?)?,
        status: RecordStatus::parse(row.text(at + 5)?).map_err(|error| corrupt("record status", error))?,
        inserted_at: timestamp(row, at + 6)?,
        updated_at: timestamp(row, at + 7)?,
    })
}

pub fn response(row: &impl Columns) -> StoreResult<Response> {
    Ok(Response {
        id: id(row, 0)?,
        record_id: id(row, 1)?,
        user_id: id(row, 2)?,
        values: json_object(row.text_opt(3)?)?,
        status: ResponseStatus::parse(row.text(4)?).map_err(|error| corrupt("response status", error))?,
        presentation: presentation(row.text_opt(7)?, row.int_opt(8)?)?,
        inserted_at: timestamp(row, 5)?,
        updated_at: timestamp(row, 6)?,
    })
}

pub fn presentation(shown_order: Option<&str>, time_on_task_ms: Option<i64>) -> StoreResult<Option<Presentation>> {
    if shown_order.is_none() && time_on_task_ms.is_none() {
        return Ok(None);
    }
    let shown_order = match shown_order {
        Some(text) => serde_json::from_str(text)?,
        None => Default::default(),
    };
    Ok(Some(Presentation { shown_order, time_on_task_ms: time_on_task_ms.map(|ms| ms.max(0) as u64) }))
}

/// The stored columns of a response's presentation: shown order as JSON, time on task.
pub fn encode_presentation(presentation: Option<&Presentation>) -> (Option<String>, Option<i64>) {
    match presentation {
        None => (None, None),
        Some(presentation) => (
            Some(serde_json::to_string(&presentation.shown_order).unwrap_or_else(|_| "{}".to_owned())),
            presentation.time_on_task_ms.map(|ms| ms.min(i64::MAX as u64) as i64),
        ),
    }
}

pub fn suggestion(row: &impl Columns) -> StoreResult<Suggestion> {
    let kind: Option<&str> = row.text_opt(3)?;
    let value: &str = row.text(4)?;
    let score: Option<&str> = row.text_opt(6)?;
    Ok(Suggestion {
        id: id(row, 0)?,
        record_id: id(row, 1)?,
        question_id: id(row, 2)?,
        kind: kind.map(SuggestionType::parse).transpose().map_err(|error| corrupt("suggestion type", error))?,
        value: serde_json::from_str(value)?,
        agent: row.text_opt(5)?.map(str::to_owned),
        score: score.map(serde_json::from_str).transpose()?,
        inserted_at: timestamp(row, 7)?,
        updated_at: timestamp(row, 8)?,
    })
}

/// Suggestions read as a JSON array of `[id, question_id, type, value, agent, score,
/// inserted_at, updated_at]` rows (value and score are the stored JSON texts).
pub fn suggestions_json(text: &str, record: RecordId) -> StoreResult<Vec<Suggestion>> {
    let rows: Vec<Vec<Value>> = serde_json::from_str(text)?;
    rows.iter()
        .map(|row| {
            let text_at = |index: usize| row.get(index).and_then(Value::as_str);
            Ok(Suggestion {
                id: parsed_at(row, 0, "suggestion id")?,
                record_id: record,
                question_id: parsed_at(row, 1, "question id")?,
                kind: text_at(2).map(SuggestionType::parse).transpose().map_err(|error| corrupt("suggestion type", error))?,
                value: serde_json::from_str(text_at(3).ok_or_else(|| corrupt("suggestion value", "missing"))?)?,
                agent: text_at(4).map(str::to_owned),
                score: text_at(5).map(serde_json::from_str).transpose()?,
                inserted_at: Timestamp::from_micros(row.get(6).and_then(Value::as_i64).unwrap_or_default()),
                updated_at: Timestamp::from_micros(row.get(7).and_then(Value::as_i64).unwrap_or_default()),
            })
        })
        .collect()
}

/// The text at `index` of a JSON row, parsed (an id).
fn parsed_at<T: FromStr>(row: &[Value], index: usize, what: &str) -> StoreResult<T> {
    row.get(index).and_then(Value::as_str).and_then(|text| text.parse().ok()).ok_or_else(|| corrupt(what, format!("{:?}", row.get(index))))
}

/// A response read as a JSON `[id, values, status, inserted_at, updated_at, shown_order,
/// time_on_task_ms]` (values and shown order are the stored JSON texts).
pub fn response_json(text: Option<&str>, record: RecordId, user: UserId) -> StoreResult<Option<Response>> {
    let Some(text) = text else { return Ok(None) };
    let row: Vec<Value> = serde_json::from_str(text)?;
    let text_at = |index: usize| row.get(index).and_then(Value::as_str);
    Ok(Some(Response {
        id: parsed_at(&row, 0, "response id")?,
        record_id: record,
        user_id: user,
        values: json_object(text_at(1))?,
        status: ResponseStatus::parse(text_at(2).unwrap_or_default()).map_err(|error| corrupt("response status", error))?,
        presentation: presentation(text_at(5), row.get(6).and_then(Value::as_i64))?,
        inserted_at: Timestamp::from_micros(row.get(3).and_then(Value::as_i64).unwrap_or_default()),
        updated_at: Timestamp::from_micros(row.get(4).and_then(Value::as_i64).unwrap_or_default()),
    }))
}

/// Bytes per element of the vectors written now (`record_vectors.width`): 64-bit floats, so a
/// vector reads back exactly as it was sent.
pub const VECTOR_WIDTH: i64 = 8;

/// A hand-out's read-back: the record's `RECORD_COLUMNS`, then the lease's expiry, the record's
/// suggestions (`suggestions_json`) and the labeler's own response (`response_json`).
pub fn handed_out(row: &impl Columns, user: UserId) -> StoreResult<(Lease, Record, RecordRelations)> {
    let record = record(row)?;
    let expires_at = timestamp(row, 8)?;
    let suggestions = suggestions_json(row.text(9)?, record.id)?;
    let mine = response_json(row.text_opt(10)?, record.id, user)?;
    let relations = RecordRelations { responses: Some(mine.into_iter().collect()), suggestions: Some(suggestions), vectors: None };
    Ok((Lease { record_id: record.id, user_id: user, expires_at }, record, relations))
}

/// Encodes a vector as little-endian f64s.
pub fn encode_vector(vector: &[f64]) -> Vec<u8> {
    vector.iter().flat_map(|value| value.to_le_bytes()).collect()
}

/// Decodes a stored vector of `width`-byte little-endian floats: 8 now, 4 for vectors stored
/// before they were kept at full precision.
pub fn decode_vector(bytes: &[u8], width: i64) -> Vec<f64> {
    if width == 4 {
        bytes.chunks_exact(4).map(|chunk| f64::from(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))).collect()
    } else {
        bytes.chunks_exact(8).map(|chunk| f64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))).collect()
    }
}

/// An audit entry from the columns `crud::list_audit` selects.
pub fn audit_event(row: &impl Columns) -> StoreResult<AuditEvent> {
    let action = row.text(4)?;
    Ok(AuditEvent {
        sequence: u64::try_from(row.int(0)?).unwrap_or(0),
        at: timestamp(row, 1)?,
        actor: row.text_opt(2)?.map(|_| id(row, 2)).transpose()?,
        actor_name: row.text(3)?.to_owned(),
        action: AuditAction::parse(action).ok_or_else(|| corrupt("audit action", action))?,
        target_kind: row.text(5)?.to_owned(),
        target_id: row.text(6)?.to_owned(),
        details: json_object(Some(row.text(7)?))?.unwrap_or_default(),
    })
}

/// A lease from `record_id, user_id, expires_at`.
pub fn lease(row: &impl Columns) -> StoreResult<Lease> {
    Ok(Lease { record_id: id(row, 0)?, user_id: id(row, 1)?, expires_at: timestamp(row, 2)? })
}

/// Two ids, as in `record_id, user_id`.
pub fn id_pair<A: FromStr, B: FromStr>(row: &impl Columns) -> StoreResult<(A, B)> {
    Ok((id(row, 0)?, id(row, 1)?))
}

/// A user's quota from `user_id, max_records`.
pub fn quota(row: &impl Columns) -> StoreResult<(UserId, u32)> {
    Ok((id(row, 0)?, u32::try_from(row.int(1)?).unwrap_or(u32::MAX)))
}

/// A row of `crud::users_progress`.
pub fn user_progress(row: &impl Columns) -> StoreResult<UserProgressRow> {
    Ok(UserProgressRow {
        username: row.text(0)?.to_owned(),
        record_status: RecordStatus::parse(row.text(1)?).map_err(|error| corrupt("record status", error))?,
        response_status: ResponseStatus::parse(row.text(2)?).map_err(|error| corrupt("response status", error))?,
        count: u64::try_from(row.int(3)?).unwrap_or(0),
    })
}

/// A session and its user from the columns `crud::find_session` selects.
pub fn session(row: &impl Columns, token_digest: &str) -> StoreResult<(WebSession, User)> {
    let user = user_at(row, 3)?;
    let session = WebSession {
        token_digest: token_digest.to_owned(),
        user_id: user.id,
        csrf_token: row.text(0)?.to_owned(),
        inserted_at: timestamp(row, 1)?,
        expires_at: timestamp(row, 2)?,
    };
    Ok((session, user))
}

/// The first column as an unsigned count.
pub fn count(row: &impl Columns) -> StoreResult<u64> {
    count_at(row, 0)
}

/// The first column as a flag.
pub fn flag(row: &impl Columns) -> StoreResult<bool> {
    row.flag(0)
}

/// The first column as an id.
pub fn first_id<T: FromStr>(row: &impl Columns) -> StoreResult<T> {
    id(row, 0)
}

/// The first column as text.
pub fn first_text(row: &impl Columns) -> StoreResult<String> {
    Ok(row.text(0)?.to_owned())
}

/// The values that metadata objects (JSON texts) hold under `name`.
pub fn values_named(objects: &[String], name: &str) -> StoreResult<Vec<Value>> {
    let mut values = Vec::new();
    for object in objects {
        if let Some(value) = json_object(Some(object))?.and_then(|mut object| object.remove(name)) {
            values.push(value);
        }
    }
    Ok(values)
}

/// The column at `index` as an unsigned count.
pub fn count_at(row: &impl Columns, index: usize) -> StoreResult<u64> {
    Ok(u64::try_from(row.int(index)?).unwrap_or(0))
}

/// A labeler's responses by status from `(status, count)` pairs.
pub fn response_counts(counted: &[(String, u64)]) -> ResponseCounts {
    let mut counts = ResponseCounts::default();
    for (status, count) in counted {
        match status.as_str() {
            "submitted" => counts.submitted = *count,
            "discarded" => counts.discarded = *count,
            _ => counts.draft = *count,
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_exactly_and_older_32_bit_ones_still_read() {
        let vector = vec![0.101_949_392_562_519_23, -1e-300, 3.0];
        assert_eq!(decode_vector(&encode_vector(&vector), VECTOR_WIDTH), vector);
        let legacy: Vec<u8> = [0.5f32, -2.25].iter().flat_map(|value| value.to_le_bytes()).collect();
        assert_eq!(decode_vector(&legacy, 4), vec![0.5, -2.25]);
    }
}
