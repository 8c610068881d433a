//! Swapped repeats and adjudications for every backend: a labeler's open repeat, starting one on a
//! record they submitted long enough ago, their second answer, the submitted repeats with the
//! first answers they are compared to; and reviewers' final verdicts.

use juror_core::ids::{DatasetId, RecordId, UserId};
use juror_core::quality::{repeat_is_due, REPEAT_GAP};
use juror_core::response::ResponseStatus;
use juror_core::time::Timestamp;

use super::columns::Columns;
use super::rows;
use super::sql::Statement;
use super::transaction::Transaction;
use crate::error::{StoreError, StoreResult};
use crate::{Adjudication, Repeat};

/// The columns [`repeat`] reads, for a query whose repeats are aliased `ra`.
pub const REPEAT_COLUMNS: &str = "ra.record_id, ra.user_id, ra.dataset_id, ra.status, ra.\"values\", ra.shown_order, ra.time_on_task_ms, ra.started_at, ra.answered_at";

/// Reads a row of [`REPEAT_COLUMNS`].
pub fn repeat(row: &impl Columns) -> StoreResult<Repeat> {
    let status = match row.text(3)? {
        "pending" => None,
        other => Some(ResponseStatus::parse(other).map_err(|error| StoreError::Other(format!("stored repeat status: {error}")))?),
    };
    Ok(Repeat {
        record: rows::id(row, 0)?,
        user: rows::id(row, 1)?,
        dataset: rows::id(row, 2)?,
        status,
        values: rows::json_object(row.text_opt(4)?)?,
        presentation: rows::presentation(row.text_opt(5)?, row.int_opt(6)?)?,
        started_at: Timestamp::from_micros(row.int(7)?),
        answered_at: row.int_opt(8)?.map(Timestamp::from_micros),
    })
}

pub fn find(record: RecordId, user: UserId) -> Statement {
    Statement::new(format!("SELECT {REPEAT_COLUMNS} FROM repeat_answers ra WHERE ra.record_id = ? AND ra.user_id = ?")).bind(record.to_string()).bind(user.to_string())
}

/// The record of the labeler's open repeat in the dataset, if any.
pub fn open_one(dataset: DatasetId, user: UserId) -> Statement {
    Statement::new("SELECT record_id FROM repeat_answers WHERE dataset_id = ? AND user_id = ? AND status IN ('pending', 'draft') ORDER BY started_at LIMIT 1")
        .bind(dataset.to_string())
        .bind(user.to_string())
}

/// The labeler's open repeat, or when one is due at `rate` (and they hold no live lease in the
/// dataset) a new one, inside the caller's transaction.
pub async fn repeat_for<T: Transaction + ?Sized>(transaction: &mut T, dataset: DatasetId, user: UserId, rate: f64, now: Timestamp) -> StoreResult<Option<RecordId>> {
    if let Some(row) = transaction.fetch(open_one(dataset, user)).await?.first() {
        return Ok(Some(rows::first_id(row)?));
    }
    // The draw moves on with every answer and every repeat, so a repeat is not followed by
    // another at once.
    let counted = Statement::new(
        "SELECT (SELECT count(*) FROM responses x JOIN records r ON r.id = x.record_id WHERE r.dataset_id = ? AND x.user_id = ?) \
              + (SELECT count(*) FROM repeat_answers WHERE dataset_id = ? AND user_id = ?)",
    )
    .bind(dataset.to_string())
    .bind(user.to_string())
    .bind(dataset.to_string())
    .bind(user.to_string());
    let answered = transaction.fetch(counted).await?.first().map(rows::count).transpose()?.unwrap_or(0);
    if !repeat_is_due(user, answered, rate) {
        return Ok(None);
    }
    let leased = Statement::new("SELECT 1 FROM record_leases WHERE dataset_id = ? AND user_id = ? AND expires_at > ?").bind(dataset.to_string()).bind(user.to_string()).bind(now.micros());
    if !transaction.fetch(leased).await?.is_empty() {
        return Ok(None);
    }
    // Their submitted answers, oldest first; the first with enough later answers, not gold and
    // not repeated before.
    let candidate = Statement::new(
        "SELECT x.record_id FROM responses x JOIN records r ON r.id = x.record_id \
         WHERE r.dataset_id = ? AND x.user_id = ? AND x.status = 'submitted' \
           AND NOT EXISTS (SELECT 1 FROM gold_records g WHERE g.record_id = x.record_id) \
           AND NOT EXISTS (SELECT 1 FROM repeat_answers ra WHERE ra.record_id = x.record_id AND ra.user_id = x.user_id) \
           AND (SELECT count(*) FROM responses y JOIN records ry ON ry.id = y.record_id \
                WHERE ry.dataset_id = r.dataset_id AND y.user_id = x.user_id AND y.updated_at > x.updated_at) >= ? \
         ORDER BY x.updated_at, x.id LIMIT 1",
    )
    .bind(dataset.to_string())
    .bind(user.to_string())
    .bind(REPEAT_GAP as i64);
    let Some(record) = transaction.fetch(candidate).await?.first().map(rows::first_id::<RecordId>).transpose()? else { return Ok(None) };
    let insert = Statement::new("INSERT INTO repeat_answers (record_id, user_id, dataset_id, status, started_at) VALUES (?, ?, ?, 'pending', ?)")
        .bind(record.to_string())
        .bind(user.to_string())
        .bind(dataset.to_string())
        .bind(now.micros());
    transaction.execute(insert).await?;
    Ok(Some(record))
}

