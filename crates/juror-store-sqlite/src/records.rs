//! Records, their vectors, and batch writes (with embedded responses and suggestions) on SQLite.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use juror_core::ids::{DatasetId, RecordId, UserId, VectorSettingsId};
use juror_core::record::{Record, RecordRelations, RecordStatus, ValidRecordWrite};
use juror_core::response::{Response, ResponseStatus, Suggestion};
use juror_core::time::Timestamp;
use sqlx::sqlite::Sqlite;
use sqlx::{QueryBuilder, Row, SqliteConnection};

use super::rows::{self, RECORD_COLUMNS, RESPONSE_COLUMNS, SUGGESTION_COLUMNS};
use super::users::prefixed;
use super::{placeholders, tally, SqliteStore};
use juror_store::StoreResult;
use juror_store::{RecordCursor, RecordInclude, RecordPage, RecordScan, RecordStore, RecordWriteBatch, SuggestionsMode};

/// Rows per multi-row INSERT: well below SQLite's 32,766 bound parameters.
const ROWS_PER_INSERT: usize = 500;
/// Ids per `IN (...)` list.
const IDS_PER_QUERY: usize = 900;

#[async_trait]
impl RecordStore for SqliteStore {
    async fn resolve_records(
        &self,
        dataset: DatasetId,
        keys: &[(Option<String>, Option<RecordId>)],
    ) -> StoreResult<Vec<Option<RecordId>>> {
        let external_ids: Vec<&str> = keys.iter().filter_map(|(external_id, _)| external_id.as_deref()).collect();
        let ids: Vec<String> = keys.iter().filter_map(|(_, id)| id.map(|id| id.to_string())).collect();
        let mut by_external_id: HashMap<String, RecordId> = HashMap::new();
        for chunk in external_ids.chunks(IDS_PER_QUERY) {
            let query = format!("SELECT id, external_id FROM records WHERE dataset_id = ? AND external_id IN ({})", placeholders(chunk.len()));
            let mut select = sqlx::query(&query).bind(dataset.to_string());
            for external_id in chunk {
                select = select.bind(*external_id);
            }
            for row in select.fetch_all(&self.reader).await? {
                by_external_id.insert(row.try_get(1)?, rows::id(&row, 0)?);
            }
        }
        let mut known_ids: HashSet<RecordId> = HashSet::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let query = format!("SELECT id FROM records WHERE dataset_id = ? AND id IN ({})", placeholders(chunk.len()));
            let mut select = sqlx::query(&query).bind(dataset.to_string());
            for id in chunk {
                select = select.bind(id);
            }
            for row in select.fetch_all(&self.reader).await? {
                known_ids.insert(rows::id(&row, 0)?);
            }
        }
        Ok(keys
            .iter()
            .map(|(external_id, id)| {
                external_id
                    .as_ref()
                    .and_then(|external_id| by_external_id.get(external_id).copied())
                    .or_else(|| id.filter(|id| known_ids.contains(id)))
            })
            .collect())
    }

    async fn write_records(&self, batch: RecordWriteBatch) -> StoreResult<Vec<Record>> {
        let mut transaction = self.writer.begin().await?;
        let records = write_batch(&mut transaction, batch).await?;
        transaction.commit().await?;
        Ok(records)
    }

    async fn get_record(&self, id: RecordId) -> StoreResult<Option<Record>> {
        let query = format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::record).transpose()
    }

    async fn load_relations(&self, records: &[Record], include: &RecordInclude) -> StoreResult<Vec<RecordRelations>> {
        let ids: Vec<String> = records.iter().map(|record| record.id.to_string()).collect();
        let position: HashMap<RecordId, usize> = records.iter().enumerate().map(|(index, record)| (record.id, index)).collect();
        let mut relations = vec![RecordRelations::default(); records.len()];
        if include.responses {
            relations.iter_mut().for_each(|relation| relation.responses = Some(Vec::new()));
            let filter = if include.responses_of.is_some() { " AND user_id = ?" } else { "" };
            for chunk in ids.chunks(IDS_PER_QUERY) {
                let query = format!(
                    "SELECT {RESPONSE_COLUMNS} FROM responses WHERE record_id IN ({}){filter} ORDER BY inserted_at, id",
                    placeholders(chunk.len())
                );
                let mut select = sqlx::query(&query);
                for id in chunk {
                    select = select.bind(id);
                }
                if let Some(user) = include.responses_of {
                    select = select.bind(user.to_string());
                }
                for row in select.fetch_all(&self.reader).await? {
                    let response = rows::response(&row)?;
                    if let Some(list) = relations[position[&response.record_id]].responses.as_mut() {
                        list.push(response);
                    }
                }
            }
        }
        if include.suggestions {
            relations.iter_mut().for_each(|relation| relation.suggestions = Some(Vec::new()));
            for chunk in ids.chunks(IDS_PER_QUERY) {
                let query = format!(
                    "SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE record_id IN ({}) ORDER BY inserted_at, id",
                    placeholders(chunk.len())
                );
                let mut select = sqlx::query(&query);
                for id in chunk {
                    select = select.bind(id);
                }
                for row in select.fetch_all(&self.reader).await? {
                    let suggestion = rows::suggestion(&row)?;
                    if let Some(list) = relations[position[&suggestion.record_id]].suggestions.as_mut() {
                        list.push(suggestion);
                    }
                }
            }
        }
        if let Some(names) = &include.vectors {
            relations.iter_mut().for_each(|relation| relation.vectors = Some(Vec::new()));
            for chunk in ids.chunks(IDS_PER_QUERY) {
                let query = format!(
                    "SELECT rv.record_id, vs.name, rv.value FROM record_vectors rv JOIN vector_settings vs ON vs.id = rv.vector_settings_id
                     WHERE rv.record_id IN ({}) ORDER BY vs.inserted_at, vs.id",
                    placeholders(chunk.len())
                );
                let mut select = sqlx::query(&query);
                for id in chunk {
                    select = select.bind(id);
                }
                for row in select.fetch_all(&self.reader).await? {
                    let record_id: RecordId = rows::id(&row, 0)?;
                    let name: String = row.try_get(1)?;
                    if !names.is_empty() && !names.contains(&name) {
                        continue;
                    }
                    let value: &[u8] = row.try_get(2)?;
                    if let Some(list) = relations[position[&record_id]].vectors.as_mut() {
                        list.push((name, rows::decode_vector(value)));
                    }
                }
            }
        }
        Ok(relations)
    }

    async fn list_records(&self, dataset: DatasetId, offset: u64, limit: u64, include: &RecordInclude) -> StoreResult<RecordPage> {
        let query = format!("SELECT {RECORD_COLUMNS} FROM records WHERE dataset_id = ? ORDER BY seq LIMIT ? OFFSET ?");
        let records: Vec<Record> = sqlx::query(&query)
            .bind(dataset.to_string())
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::record)
            .collect::<StoreResult<_>>()?;
        let total = self.count_records(dataset).await?;
        let relations = self.load_relations(&records, include).await?;
        Ok(RecordPage { items: records.into_iter().zip(relations).collect(), total })
    }

    async fn count_records(&self, dataset: DatasetId) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM records WHERE dataset_id = ?")
            .bind(dataset.to_string())
            .fetch_one(&self.reader)
            .await?;
        Ok(count as u64)
    }

    async fn scan_record_ids(&self, dataset: DatasetId) -> StoreResult<Vec<RecordId>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM records WHERE dataset_id = ? ORDER BY seq").bind(dataset.to_string()).fetch_all(&self.reader).await?;
        ids.iter().map(|id| id.parse().map_err(|_| juror_store::StoreError::Other(format!("stored id `{id}` is not a UUID")))).collect()
    }

    async fn records_after(&self, dataset: DatasetId, after: RecordCursor, limit: u64, include: &RecordInclude) -> StoreResult<(Vec<(Record, RecordRelations)>, RecordCursor)> {
        // `+dataset_id` keeps SQLite on the `seq` range (the rowid) (each page starts where the last ended)
        // instead of the dataset index, which would sort the dataset's rows for every page.
        let query = format!("SELECT seq, {RECORD_COLUMNS} FROM records WHERE seq > ? AND +dataset_id = ? ORDER BY seq LIMIT ?");
        let rows = sqlx::query(&query).bind(after.sequence()).bind(dataset.to_string()).bind(limit.min(i64::MAX as u64) as i64).fetch_all(&self.reader).await?;
        let mut cursor = after;
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            cursor = RecordCursor::after(row.try_get(0)?);
            records.push(rows::record_at(row, 1)?);
        }
        let relations = self.load_relations(&records, include).await?;
        Ok((records.into_iter().zip(relations).collect(), cursor))
    }

    async fn scan_records(&self, dataset: DatasetId) -> StoreResult<RecordScan> {
        let query = format!("SELECT {RECORD_COLUMNS} FROM records WHERE dataset_id = ? ORDER BY seq");
        let records: Vec<Record> =
            sqlx::query(&query).bind(dataset.to_string()).fetch_all(&self.reader).await?.iter().map(rows::record).collect::<StoreResult<_>>()?;
        let position: HashMap<RecordId, usize> = records.iter().enumerate().map(|(index, record)| (record.id, index)).collect();
        let mut responses: Vec<Vec<Response>> = vec![Vec::new(); records.len()];
        let mut suggestions: Vec<Vec<Suggestion>> = vec![Vec::new(); records.len()];
        let query = format!(
            "SELECT {} FROM responses r JOIN records rec ON rec.id = r.record_id WHERE rec.dataset_id = ? ORDER BY r.inserted_at, r.id",
            prefixed("r", RESPONSE_COLUMNS)
        );
        for row in sqlx::query(&query).bind(dataset.to_string()).fetch_all(&self.reader).await? {
            let response = rows::response(&row)?;
            if let Some(&index) = position.get(&response.record_id) {
                responses[index].push(response);
            }
        }
        let query = format!(
            "SELECT {} FROM suggestions s JOIN records rec ON rec.id = s.record_id WHERE rec.dataset_id = ? ORDER BY s.inserted_at, s.id",
            prefixed("s", SUGGESTION_COLUMNS)
        );
        for row in sqlx::query(&query).bind(dataset.to_string()).fetch_all(&self.reader).await? {
            let suggestion = rows::suggestion(&row)?;
            if let Some(&index) = position.get(&suggestion.record_id) {
                suggestions[index].push(suggestion);
            }
        }
        Ok(RecordScan { records, responses, suggestions })
    }

    async fn record_vectors(&self, dataset: DatasetId, vector: VectorSettingsId) -> StoreResult<Vec<(RecordId, Vec<f32>)>> {
        let rows = sqlx::query(
            "SELECT rv.record_id, rv.value FROM record_vectors rv JOIN records r ON r.id = rv.record_id
             WHERE rv.vector_settings_id = ? AND r.dataset_id = ? ORDER BY r.seq",
        )
        .bind(vector.to_string())
        .bind(dataset.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let value: &[u8] = row.try_get(1)?;
                Ok((rows::id(row, 0)?, rows::decode_vector(value)))
            })
            .collect()
    }

    async fn delete_records(&self, dataset: DatasetId, ids: &[RecordId]) -> StoreResult<u64> {
        let mut transaction = self.writer.begin().await?;
        let mut deleted = 0;
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let query = format!("DELETE FROM records WHERE dataset_id = ? AND id IN ({})", placeholders(chunk.len()));
            let mut delete = sqlx::query(&query).bind(dataset.to_string());
            for id in chunk {
                delete = delete.bind(id.to_string());
            }
            deleted += delete.execute(&mut *transaction).await?.rows_affected();
        }
        transaction.commit().await?;
        Ok(deleted)
    }
}

