//! Browser sessions of the web UI on SQLite.

use async_trait::async_trait;
use juror_core::time::Timestamp;
use juror_core::ids::UserId;
use juror_core::user::User;
use sqlx::Row;

use super::rows::{self, USER_COLUMNS};
use super::users::prefixed;
use super::SqliteStore;
use juror_store::StoreResult;
use juror_store::{SessionStore, WebSession};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: &WebSession) -> StoreResult<()> {
        sqlx::query("INSERT INTO web_sessions (token_digest, user_id, csrf_token, inserted_at, expires_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&session.token_digest)
            .bind(session.user_id.to_string())
            .bind(&session.csrf_token)
            .bind(session.inserted_at.micros())
            .bind(session.expires_at.micros())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn find_session(&self, token_digest: &str, now: Timestamp) -> StoreResult<Option<(WebSession, User)>> {
        let query = format!(
            "SELECT s.csrf_token, s.inserted_at, s.expires_at, {} FROM web_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_digest = ? AND s.expires_at > ?",
            prefixed("u", USER_COLUMNS)
        );
        let Some(row) = sqlx::query(&query).bind(token_digest).bind(now.micros()).fetch_optional(&self.reader).await? else {
            return Ok(None);
        };
        let user = rows::user_at(&row, 3)?;
        let session = WebSession {
            token_digest: token_digest.to_owned(),
            user_id: user.id,
            csrf_token: row.try_get(0)?,
            inserted_at: Timestamp::from_micros(row.try_get(1)?),
            expires_at: Timestamp::from_micros(row.try_get(2)?),
        };
        Ok(Some((session, user)))
    }

    async fn delete_session(&self, token_digest: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_digest = ?").bind(token_digest).execute(&self.writer).await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId, keep: Option<&str>, now: Timestamp) -> StoreResult<()> {
        sqlx::query("DELETE FROM web_sessions WHERE (user_id = ? AND token_digest IS NOT ?) OR expires_at <= ?")
            .bind(user.to_string())
            .bind(keep)
            .bind(now.micros())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<()> {
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= ?").bind(now.micros()).execute(&self.writer).await?;
        Ok(())
    }
}
