//! The writes of several statements that both backends run the same way inside their own
//! transaction: a batch of records (with vectors, suggestions and responses), and the changes
//! after which records are recounted (`tally.rs`).

use std::collections::{HashMap, HashSet};

use juror_core::dataset::Dataset;
use juror_core::distribution::AnswerLimits;
use juror_core::ids::{DatasetId, RecordId, ResponseId, UserId};
use juror_core::quality::{GoldVerdict, QualitySettings};
use juror_core::record::{Record, RecordStatus, ValidRecordWrite};
use juror_core::response::{NewSuggestion, Response, ResponseStatus, Suggestion};
use juror_core::time::Timestamp;

use super::columns::Columns;
use super::sql::{placeholders, value_rows, Statement};
use super::transaction::Transaction;
use super::{crud, expect_one, quality, rows, tally};
use crate::error::{StoreError, StoreResult};
use crate::{RecordWriteBatch, SuggestionsMode};

/// Rows per multi-row `INSERT` (9 parameters each): well below both databases' bounds.
const ROWS_PER_INSERT: usize = 500;
/// Ids per `IN (...)` list.
const IDS_PER_QUERY: usize = 500;

/// What [`records`] wrote: each item's record id, and the records read back.
pub struct Written {
    ids: Vec<RecordId>,
    stored: HashMap<RecordId, Record>,
    now: Timestamp,
}

/// Writes the batch. New records are built afterwards from the batch itself ([`assemble`], which
/// moves their texts rather than copying them); records that were updated or answered are read
/// back here, since their stored state (kept fields, recounted status) is not all in the batch.
pub async fn records<T: Transaction + ?Sized>(transaction: &mut T, batch: &RecordWriteBatch) -> StoreResult<Written> {
    let now = Timestamp::now();
    let ids = rows_of(transaction, batch, now).await?;
    let answered: HashSet<RecordId> = batch.items.iter().zip(&ids).filter(|(item, _)| !item.responses.is_empty()).map(|(_, id)| *id).collect();
    let reread: Vec<RecordId> = batch.items.iter().zip(&ids).filter(|(item, id)| item.id.is_some() || answered.contains(id)).map(|(_, id)| *id).collect();
    let mut stored: HashMap<RecordId, Record> = HashMap::with_capacity(reread.len());
    for chunk in reread.chunks(IDS_PER_QUERY) {
        let query = format!("SELECT {} FROM records WHERE id IN ({})", rows::RECORD_COLUMNS, placeholders(chunk.len()));
        let select = chunk.iter().fold(Statement::new(query), |statement, id| statement.bind(id.to_string()));
        for row in transaction.fetch(select).await? {
            let record = rows::record(&row)?;
            stored.insert(record.id, record);
        }
    }
    Ok(Written { ids, stored, now })
}

/// The records of a written batch as stored, in input order.
pub fn assemble(batch: RecordWriteBatch, mut written: Written) -> Vec<Record> {
    let dataset_id = batch.dataset_id;
    batch
        .items
        .into_iter()
        .zip(written.ids)
        .map(|(item, id)| {
            written.stored.remove(&id).unwrap_or_else(|| Record {
                id,
                dataset_id,
                external_id: item.external_id,
                fields: item.fields.unwrap_or_default(),
                metadata: item.metadata,
                status: RecordStatus::Pending,
                inserted_at: written.now,
                updated_at: written.now,
            })
        })
        .collect()
}

