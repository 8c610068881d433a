//! The reads of records that take more than one statement (relations, batches of ids), the
//! same on every backend.

use std::collections::{HashMap, HashSet};

use juror_core::ids::{DatasetId, RecordId, VectorSettingsId};
use juror_core::record::{Record, RecordRelations};
use juror_core::response::{Response, Suggestion};

use super::columns::Columns;
use super::crud::prefixed;
use super::rows::{self, RECORD_COLUMNS, RESPONSE_COLUMNS, SUGGESTION_COLUMNS};
use super::run::Run;
use super::sql::{placeholders, Statement};
use crate::error::StoreResult;
use crate::{RecordCursor, RecordInclude, RecordPage, RecordScan};

/// Ids per `IN (...)` list.
const IDS_PER_QUERY: usize = 500;

fn with_ids<'a>(sql: impl FnOnce(&str) -> String, ids: impl ExactSizeIterator<Item = &'a str>) -> Statement {
    let statement = Statement::new(sql(&placeholders(ids.len())));
    ids.fold(statement, |statement, id| statement.bind(id))
}

/// Each (external id, id) pair resolved to an existing record of the dataset: by external id
/// first, then by id.
pub async fn resolve<R: Run + ?Sized>(store: &R, dataset: DatasetId, keys: &[(Option<String>, Option<RecordId>)]) -> StoreResult<Vec<Option<RecordId>>> {
    let external_ids: Vec<&str> = keys.iter().filter_map(|(external_id, _)| external_id.as_deref()).collect();
    let ids: Vec<String> = keys.iter().filter_map(|(_, id)| id.map(|id| id.to_string())).collect();
    let mut by_external_id: HashMap<String, RecordId> = HashMap::new();
    for chunk in external_ids.chunks(IDS_PER_QUERY) {
        let select = Statement::new(format!("SELECT id, external_id FROM records WHERE dataset_id = ? AND external_id IN ({})", placeholders(chunk.len())))
            .bind(dataset.to_string());
        let select = chunk.iter().fold(select, |statement, external_id| statement.bind(*external_id));
        for (id, external_id) in store.read_all(select, |row| Ok((rows::id::<RecordId>(row, 0)?, row.text(1)?.to_owned()))).await? {
            by_external_id.insert(external_id, id);
        }
    }
    let mut known_ids: HashSet<RecordId> = HashSet::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let select = Statement::new(format!("SELECT id FROM records WHERE dataset_id = ? AND id IN ({})", placeholders(chunk.len()))).bind(dataset.to_string());
        let select = chunk.iter().fold(select, |statement, id| statement.bind(id.as_str()));
        known_ids.extend(store.read_all(select, rows::first_id::<RecordId>).await?);
    }
    Ok(keys
        .iter()
        .map(|(external_id, id)| external_id.as_ref().and_then(|external_id| by_external_id.get(external_id).copied()).or_else(|| id.filter(|id| known_ids.contains(id))))
        .collect())
}

pub fn get_record(id: RecordId) -> Statement {
    Statement::new(format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = ?")).bind(id.to_string())
}

/// The relations `include` asks for, one per record, in the records' order.
pub async fn relations<R: Run + ?Sized>(store: &R, records: &[Record], include: &RecordInclude) -> StoreResult<Vec<RecordRelations>> {
    let ids: Vec<String> = records.iter().map(|record| record.id.to_string()).collect();
    let position: HashMap<RecordId, usize> = records.iter().enumerate().map(|(index, record)| (record.id, index)).collect();
    let mut relations = vec![RecordRelations::default(); records.len()];
    if include.responses {
        relations.iter_mut().for_each(|relation| relation.responses = Some(Vec::new()));
        let filter = if include.responses_of.is_some() { " AND user_id = ?" } else { "" };
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let select = with_ids(|list| format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE record_id IN ({list}){filter} ORDER BY inserted_at, id"), chunk.iter().map(String::as_str));
            let select = match include.responses_of {
                Some(user) => select.bind(user.to_string()),
                None => select,
            };
            for response in store.read_all(select, rows::response).await? {
                if let Some(list) = relations[position[&response.record_id]].responses.as_mut() {
                    list.push(response);
                }
            }
        }
    }
    if include.suggestions {
        relations.iter_mut().for_each(|relation| relation.suggestions = Some(Vec::new()));
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let select = with_ids(|list| format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE record_id IN ({list}) ORDER BY inserted_at, id"), chunk.iter().map(String::as_str));
            for suggestion in store.read_all(select, rows::suggestion).await? {
                if let Some(list) = relations[position[&suggestion.record_id]].suggestions.as_mut() {
                    list.push(suggestion);
                }
            }
        }
    }
    if let Some(names) = &include.vectors {
        relations.iter_mut().for_each(|relation| relation.vectors = Some(Vec::new()));
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let select = with_ids(
                |list| {
                    format!(
                        "SELECT rv.record_id, vs.name, rv.value, rv.width FROM record_vectors rv JOIN vector_settings vs ON vs.id = rv.vector_settings_id \
                         WHERE rv.record_id IN ({list}) ORDER BY vs.inserted_at, vs.id"
                    )
                },
                chunk.iter().map(String::as_str),
            );
            let vectors = store.read_all(select, |row| Ok((rows::id::<RecordId>(row, 0)?, row.text(1)?.to_owned(), rows::decode_vector(row.bytes(2)?, row.int(3)?)))).await?;
            for (record_id, name, vector) in vectors {
                if !names.is_empty() && !names.contains(&name) {
                    continue;
                }
                if let Some(list) = relations[position[&record_id]].vectors.as_mut() {
                    list.push((name, vector));
                }
            }
        }
    }
    Ok(relations)
}