/// Stores the answer to an open repeat; the rows changed (0 when it is not open).
pub fn answer(repeat: &Repeat) -> Statement {
    let (shown_order, time_on_task_ms) = rows::encode_presentation(repeat.presentation.as_ref());
    let status = repeat.status.map_or("pending", ResponseStatus::as_str);
    Statement::new(
        "UPDATE repeat_answers SET status = ?, \"values\" = ?, shown_order = ?, time_on_task_ms = ?, answered_at = ? \
         WHERE record_id = ? AND user_id = ? AND status IN ('pending', 'draft')",
    )
    .bind(status)
    .bind(rows::encode_object(repeat.values.as_ref()))
    .bind(shown_order)
    .bind(time_on_task_ms)
    .bind(repeat.answered_at.map(Timestamp::micros))
    .bind(repeat.record.to_string())
    .bind(repeat.user.to_string())
}

/// The dataset's submitted repeats with the labeler's first answer's values (column 9).
pub fn submitted(dataset: DatasetId) -> Statement {
    Statement::new(format!(
        "SELECT {REPEAT_COLUMNS}, x.\"values\" FROM repeat_answers ra \
         LEFT JOIN responses x ON x.record_id = ra.record_id AND x.user_id = ra.user_id \
         WHERE ra.dataset_id = ? AND ra.status = 'submitted' ORDER BY ra.answered_at, ra.record_id"
    ))
    .bind(dataset.to_string())
}

/// The columns [`adjudication`] reads.
pub const ADJUDICATION_COLUMNS: &str = "record_id, dataset_id, question, verdict, note, reviewer_id, reviewer_name, decided_at";

/// Reads a row of [`ADJUDICATION_COLUMNS`].
pub fn adjudication(row: &impl Columns) -> StoreResult<Adjudication> {
    Ok(Adjudication {
        record: rows::id(row, 0)?,
        dataset: rows::id(row, 1)?,
        question: row.text(2)?.to_owned(),
        verdict: serde_json::from_str(row.text(3)?)?,
        note: row.text_opt(4)?.map(str::to_owned),
        reviewer: rows::id(row, 5)?,
        reviewer_name: row.text(6)?.to_owned(),
        decided_at: Timestamp::from_micros(row.int(7)?),
    })
}

pub fn adjudicate(adjudication: &Adjudication) -> Statement {
    Statement::new(format!(
        "INSERT INTO adjudications ({ADJUDICATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (record_id) DO UPDATE SET question = excluded.question, verdict = excluded.verdict, note = excluded.note, \
         reviewer_id = excluded.reviewer_id, reviewer_name = excluded.reviewer_name, decided_at = excluded.decided_at"
    ))
    .bind(adjudication.record.to_string())
    .bind(adjudication.dataset.to_string())
    .bind(adjudication.question.as_str())
    .bind(adjudication.verdict.to_string())
    .bind(adjudication.note.clone())
    .bind(adjudication.reviewer.to_string())
    .bind(adjudication.reviewer_name.as_str())
    .bind(adjudication.decided_at.micros())
}