async fn rows_of<T: Transaction + ?Sized>(transaction: &mut T, batch: &RecordWriteBatch, now: Timestamp) -> StoreResult<Vec<RecordId>> {
    let dataset_id = batch.dataset_id.to_string();
    let ids: Vec<RecordId> = batch.items.iter().map(|item| item.id.unwrap_or_default()).collect();
    type Indexed<'a> = Vec<(usize, &'a ValidRecordWrite)>;
    let (updates, inserts): (Indexed<'_>, Indexed<'_>) = batch.items.iter().enumerate().partition(|(_, item)| item.id.is_some());

    let first_target = if inserts.is_empty() { 0 } else { first_target(transaction, batch.dataset_id).await? };
    for chunk in inserts.chunks(ROWS_PER_INSERT) {
        let insert = Statement::new(format!(
            "INSERT INTO records (id, dataset_id, external_id, fields, metadata, status, target, inserted_at, updated_at) VALUES {}",
            value_rows(9, chunk.len())
        ));
        let insert = chunk.iter().fold(insert, |statement, (index, item)| {
            statement
                .bind(ids[*index].to_string())
                .bind(dataset_id.as_str())
                .bind(item.external_id.as_deref())
                .bind(item.fields.as_ref().map_or_else(|| "{}".to_owned(), rows::encode_map))
                .bind(rows::encode_object(item.metadata.as_ref()))
                .bind(RecordStatus::Pending.as_str())
                .bind(i64::from(first_target))
                .bind(now.micros())
                .bind(now.micros())
        });
        transaction.execute(insert).await?;
    }
    for (index, item) in &updates {
        let update = Statement::new(
            "UPDATE records SET fields = coalesce(?, fields), metadata = CASE WHEN ? THEN ? ELSE metadata END, \
             external_id = coalesce(?, external_id), updated_at = ? WHERE id = ? AND dataset_id = ?",
        )
        .bind(item.fields.as_ref().map(rows::encode_map))
        .bind(item.metadata.is_some())
        .bind(rows::encode_object(item.metadata.as_ref()))
        .bind(item.external_id.as_deref())
        .bind(now.micros())
        .bind(ids[*index].to_string())
        .bind(dataset_id.as_str());
        transaction.execute(update).await?;
    }

    vectors(transaction, batch, &ids).await?;
    suggestions(transaction, batch, &ids, now).await?;
    responses(transaction, batch, &ids, now).await?;
    Ok(ids)
}

/// The judgments a new record of the dataset needs (`QualitySettings::first_target`).
async fn first_target<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId) -> StoreResult<u32> {
    let found = transaction.fetch(Statement::new("SELECT min_submitted, quality FROM datasets WHERE id = ?").bind(dataset.to_string())).await?;
    let row = found.first().ok_or(StoreError::NotFound)?;
    let min_submitted = u32::try_from(row.int(0)?).unwrap_or(u32::MAX);
    Ok(quality::settings_of(row.text_opt(1)?)?.first_target(min_submitted))
}

async fn vectors<T: Transaction + ?Sized>(transaction: &mut T, batch: &RecordWriteBatch, ids: &[RecordId]) -> StoreResult<()> {
    if batch.items.iter().all(|item| item.vectors.is_empty()) {
        return Ok(());
    }
    let named = transaction.fetch(Statement::new("SELECT name, id FROM vector_settings WHERE dataset_id = ?").bind(batch.dataset_id.to_string())).await?;
    let settings: HashMap<String, String> = named.iter().map(|row| Ok((row.text(0)?.to_owned(), row.text(1)?.to_owned()))).collect::<StoreResult<_>>()?;
    for (item, id) in batch.items.iter().zip(ids) {
        for (name, vector) in &item.vectors {
            let Some(settings_id) = settings.get(name) else { continue };
            let upsert = Statement::new(
                "INSERT INTO record_vectors (record_id, vector_settings_id, value, width) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (record_id, vector_settings_id) DO UPDATE SET value = excluded.value, width = excluded.width",
            )
            .bind(id.to_string())
            .bind(settings_id.as_str())
            .bind(super::Param::Bytes(rows::encode_vector(vector)))
            .bind(rows::VECTOR_WIDTH);
            transaction.execute(upsert).await?;
        }
    }
    Ok(())
}

async fn suggestions<T: Transaction + ?Sized>(transaction: &mut T, batch: &RecordWriteBatch, ids: &[RecordId], now: Timestamp) -> StoreResult<()> {
    for (item, id) in batch.items.iter().zip(ids) {
        let Some(suggestions) = &item.suggestions else { continue };
        if batch.suggestions_mode == SuggestionsMode::ReplaceAll && item.id.is_some() {
            transaction.execute(Statement::new("DELETE FROM suggestions WHERE record_id = ?").bind(id.to_string())).await?;
        }
        for suggestion in suggestions {
            transaction.execute(crud::upsert_suggestion(*id, suggestion, now)).await?;
        }
    }
    Ok(())
}