/// Writes the batch and returns the records as stored. New records are built from the batch
/// itself; records that were updated or answered are read back, since their stored state
/// (kept fields, recomputed status) is not all in the batch.
async fn write_batch(connection: &mut SqliteConnection, batch: RecordWriteBatch) -> StoreResult<Vec<Record>> {
    let ids = write_rows(&mut *connection, &batch).await?;
    let now = Timestamp::now().micros();
    let answered: HashSet<RecordId> = batch.items.iter().zip(&ids).filter(|(item, _)| !item.responses.is_empty()).map(|(_, id)| *id).collect();
    let reread: Vec<RecordId> = batch.items.iter().zip(&ids).filter(|(item, id)| item.id.is_some() || answered.contains(id)).map(|(_, id)| *id).collect();
    let mut stored: HashMap<RecordId, Record> = HashMap::with_capacity(reread.len());
    for chunk in reread.chunks(IDS_PER_QUERY) {
        let query = format!("SELECT {RECORD_COLUMNS} FROM records WHERE id IN ({})", placeholders(chunk.len()));
        let mut select = sqlx::query(&query);
        for id in chunk {
            select = select.bind(id.to_string());
        }
        for row in select.fetch_all(&mut *connection).await? {
            let record = rows::record(&row)?;
            stored.insert(record.id, record);
        }
    }
    let dataset_id = batch.dataset_id;
    let inserted_at = Timestamp::from_micros(now);
    Ok(batch
        .items
        .into_iter()
        .zip(ids)
        .map(|(item, id)| {
            stored.remove(&id).unwrap_or_else(|| Record {
                id,
                dataset_id,
                external_id: item.external_id,
                fields: item.fields.unwrap_or_default(),
                metadata: item.metadata,
                status: RecordStatus::Pending,
                inserted_at,
                updated_at: inserted_at,
            })
        })
        .collect())
}

