//! Users, workspaces and memberships on SQLite.

use async_trait::async_trait;
use juror_core::ids::{RecordId, UserId, WorkspaceId};
use juror_core::time::Timestamp;
use juror_core::user::{User, Workspace};

use super::rows::{self, USER_COLUMNS, WORKSPACE_COLUMNS};
use super::{tally, SqliteStore};
use juror_store::{StoreError, StoreResult};
use juror_store::{UserChanges, UserStore};

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: &User, api_key_digest: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, username, first_name, last_name, role, api_key, api_key_digest, password_hash, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(user.id.to_string())
        .bind(&user.username)
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(user.role.as_str())
        .bind(&user.api_key)
        .bind(api_key_digest)
        .bind(&user.password_hash)
        .bind(user.inserted_at.micros())
        .bind(user.updated_at.micros())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let query = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let query = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?");
        let row = sqlx::query(&query).bind(username).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn find_user_by_api_key_digest(&self, digest: &str) -> StoreResult<Option<User>> {
        let query = format!("SELECT {USER_COLUMNS} FROM users WHERE api_key_digest = ?");
        let row = sqlx::query(&query).bind(digest).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let query = format!("SELECT {USER_COLUMNS} FROM users ORDER BY inserted_at, id");
        sqlx::query(&query).fetch_all(&self.reader).await?.iter().map(rows::user).collect()
    }

    async fn update_user(&self, id: UserId, changes: &UserChanges) -> StoreResult<()> {
        let (api_key, api_key_digest) = changes.api_key.as_ref().map(|(key, digest)| (key.as_str(), digest.as_str())).unzip();
        let result = sqlx::query(
            "UPDATE users SET username = coalesce(?, username), first_name = coalesce(?, first_name),
                 last_name = CASE WHEN ? THEN ? ELSE last_name END, role = coalesce(?, role),
                 password_hash = coalesce(?, password_hash), api_key = coalesce(?, api_key),
                 api_key_digest = coalesce(?, api_key_digest), updated_at = ?
             WHERE id = ?",
        )
        .bind(&changes.username)
        .bind(&changes.first_name)
        .bind(changes.last_name.is_some())
        .bind(changes.last_name.clone().flatten())
        .bind(changes.role.map(|role| role.as_str()))
        .bind(&changes.password_hash)
        .bind(api_key)
        .bind(api_key_digest)
        .bind(changes.updated_at.micros())
        .bind(id.to_string())
        .execute(&self.writer)
        .await?;
        expect_one(result.rows_affected())
    }

    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        // The user's responses and leases go with them (ON DELETE CASCADE); the records they
        // had answered or held are settled again.
        let mut transaction = self.writer.begin().await?;
        let touched: Vec<String> = sqlx::query_scalar("SELECT record_id FROM responses WHERE user_id = ?1 UNION SELECT record_id FROM record_leases WHERE user_id = ?1")
            .bind(id.to_string())
            .fetch_all(&mut *transaction)
            .await?;
        let result = sqlx::query("DELETE FROM users WHERE id = ?").bind(id.to_string()).execute(&mut *transaction).await?;
        expect_one(result.rows_affected())?;
        let touched = touched.iter().map(|record| record.parse()).collect::<Result<Vec<RecordId>, _>>().map_err(|_| StoreError::Other("a stored record id is not a UUID".into()))?;
        tally::recount(&mut transaction, &touched, Timestamp::now(), true).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn count_users(&self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&self.reader).await?;
        Ok(count as u64)
    }

    async fn create_workspace(&self, workspace: &Workspace) -> StoreResult<()> {
        sqlx::query("INSERT INTO workspaces (id, name, inserted_at, updated_at) VALUES (?, ?, ?, ?)")
            .bind(workspace.id.to_string())
            .bind(&workspace.name)
            .bind(workspace.inserted_at.micros())
            .bind(workspace.updated_at.micros())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn get_workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        let query = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE id = ?");
        let row = sqlx::query(&query).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::workspace).transpose()
    }

    async fn find_workspace_by_name(&self, name: &str) -> StoreResult<Option<Workspace>> {
        let query = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE name = ?");
        let row = sqlx::query(&query).bind(name).fetch_optional(&self.reader).await?;
        row.as_ref().map(rows::workspace).transpose()
    }

    async fn list_workspaces(&self) -> StoreResult<Vec<Workspace>> {
        let query = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces ORDER BY inserted_at, id");
        sqlx::query(&query).fetch_all(&self.reader).await?.iter().map(rows::workspace).collect()
    }

    async fn delete_workspace(&self, id: WorkspaceId) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM workspaces WHERE id = ?").bind(id.to_string()).execute(&self.writer).await?;
        expect_one(result.rows_affected())
    }

    async fn add_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<()> {
        sqlx::query("INSERT INTO workspace_users (workspace_id, user_id, inserted_at) VALUES (?, ?, ?)")
            .bind(workspace.to_string())
            .bind(user.to_string())
            .bind(Timestamp::now().micros())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn remove_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM workspace_users WHERE workspace_id = ? AND user_id = ?")
            .bind(workspace.to_string())
            .bind(user.to_string())
            .execute(&self.writer)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn list_workspace_members(&self, workspace: WorkspaceId) -> StoreResult<Vec<User>> {
        let columns = prefixed("u", USER_COLUMNS);
        let query = format!(
            "SELECT {columns} FROM users u JOIN workspace_users m ON m.user_id = u.id
             WHERE m.workspace_id = ? ORDER BY u.inserted_at, u.id"
        );
        sqlx::query(&query).bind(workspace.to_string()).fetch_all(&self.reader).await?.iter().map(rows::user).collect()
    }

    async fn list_user_workspaces(&self, user: UserId) -> StoreResult<Vec<Workspace>> {
        let columns = prefixed("w", WORKSPACE_COLUMNS);
        let query = format!(
            "SELECT {columns} FROM workspaces w JOIN workspace_users m ON m.workspace_id = w.id
             WHERE m.user_id = ? ORDER BY w.inserted_at, w.id"
        );
        sqlx::query(&query).bind(user.to_string()).fetch_all(&self.reader).await?.iter().map(rows::workspace).collect()
    }

    async fn is_workspace_member(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM workspace_users WHERE workspace_id = ? AND user_id = ?")
            .bind(workspace.to_string())
            .bind(user.to_string())
            .fetch_optional(&self.reader)
            .await?;
        Ok(found.is_some())
    }
}

/// `a, b` with every column qualified by `alias`.
pub(crate) fn prefixed(alias: &str, columns: &str) -> String {
    columns.split(", ").map(|column| format!("{alias}.{column}")).collect::<Vec<_>>().join(", ")
}

/// Turns "no row changed" into `NotFound`.
pub(crate) fn expect_one(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