/// Stores the batch's embedded responses; a submitted or discarded one ends its labeler's lease,
/// and every answered record is recounted.
async fn responses<T: Transaction + ?Sized>(transaction: &mut T, batch: &RecordWriteBatch, ids: &[RecordId], now: Timestamp) -> StoreResult<()> {
    let mut answered: Vec<RecordId> = batch.items.iter().zip(ids).filter(|(item, _)| !item.responses.is_empty()).map(|(_, id)| *id).collect();
    // Locked (in id order) before any answer is written, so a concurrent recount never waits on
    // us in turn.
    answered.sort_unstable();
    answered.dedup();
    transaction.lock_records(&answered).await?;
    for (item, id) in batch.items.iter().zip(ids) {
        for response in &item.responses {
            let upsert = Statement::new(
                "INSERT INTO responses (id, record_id, user_id, \"values\", status, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (record_id, user_id) DO UPDATE SET \"values\" = excluded.\"values\", status = excluded.status, updated_at = excluded.updated_at",
            )
            .bind(ResponseId::new().to_string())
            .bind(id.to_string())
            .bind(response.user_id.to_string())
            .bind(rows::encode_object(response.values.as_ref()))
            .bind(response.status.as_str())
            .bind(now.micros())
            .bind(now.micros());
            transaction.execute(upsert).await?;
            if response.status != ResponseStatus::Draft {
                transaction.execute(crud::release_lease(*id, response.user_id)).await?;
            }
        }
    }
    tally::recount(transaction, &answered, now, true).await
}

/// Deletes a user; the records they had answered or held are recounted.
pub async fn delete_user<T: Transaction + ?Sized>(transaction: &mut T, user: UserId) -> StoreResult<()> {
    let mut sorted = transaction.fetch(crud::records_touched_by(user)).await?.iter().map(rows::first_id).collect::<StoreResult<Vec<RecordId>>>()?;
    sorted.sort_unstable();
    transaction.lock_records(&sorted).await?;
    expect_one(transaction.execute(crud::delete_user(user)).await?)?;
    tally::recount(transaction, &sorted, Timestamp::now(), true).await
}

/// Saves a dataset; when its `min_submitted` changed, every record is recounted.
pub async fn update_dataset<T: Transaction + ?Sized>(transaction: &mut T, dataset: &Dataset) -> StoreResult<()> {
    let previous = transaction.fetch(crud::min_submitted_of(dataset.id)).await?;
    let previous = previous.first().map(rows::count).transpose()?;
    expect_one(transaction.execute(crud::update_dataset(dataset)).await?)?;
    if previous != Some(u64::from(dataset.distribution.min_submitted())) {
        tally::recount_dataset(transaction, dataset.id).await?;
    }
    Ok(())
}

/// Stores a dataset's quality settings (NULL when everything is off) and recounts its records,
/// whose targets follow.
pub async fn set_dataset_quality<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId, settings: &QualitySettings) -> StoreResult<()> {
    let stored = settings.is_on().then(|| settings.to_json().to_string());
    expect_one(transaction.execute(Statement::new("UPDATE datasets SET quality = ? WHERE id = ?").bind(stored).bind(dataset.to_string())).await?)?;
    tally::recount_dataset(transaction, dataset).await
}

/// Makes records of the dataset gold (or gives them a new verdict) and recounts them: a gold
/// record's target is 0, so it leaves the overlap hand-out. A record of another dataset (or none)
/// is `NotFound`, and the caller's transaction is then rolled back.
pub async fn set_gold<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId, gold: &[(RecordId, GoldVerdict)]) -> StoreResult<()> {
    let mut records: Vec<RecordId> = gold.iter().map(|(record, _)| *record).collect();
    records.sort_unstable();
    records.dedup();
    transaction.lock_records(&records).await?;
    let now = Timestamp::now();
    for (record, verdict) in gold {
        let upsert = Statement::new(
            "INSERT INTO gold_records (record_id, dataset_id, verdict, inserted_at) SELECT id, dataset_id, ?, ? FROM records WHERE id = ? AND dataset_id = ? \
             ON CONFLICT (record_id) DO UPDATE SET verdict = excluded.verdict",
        )
        .bind(quality::encode_verdict(verdict))
        .bind(now.micros())
        .bind(record.to_string())
        .bind(dataset.to_string());
        expect_one(transaction.execute(upsert).await?)?;
    }
    tally::recount(transaction, &records, now, false).await
}