/// A page of records by offset, with their relations and the dataset's total.
pub async fn page<R: Run + ?Sized>(store: &R, dataset: DatasetId, offset: u64, limit: u64, include: &RecordInclude) -> StoreResult<RecordPage> {
    let select = Statement::new(format!("SELECT {RECORD_COLUMNS} FROM records WHERE dataset_id = ? ORDER BY seq LIMIT ? OFFSET ?"))
        .bind(dataset.to_string())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX));
    let records = store.read_all(select, rows::record).await?;
    let total = store.read_one(count_records(dataset), rows::count).await?;
    let relations = relations(store, &records, include).await?;
    Ok(RecordPage { items: records.into_iter().zip(relations).collect(), total })
}

pub fn count_records(dataset: DatasetId) -> Statement {
    Statement::new("SELECT count(*) FROM records WHERE dataset_id = ?").bind(dataset.to_string())
}

pub fn record_ids(dataset: DatasetId) -> Statement {
    Statement::new("SELECT id FROM records WHERE dataset_id = ? ORDER BY seq").bind(dataset.to_string())
}

/// Up to `limit` records after the cursor, in `seq` order, with their relations, and the cursor
/// to go on from. `dataset_column` is how this backend keeps the scan on the `seq` range (SQLite's
/// `+dataset_id` stops it choosing the dataset index, which would sort every page).
pub async fn after<R: Run + ?Sized>(store: &R, dataset: DatasetId, cursor: RecordCursor, limit: u64, include: &RecordInclude, dataset_column: &str) -> StoreResult<(Vec<(Record, RecordRelations)>, RecordCursor)> {
    let select = Statement::new(format!("SELECT seq, {RECORD_COLUMNS} FROM records WHERE seq > ? AND {dataset_column} = ? ORDER BY seq LIMIT ?"))
        .bind(cursor.sequence())
        .bind(dataset.to_string())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let read = store.read_all(select, |row| Ok((row.int(0)?, rows::record_at(row, 1)?))).await?;
    let next = read.last().map_or(cursor, |(sequence, _)| RecordCursor::after(*sequence));
    let records: Vec<Record> = read.into_iter().map(|(_, record)| record).collect();
    let relations = relations(store, &records, include).await?;
    Ok((records.into_iter().zip(relations).collect(), next))
}

/// Every record of the dataset with its responses and suggestions, in insertion order.
pub async fn scan<R: Run + ?Sized>(store: &R, dataset: DatasetId) -> StoreResult<RecordScan> {
    let records = store.read_all(Statement::new(format!("SELECT {RECORD_COLUMNS} FROM records WHERE dataset_id = ? ORDER BY seq")).bind(dataset.to_string()), rows::record).await?;
    let position: HashMap<RecordId, usize> = records.iter().enumerate().map(|(index, record)| (record.id, index)).collect();
    let mut responses: Vec<Vec<Response>> = vec![Vec::new(); records.len()];
    let mut suggestions: Vec<Vec<Suggestion>> = vec![Vec::new(); records.len()];
    let select = Statement::new(format!(
        "SELECT {} FROM responses r JOIN records rec ON rec.id = r.record_id WHERE rec.dataset_id = ? ORDER BY r.inserted_at, r.id",
        prefixed("r", RESPONSE_COLUMNS)
    ))
    .bind(dataset.to_string());
    for response in store.read_all(select, rows::response).await? {
        if let Some(&index) = position.get(&response.record_id) {
            responses[index].push(response);
        }
    }
    let select = Statement::new(format!(
        "SELECT {} FROM suggestions s JOIN records rec ON rec.id = s.record_id WHERE rec.dataset_id = ? ORDER BY s.inserted_at, s.id",
        prefixed("s", SUGGESTION_COLUMNS)
    ))
    .bind(dataset.to_string());
    for suggestion in store.read_all(select, rows::suggestion).await? {
        if let Some(&index) = position.get(&suggestion.record_id) {
            suggestions[index].push(suggestion);
        }
    }
    Ok(RecordScan { records, responses, suggestions })
}

/// The named vector of each record of the dataset that has one, in insertion order.
pub async fn vectors<R: Run + ?Sized>(store: &R, dataset: DatasetId, vector: VectorSettingsId) -> StoreResult<Vec<(RecordId, Vec<f64>)>> {
    let select = Statement::new(
        "SELECT rv.record_id, rv.value, rv.width FROM record_vectors rv JOIN records r ON r.id = rv.record_id \
         WHERE rv.vector_settings_id = ? AND r.dataset_id = ? ORDER BY r.seq",
    )
    .bind(vector.to_string())
    .bind(dataset.to_string());
    store.read_all(select, |row| Ok((rows::id(row, 0)?, rows::decode_vector(row.bytes(1)?, row.int(2)?)))).await
}

/// Deletes those of `ids` that belong to the dataset, a list at a time.
pub fn delete_records(dataset: DatasetId, ids: &[RecordId]) -> Vec<Statement> {
    ids.chunks(IDS_PER_QUERY)
        .map(|chunk| {
            let delete = Statement::new(format!("DELETE FROM records WHERE dataset_id = ? AND id IN ({})", placeholders(chunk.len()))).bind(dataset.to_string());
            chunk.iter().fold(delete, |statement, id| statement.bind(id.to_string()))
        })
        .collect()
}
