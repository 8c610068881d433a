//! Decoding SQLite rows into domain types, and encoding the values that need it.

use std::str::FromStr;

use juror_core::dataset::{Dataset, DatasetStatus, Distribution};
use juror_core::field::{Field, FieldSettings};
use juror_core::metadata::{MetadataProperty, MetadataSettings};
use juror_core::ids::{RecordId, UserId};
use juror_core::presentation::Presentation;
use juror_core::question::{Question, QuestionSettings};
use juror_core::record::{Record, RecordStatus};
use juror_core::response::{Response, ResponseStatus, Suggestion, SuggestionType};
use juror_core::time::Timestamp;
use juror_core::user::{Role, User, Workspace};
use juror_core::vector::VectorSettings;
use serde_json::{Map, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use juror_store::{StoreError, StoreResult};

pub(crate) const USER_COLUMNS: &str =
    "id, username, first_name, last_name, role, api_key, password_hash, inserted_at, updated_at";
pub(crate) const WORKSPACE_COLUMNS: &str = "id, name, inserted_at, updated_at";
pub(crate) const DATASET_COLUMNS: &str = "id, name, guidelines, allow_extra_metadata, status, min_submitted, metadata, workspace_id, last_activity_at, inserted_at, updated_at";
pub(crate) const FIELD_COLUMNS: &str = "id, name, title, required, settings, dataset_id, inserted_at, updated_at";
pub(crate) const QUESTION_COLUMNS: &str =
    "id, name, title, description, required, settings, dataset_id, inserted_at, updated_at";
pub(crate) const METADATA_COLUMNS: &str =
    "id, name, title, settings, visible_for_annotators, dataset_id, inserted_at, updated_at";
pub(crate) const VECTOR_COLUMNS: &str = "id, name, title, dimensions, dataset_id, inserted_at, updated_at";
pub(crate) const RECORD_COLUMNS: &str = "id, dataset_id, external_id, fields, metadata, status, inserted_at, updated_at";
pub(crate) const RESPONSE_COLUMNS: &str =
    "id, record_id, user_id, \"values\", status, inserted_at, updated_at, shown_order, time_on_task_ms";
pub(crate) const SUGGESTION_COLUMNS: &str =
    "id, record_id, question_id, type, value, agent, score, inserted_at, updated_at";

pub(crate) fn id<T: FromStr>(row: &SqliteRow, index: usize) -> StoreResult<T> {
    let text: &str = row.try_get(index)?;
    text.parse().map_err(|_| StoreError::Other(format!("stored id `{text}` is not a UUID")))
}

fn timestamp(row: &SqliteRow, index: usize) -> StoreResult<Timestamp> {
    Ok(Timestamp::from_micros(row.try_get(index)?))
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("stored {what} is invalid: {error}"))
}

pub(crate) fn json_object(text: Option<&str>) -> StoreResult<Option<Map<String, Value>>> {
    match text {
        None => Ok(None),
        Some(text) => match serde_json::from_str(text)? {
            Value::Object(object) => Ok(Some(object)),
            Value::Null => Ok(None),
            other => Err(corrupt("object", other)),
        },
    }
}

pub(crate) fn encode_object(object: Option<&Map<String, Value>>) -> Option<String> {
    object.map(encode_map)
}

/// A JSON object as text, serialised straight from the borrowed map.
pub(crate) fn encode_map(object: &Map<String, Value>) -> String {
    serde_json::to_string(object).unwrap_or_else(|_| "{}".to_owned())
}

pub(crate) fn user(row: &SqliteRow) -> StoreResult<User> {
    user_at(row, 0)
}

/// A user whose `USER_COLUMNS` start at column `at`.
pub(crate) fn user_at(row: &SqliteRow, at: usize) -> StoreResult<User> {
    Ok(User {
        id: id(row, at)?,
        username: row.try_get(at + 1)?,
        first_name: row.try_get(at + 2)?,
        last_name: row.try_get(at + 3)?,
        role: Role::parse(row.try_get(at + 4)?).map_err(|error| corrupt("role", error))?,
        api_key: row.try_get(at + 5)?,
        password_hash: row.try_get(at + 6)?,
        inserted_at: timestamp(row, at + 7)?,
        updated_at: timestamp(row, at + 8)?,
    })
}

pub(crate) fn workspace(row: &SqliteRow) -> StoreResult<Workspace> {
    Ok(Workspace { id: id(row, 0)?, name: row.try_get(1)?, inserted_at: timestamp(row, 2)?, updated_at: timestamp(row, 3)? })
}

pub(crate) fn dataset(row: &SqliteRow) -> StoreResult<Dataset> {
    let min_submitted: i64 = row.try_get(5)?;
    Ok(Dataset {
        id: id(row, 0)?,
        name: row.try_get(1)?,
        guidelines: row.try_get(2)?,
        allow_extra_metadata: row.try_get(3)?,
        status: DatasetStatus::parse(row.try_get(4)?).map_err(|error| corrupt("dataset status", error))?,
        distribution: Distribution::overlap(min_submitted).map_err(|error| corrupt("distribution", error))?,
        metadata: json_object(row.try_get(6)?)?,
        workspace_id: id(row, 7)?,
        last_activity_at: timestamp(row, 8)?,
        inserted_at: timestamp(row, 9)?,
        updated_at: timestamp(row, 10)?,
    })
}

fn settings_json(row: &SqliteRow, index: usize) -> StoreResult<Value> {
    let text: &str = row.try_get(index)?;
    Ok(serde_json::from_str(text)?)
}