/// Makes records of the dataset ordinary again and recounts them; how many were gold.
pub async fn unset_gold<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId, records: &[RecordId]) -> StoreResult<u64> {
    let mut records = records.to_vec();
    records.sort_unstable();
    records.dedup();
    transaction.lock_records(&records).await?;
    let mut removed = 0;
    for chunk in records.chunks(IDS_PER_QUERY) {
        let delete = Statement::new(format!("DELETE FROM gold_records WHERE dataset_id = ? AND record_id IN ({})", placeholders(chunk.len())));
        let delete = chunk.iter().fold(delete.bind(dataset.to_string()), |statement, id| statement.bind(id.to_string()));
        removed += transaction.execute(delete).await?;
    }
    tally::recount(transaction, &records, Timestamp::now(), false).await?;
    Ok(removed)
}

/// Ends a lease (its claim given back) and, with `skip`, puts the record behind the labeler's
/// others; whether there was a lease.
pub async fn release_lease<T: Transaction + ?Sized>(transaction: &mut T, record: RecordId, user: UserId, skip: bool) -> StoreResult<bool> {
    transaction.lock_records(&[record]).await?;
    let released = transaction.execute(crud::release_lease(record, user)).await? > 0;
    if released {
        tally::recount(transaction, &[record], Timestamp::now(), false).await?;
    }
    if skip {
        transaction.execute(crud::skip(record, user)).await?;
    }
    Ok(released)
}

/// Deletes a response; its record is recounted.
pub async fn delete_response<T: Transaction + ?Sized>(transaction: &mut T, id: ResponseId) -> StoreResult<()> {
    let record = transaction.fetch(Statement::new("SELECT record_id FROM responses WHERE id = ?").bind(id.to_string())).await?;
    let record: RecordId = record.first().map_or(Err(crate::StoreError::NotFound), rows::first_id)?;
    transaction.lock_records(&[record]).await?;
    expect_one(transaction.execute(Statement::new("DELETE FROM responses WHERE id = ?").bind(id.to_string())).await?)?;
    tally::recount(transaction, &[record], Timestamp::now(), true).await
}

/// Creates or replaces a record's suggestion for a question; the stored suggestion, and whether
/// it is new.
pub async fn upsert_suggestion<T: Transaction + ?Sized>(transaction: &mut T, record: RecordId, suggestion: &NewSuggestion) -> StoreResult<(Suggestion, bool)> {
    let existed = !transaction.fetch(crud::suggestion_for(record, suggestion.question_id)).await?.is_empty();
    transaction.execute(crud::upsert_suggestion(record, suggestion, Timestamp::now())).await?;
    let stored = transaction.fetch(crud::suggestion_for(record, suggestion.question_id)).await?;
    let stored = stored.first().map_or(Err(crate::StoreError::NotFound), rows::suggestion)?;
    Ok((stored, !existed))
}

/// Refuses an answer that breaks its record's assignment or its labeler's quota, by the rule in
/// `juror_core::distribution::AnswerLimits`, inside the answer's transaction: under a quota the
/// labeler's answers in the dataset take turns and each counts what committed before it, so
/// parallel answers (through any number of servers) cannot pass the quota together. A record
/// that does not exist is left to the write, which fails on it.
pub async fn check_answer_limits<T: Transaction + ?Sized>(transaction: &mut T, response: &Response) -> StoreResult<()> {
    let found = transaction.fetch(crud::limits_of_answer(response.record_id, response.user_id)).await?;
    let Some(row) = found.first() else { return Ok(()) };
    let dataset: DatasetId = rows::id(row, 0)?;
    let quota = row.int_opt(2)?.map(|max| u32::try_from(max).unwrap_or(u32::MAX));
    let settings = quality::settings_of(row.text_opt(3)?)?;
    let mut limits = AnswerLimits { assigned_to_others: row.flag(1)?, quota, ..AnswerLimits::default() };
    if quota.is_some() {
        transaction.take_turn(&format!("{}/{dataset}", response.user_id)).await?;
        let submitted = transaction.fetch(crud::submitted_elsewhere(dataset, response.record_id, response.user_id)).await?;
        limits.submitted_elsewhere = submitted.first().map(rows::count).transpose()?.unwrap_or(0);
    }
    if let Some(gold) = &settings.gold {
        limits.paused = quality::is_paused(transaction, dataset, response.user_id, gold).await?;
    }
    limits.check(response.status == ResponseStatus::Submitted).map_err(StoreError::Refused)
}