async fn write_rows(connection: &mut SqliteConnection, batch: &RecordWriteBatch) -> StoreResult<Vec<RecordId>> {
    let now = Timestamp::now().micros();
    let dataset_id = batch.dataset_id.to_string();
    let ids: Vec<RecordId> = batch.items.iter().map(|item| item.id.unwrap_or_default()).collect();
    type Indexed<'a> = Vec<(usize, &'a ValidRecordWrite)>;
    let (updates, inserts): (Indexed<'_>, Indexed<'_>) = batch.items.iter().enumerate().partition(|(_, item)| item.id.is_some());

    for chunk in inserts.chunks(ROWS_PER_INSERT) {
        let mut insert: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO records (id, dataset_id, external_id, fields, metadata, status, inserted_at, updated_at) ");
        insert.push_values(chunk, |mut row, (index, item)| {
            let fields = item.fields.as_ref().map_or_else(|| "{}".to_owned(), rows::encode_map);
            row.push_bind(ids[*index].to_string())
                .push_bind(&dataset_id)
                .push_bind(item.external_id.as_deref())
                .push_bind(fields)
                .push_bind(rows::encode_object(item.metadata.as_ref()))
                .push_bind(RecordStatus::Pending.as_str())
                .push_bind(now)
                .push_bind(now);
        });
        insert.build().execute(&mut *connection).await?;
    }
    for (index, item) in &updates {
        let fields = item.fields.as_ref().map(rows::encode_map);
        sqlx::query(
            "UPDATE records SET fields = coalesce(?, fields), metadata = CASE WHEN ? THEN ? ELSE metadata END,
             external_id = coalesce(?, external_id), updated_at = ? WHERE id = ? AND dataset_id = ?",
        )
        .bind(fields)
        .bind(item.metadata.is_some())
        .bind(rows::encode_object(item.metadata.as_ref()))
        .bind(item.external_id.as_deref())
        .bind(now)
        .bind(ids[*index].to_string())
        .bind(&dataset_id)
        .execute(&mut *connection)
        .await?;
    }

    write_vectors(connection, batch, &ids).await?;
    write_suggestions(connection, batch, &ids, now).await?;
    write_responses(connection, batch, &ids, now).await?;
    Ok(ids)
}

