//! Responses, suggestions and progress counts on SQLite.

use async_trait::async_trait;
use juror_core::ids::{DatasetId, RecordId, ResponseId, SuggestionId, UserId};
use juror_core::record::RecordStatus;
use juror_core::response::{NewSuggestion, Response, ResponseStatus, Suggestion};
use juror_core::time::Timestamp;
use sqlx::{Row, SqliteConnection};

use super::hot::HotWrite;
use super::rows::{self, RESPONSE_COLUMNS, SUGGESTION_COLUMNS};
use super::users::{expect_one, prefixed};
use super::{placeholders, tally, SqliteStore};
use juror_store::{StoreError, StoreResult};
use juror_store::{DatasetProgress, ResponseCounts, ResponseStore, UserProgressRow};

#[async_trait]
impl ResponseStore for SqliteStore {
    async fn create_response(&self, response: &Response) -> StoreResult<()> {
        self.hot.submit(HotWrite::CreateResponse(response.clone())).await.map(|_| ())
    }

    async fn get_response(&self, id: ResponseId) -> StoreResult<Option<Response>> {
        let query = format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::response).transpose()
    }

    async fn update_response(&self, response: &Response) -> StoreResult<()> {
        self.hot.submit(HotWrite::UpdateResponse(response.clone())).await.map(|_| ())
    }

    async fn delete_response(&self, id: ResponseId) -> StoreResult<()> {
        let mut transaction = self.writer.begin().await?;
        let record: Option<String> =
            sqlx::query_scalar("DELETE FROM responses WHERE id = ? RETURNING record_id").bind(id.to_string()).fetch_optional(&mut *transaction).await?;
        let Some(record) = record else { return Err(StoreError::NotFound) };
        let record: RecordId = record.parse().map_err(|_| StoreError::Other(format!("stored id `{record}` is not a UUID")))?;
        tally::recount(&mut transaction, &[record], Timestamp::now(), true).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn find_response(&self, record: RecordId, user: UserId) -> StoreResult<Option<Response>> {
        let query = format!("SELECT {RESPONSE_COLUMNS} FROM responses WHERE record_id = ? AND user_id = ?");
        let row = sqlx::query(&query).bind(record.to_string()).bind(user.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::response).transpose()
    }

    async fn list_suggestions(&self, record: RecordId) -> StoreResult<Vec<Suggestion>> {
        let query = format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE record_id = ? ORDER BY inserted_at, id");
        sqlx::query(&query).bind(record.to_string()).fetch_all(&self.reader).await?.iter().map(rows::suggestion).collect()
    }

    async fn upsert_suggestion(&self, record: RecordId, suggestion: &NewSuggestion) -> StoreResult<(Suggestion, bool)> {
        let mut transaction = self.writer.begin().await?;
        let existed: Option<i64> = sqlx::query_scalar("SELECT 1 FROM suggestions WHERE record_id = ? AND question_id = ?")
            .bind(record.to_string())
            .bind(suggestion.question_id.to_string())
            .fetch_optional(&mut *transaction)
            .await?;
        upsert_suggestion_row(&mut transaction, record, suggestion, Timestamp::now().micros()).await?;
        let query = format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE record_id = ? AND question_id = ?");
        let row = sqlx::query(&query)
            .bind(record.to_string())
            .bind(suggestion.question_id.to_string())
            .fetch_one(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok((rows::suggestion(&row)?, existed.is_none()))
    }

    async fn get_suggestion(&self, id: SuggestionId) -> StoreResult<Option<Suggestion>> {
        let query = format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::suggestion).transpose()
    }

    async fn delete_suggestion(&self, id: SuggestionId) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM suggestions WHERE id = ?").bind(id.to_string()).execute(&self.writer).await?;
        expect_one(result.rows_affected())
    }

    async fn delete_record_suggestions(&self, record: RecordId, ids: &[SuggestionId]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let query = format!("DELETE FROM suggestions WHERE record_id = ? AND id IN ({})", placeholders(ids.len()));
        let mut delete = sqlx::query(&query).bind(record.to_string());
        for id in ids {
            delete = delete.bind(id.to_string());
        }
        delete.execute(&self.writer).await?;
        Ok(())
    }

    async fn dataset_progress(&self, dataset: DatasetId) -> StoreResult<DatasetProgress> {
        let row = sqlx::query("SELECT count(*), coalesce(sum(status = 'completed'), 0) FROM records WHERE dataset_id = ?")
            .bind(dataset.to_string())
            .fetch_one(&self.reader)
            .await?;
        let (total, completed): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let users: Vec<String> = sqlx::query_scalar(
            "SELECT u.username FROM responses r JOIN records rec ON rec.id = r.record_id JOIN users u ON u.id = r.user_id
             WHERE rec.dataset_id = ? GROUP BY u.id ORDER BY min(r.inserted_at)",
        )
        .bind(dataset.to_string())
        .fetch_all(&self.reader)
        .await?;
        Ok(DatasetProgress { total: total as u64, completed: completed as u64, users })
    }

    async fn users_progress(&self, dataset: DatasetId) -> StoreResult<Vec<UserProgressRow>> {
        let rows = sqlx::query(
            "SELECT u.username, rec.status, r.status, count(*) FROM responses r JOIN records rec ON rec.id = r.record_id
             JOIN users u ON u.id = r.user_id WHERE rec.dataset_id = ?
             GROUP BY u.id, rec.status, r.status ORDER BY u.inserted_at, u.id",
        )
        .bind(dataset.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let count: i64 = row.try_get(3)?;
                Ok(UserProgressRow {
                    username: row.try_get(0)?,
                    record_status: RecordStatus::parse(row.try_get(1)?).map_err(|error| juror_store::StoreError::Other(error.to_string()))?,
                    response_status: ResponseStatus::parse(row.try_get(2)?).map_err(|error| juror_store::StoreError::Other(error.to_string()))?,
                    count: count as u64,
                })
            })
            .collect()
    }

    async fn user_response_counts(&self, dataset: DatasetId, user: UserId) -> StoreResult<ResponseCounts> {
        let rows = sqlx::query(
            "SELECT r.status, count(*) FROM responses r JOIN records rec ON rec.id = r.record_id
             WHERE rec.dataset_id = ? AND r.user_id = ? GROUP BY r.status",
        )
        .bind(dataset.to_string())
        .bind(user.to_string())
        .fetch_all(&self.reader)
        .await?;
        let mut counts = ResponseCounts::default();
        for row in &rows {
            let status: &str = row.try_get(0)?;
            let count: i64 = row.try_get(1)?;
            match status {
                "submitted" => counts.submitted = count as u64,
                "discarded" => counts.discarded = count as u64,
                _ => counts.draft = count as u64,
            }
        }
        Ok(counts)
    }

    async fn list_user_responses(&self, dataset: DatasetId, user: UserId, status: Option<ResponseStatus>, limit: u64) -> StoreResult<Vec<Response>> {
        let query = format!(
            "SELECT {} FROM responses r JOIN records rec ON rec.id = r.record_id
             WHERE rec.dataset_id = ? AND r.user_id = ? AND (? IS NULL OR r.status = ?)
             ORDER BY r.updated_at DESC, r.id DESC LIMIT ?",
            prefixed("r", RESPONSE_COLUMNS)
        );
        let status = status.map(ResponseStatus::as_str);
        sqlx::query(&query)
            .bind(dataset.to_string())
            .bind(user.to_string())
            .bind(status)
            .bind(status)
            .bind(limit.min(i64::MAX as u64) as i64)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::response)
            .collect()
    }
}

/// Creates or replaces the suggestion for (record, question).
pub(crate) async fn upsert_suggestion_row(
    connection: &mut SqliteConnection,
    record: RecordId,
    suggestion: &NewSuggestion,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO suggestions (id, record_id, question_id, type, value, agent, score, inserted_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (record_id, question_id) DO UPDATE SET type = excluded.type, value = excluded.value,
         agent = excluded.agent, score = excluded.score, updated_at = excluded.updated_at",
    )
    .bind(SuggestionId::new().to_string())
    .bind(record.to_string())
    .bind(suggestion.question_id.to_string())
    .bind(suggestion.kind.map(|kind| kind.as_str()))
    .bind(suggestion.value.to_string())
    .bind(&suggestion.agent)
    .bind(suggestion.score.as_ref().map(ToString::to_string))
    .bind(now)
    .bind(now)
    .execute(&mut *connection)
    .await?;
    Ok(())
}
