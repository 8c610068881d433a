//! The SQLite backend: one database file in WAL mode, one writer connection and a pool of readers.
//!
//! All writes go through a single connection, so they queue in process instead of fighting over
//! SQLite's lock; readers never wait for the writer in WAL mode. `synchronous=FULL` makes every
//! commit durable before it is acknowledged. The labeling loop's writes (hand-outs and answers)
//! are committed in groups by one task (`hot.rs`), one fsync per group.

mod audit;
mod backup;
mod datasets;
mod distribution;
mod hot;
mod records;
mod responses;
mod rows;
mod sessions;
mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use backup::{check_database, DatabaseSummary};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::{StoreError, StoreResult};

/// How to open a SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStoreOptions {
    /// The database file; created when missing.
    pub path: PathBuf,
    /// Reader connections (the writer is one more).
    pub readers: u32,
    /// Page cache per connection, in KiB. The server wants a large one; a one-shot scan (an
    /// export) reads each page once and needs little.
    pub cache_kib: u32,
}

impl SqliteStoreOptions {
    /// Options for the database file at `path`, with a reader per core (at least two).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get() as u32);
        Self { path: path.into(), readers: cores.max(2), cache_kib: 64 * 1024 }
    }

    /// The same, tuned for one pass over the data: one reader, a small page cache.
    pub fn for_one_pass(mut self) -> Self {
        self.readers = 1;
        self.cache_kib = 2 * 1024;
        self
    }
}

/// A `Store` on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Group-commits the labeling loop's writes on the writer pool.
    hot: hot::HotWriter,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqliteStore {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub async fn open(options: &SqliteStoreOptions) -> StoreResult<Self> {
        let connect = connect_options(&options.path, options.cache_kib)?;
        // Connections are local files, so the pool's liveness ping before every acquire is only
        // a wasted round trip to the connection's worker thread.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(connect.clone().create_if_missing(true))
            .await?;
        MIGRATOR.run(&writer).await.map_err(|error| StoreError::Other(format!("failed to migrate: {error}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.readers)
            .test_before_acquire(false)
            .connect_with(connect.read_only(true))
            .await?;
        let hot = hot::HotWriter::start(writer.clone());
        Ok(Self { writer, reader, hot })
    }

    /// Closes every connection, checkpointing the write-ahead log.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

fn connect_options(path: &Path, cache_kib: u32) -> StoreResult<SqliteConnectOptions> {
    let url = format!("sqlite://{}", path.display());
    let options = SqliteConnectOptions::from_str(&url)
        .map_err(|error| StoreError::Other(format!("invalid database path {}: {error}", path.display())))?;
    Ok(options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Records are a few KB of text; 16 KiB pages keep most of them out of overflow pages
        // (about 30% faster bulk inserts than 4 KiB). It only applies when the file is created.
        .page_size(16384)
        .busy_timeout(Duration::from_secs(10))
        .pragma("cache_size", format!("-{cache_kib}"))
        .pragma("temp_store", "memory")
        .statement_cache_capacity(256))
}

/// Question marks for an `IN (...)` list of `count` parameters.
pub(crate) fn placeholders(count: usize) -> String {
    let mut text = String::with_capacity(count * 2);
    for index in 0..count {
        if index > 0 {
            text.push(',');
        }
        text.push('?');
    }
    text
}