async fn write_vectors(connection: &mut SqliteConnection, batch: &RecordWriteBatch, ids: &[RecordId]) -> StoreResult<()> {
    if batch.items.iter().all(|item| item.vectors.is_empty()) {
        return Ok(());
    }
    let settings: HashMap<String, String> = sqlx::query("SELECT name, id FROM vector_settings WHERE dataset_id = ?")
        .bind(batch.dataset_id.to_string())
        .fetch_all(&mut *connection)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    for (item, id) in batch.items.iter().zip(ids) {
        for (name, vector) in &item.vectors {
            let Some(settings_id) = settings.get(name) else { continue };
            sqlx::query(
                "INSERT INTO record_vectors (record_id, vector_settings_id, value) VALUES (?, ?, ?)
                 ON CONFLICT (record_id, vector_settings_id) DO UPDATE SET value = excluded.value",
            )
            .bind(id.to_string())
            .bind(settings_id)
            .bind(rows::encode_vector(vector))
            .execute(&mut *connection)
            .await?;
        }
    }
    Ok(())
}

async fn write_suggestions(connection: &mut SqliteConnection, batch: &RecordWriteBatch, ids: &[RecordId], now: i64) -> StoreResult<()> {
    for (item, id) in batch.items.iter().zip(ids) {
        let Some(suggestions) = &item.suggestions else { continue };
        if batch.suggestions_mode == SuggestionsMode::ReplaceAll && item.id.is_some() {
            sqlx::query("DELETE FROM suggestions WHERE record_id = ?").bind(id.to_string()).execute(&mut *connection).await?;
        }
        for suggestion in suggestions {
            super::responses::upsert_suggestion_row(&mut *connection, *id, suggestion, now).await?;
        }
    }
    Ok(())
}

