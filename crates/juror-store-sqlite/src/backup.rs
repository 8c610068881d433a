//! Backups of a SQLite installation: a consistent copy taken while the server writes, and the
//! check a copy must pass before it replaces a database.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

use super::SqliteStore;
use juror_store::{StoreError, StoreResult};

/// What a database holds, for an operator to compare a copy with its original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseSummary {
    pub users: u64,
    pub datasets: u64,
    pub records: u64,
    pub responses: u64,
}

impl SqliteStore {
    /// Writes a consistent copy of the whole database to `target`, which must not exist yet.
    /// The copy is one read transaction (`VACUUM INTO`): writes committed after it began are not
    /// in it, and writers are never blocked. The copy is compact and synced before this returns.
    pub async fn backup_to(&self, target: &Path) -> StoreResult<()> {
        if target.exists() {
            return Err(StoreError::Other(format!("{} exists already; a backup never overwrites a file", target.display())));
        }
        let target_text = target.to_str().ok_or_else(|| StoreError::Other(format!("{} is not a UTF-8 path", target.display())))?;
        sqlx::query("VACUUM INTO ?").bind(target_text).execute(&self.reader).await?;
        std::fs::File::open(target).and_then(|file| file.sync_all()).map_err(|error| StoreError::Other(format!("failed to sync {}: {error}", target.display())))?;
        Ok(())
    }
}

/// Checks that `path` is a whole Juror database (SQLite's integrity check passes and Juror's
/// tables are there) without changing it, and says what it holds.
pub async fn check_database(path: &Path) -> StoreResult<DatabaseSummary> {
    let url = format!("sqlite://{}", path.display());
    let options = SqliteConnectOptions::from_str(&url).map_err(|error| StoreError::Other(format!("invalid database path {}: {error}", path.display())))?;
    let mut connection = options.read_only(true).connect().await.map_err(|error| StoreError::Other(format!("{} is not a SQLite database: {error}", path.display())))?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut connection).await.map_err(|error| StoreError::Other(format!("{} is not a SQLite database: {error}", path.display())))?;
    if verdict != "ok" {
        return Err(StoreError::Other(format!("{} is damaged: {verdict}", path.display())));
    }
    let summary = summarize(&mut connection).await.map_err(|_| StoreError::Other(format!("{} is a SQLite database, but not Juror's", path.display())))?;
    connection.close().await?;
    Ok(summary)
}

async fn summarize(connection: &mut sqlx::SqliteConnection) -> StoreResult<DatabaseSummary> {
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM datasets), (SELECT count(*) FROM records), (SELECT count(*) FROM responses)",
    )
    .fetch_one(connection)
    .await?;
    let count = |index: usize| -> StoreResult<u64> { Ok(u64::try_from(row.try_get::<i64, _>(index)?).unwrap_or(0)) };
    Ok(DatabaseSummary { users: count(0)?, datasets: count(1)?, records: count(2)?, responses: count(3)? })
}