pub(crate) fn field(row: &SqliteRow) -> StoreResult<Field> {
    Ok(Field {
        id: id(row, 0)?,
        name: row.try_get(1)?,
        title: row.try_get(2)?,
        required: row.try_get(3)?,
        settings: FieldSettings::from_json(&settings_json(row, 4)?).map_err(|error| corrupt("field settings", error))?,
        dataset_id: id(row, 5)?,
        inserted_at: timestamp(row, 6)?,
        updated_at: timestamp(row, 7)?,
    })
}

pub(crate) fn question(row: &SqliteRow) -> StoreResult<Question> {
    Ok(Question {
        id: id(row, 0)?,
        name: row.try_get(1)?,
        title: row.try_get(2)?,
        description: row.try_get(3)?,
        required: row.try_get(4)?,
        settings: QuestionSettings::from_json(&settings_json(row, 5)?).map_err(|error| corrupt("question settings", error))?,
        dataset_id: id(row, 6)?,
        inserted_at: timestamp(row, 7)?,
        updated_at: timestamp(row, 8)?,
    })
}

pub(crate) fn metadata_property(row: &SqliteRow) -> StoreResult<MetadataProperty> {
    Ok(MetadataProperty {
        id: id(row, 0)?,
        name: row.try_get(1)?,
        title: row.try_get(2)?,
        settings: MetadataSettings::from_json(&settings_json(row, 3)?).map_err(|error| corrupt("metadata settings", error))?,
        visible_for_annotators: row.try_get(4)?,
        dataset_id: id(row, 5)?,
        inserted_at: timestamp(row, 6)?,
        updated_at: timestamp(row, 7)?,
    })
}

pub(crate) fn vector_settings(row: &SqliteRow) -> StoreResult<VectorSettings> {
    let dimensions: i64 = row.try_get(3)?;
    Ok(VectorSettings {
        id: id(row, 0)?,
        name: row.try_get(1)?,
        title: row.try_get(2)?,
        dimensions: u32::try_from(dimensions).map_err(|error| corrupt("dimensions", error))?,
        dataset_id: id(row, 4)?,
        inserted_at: timestamp(row, 5)?,
        updated_at: timestamp(row, 6)?,
    })
}

pub(crate) fn record(row: &SqliteRow) -> StoreResult<Record> {
    record_at(row, 0)
}

/// A record whose `RECORD_COLUMNS` start at column `at`.
pub(crate) fn record_at(row: &SqliteRow, at: usize) -> StoreResult<Record> {
    let fields: &str = row.try_get(at + 3)?;
    Ok(Record {
        id: id(row, at)?,
        dataset_id: id(row, at + 1)?,
        external_id: row.try_get(at + 2)?,
        fields: json_object(Some(fields))?.unwrap_or_default(),
        metadata: json_object(row.try_get(at + 4)?)?,
        status: RecordStatus::parse(row.try_get(at + 5)?).map_err(|error| corrupt("record status", error))?,
        inserted_at: timestamp(row, at + 6)?,
        updated_at: timestamp(row, at + 7)?,
    })
}

pub(crate) fn response(row: &SqliteRow) -> StoreResult<Response> {
    Ok(Response {
        id: id(row, 0)?,
        record_id: id(row, 1)?,
        user_id: id(row, 2)?,
        values: json_object(row.try_get(3)?)?,
        status: ResponseStatus::parse(row.try_get(4)?).map_err(|error| corrupt("response status", error))?,
        presentation: presentation(row.try_get(7)?, row.try_get(8)?)?,
        inserted_at: timestamp(row, 5)?,
        updated_at: timestamp(row, 6)?,
    })
}

fn presentation(shown_order: Option<&str>, time_on_task_ms: Option<i64>) -> StoreResult<Option<Presentation>> {
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
pub(crate) fn encode_presentation(presentation: Option<&Presentation>) -> (Option<String>, Option<i64>) {
    match presentation {
        None => (None, None),
        Some(presentation) => (
            Some(serde_json::to_string(&presentation.shown_order).unwrap_or_else(|_| "{}".to_owned())),
            presentation.time_on_task_ms.map(|ms| ms.min(i64::MAX as u64) as i64),
        ),
    }
}

pub(crate) fn suggestion(row: &SqliteRow) -> StoreResult<Suggestion> {
    let kind: Option<&str> = row.try_get(3)?;
    let value: &str = row.try_get(4)?;
    let score: Option<&str> = row.try_get(6)?;
    Ok(Suggestion {
        id: id(row, 0)?,
        record_id: id(row, 1)?,
        question_id: id(row, 2)?,
        kind: kind.map(SuggestionType::parse).transpose().map_err(|error| corrupt("suggestion type", error))?,
        value: serde_json::from_str(value)?,
        agent: row.try_get(5)?,
        score: score.map(serde_json::from_str).transpose()?,
        inserted_at: timestamp(row, 7)?,
        updated_at: timestamp(row, 8)?,
    })
}

/// Suggestions read as a JSON array of `[id, question_id, type, value, agent, score,
/// inserted_at, updated_at]` rows (value and score are the stored JSON texts).
pub(crate) fn suggestions_json(text: &str, record: RecordId) -> StoreResult<Vec<Suggestion>> {
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
pub(crate) fn response_json(text: Option<&str>, record: RecordId, user: UserId) -> StoreResult<Option<Response>> {
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

/// Encodes a vector as little-endian f32s.
pub(crate) fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|value| value.to_le_bytes()).collect()
}

/// Decodes a vector stored by `encode_vector`.
pub(crate) fn decode_vector(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])).collect()
}