/// Stores the batch's embedded responses; a submitted or discarded one ends its labeler's lease,
/// and every answered record is settled (`tally.rs`).
async fn write_responses(connection: &mut SqliteConnection, batch: &RecordWriteBatch, ids: &[RecordId], now: i64) -> StoreResult<()> {
    let mut answered = Vec::new();
    for (item, id) in batch.items.iter().zip(ids) {
        for response in &item.responses {
            upsert_response_row(&mut *connection, *id, response.user_id, response.values.as_ref(), response.status.as_str(), now).await?;
            if response.status != ResponseStatus::Draft {
                sqlx::query("DELETE FROM record_leases WHERE record_id = ? AND user_id = ?")
                    .bind(id.to_string())
                    .bind(response.user_id.to_string())
                    .execute(&mut *connection)
                    .await?;
            }
        }
        if !item.responses.is_empty() {
            answered.push(*id);
        }
    }
    tally::recount(connection, &answered, Timestamp::from_micros(now), true).await
}

/// Creates or replaces the response of `user` to `record`.
pub(crate) async fn upsert_response_row(
    connection: &mut SqliteConnection,
    record: RecordId,
    user: UserId,
    values: Option<&serde_json::Map<String, serde_json::Value>>,
    status: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO responses (id, record_id, user_id, \"values\", status, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (record_id, user_id) DO UPDATE SET \"values\" = excluded.\"values\", status = excluded.status, updated_at = excluded.updated_at",
    )
    .bind(juror_core::ids::ResponseId::new().to_string())
    .bind(record.to_string())
    .bind(user.to_string())
    .bind(rows::encode_object(values))
    .bind(status)
    .bind(now)
    .bind(now)
    .execute(&mut *connection)
    .await?;
    Ok(())
}
