//! Juror's default store: one SQLite file in WAL mode, one writer connection and a pool of
//! readers.
//!
//! All writes go through a single connection, so they queue in process instead of fighting over
//! SQLite's lock; readers never wait for the writer in WAL mode. `synchronous=FULL` makes every
//! commit durable before it is acknowledged. The labeling loop's writes (hand-outs and answers)
//! are committed in groups by one task (`hot.rs`), one fsync per group.

mod backup;
mod hand_out;
mod hot;


use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use backup::{check_database, DatabaseSummary};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use futures_util::StreamExt;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Either, Sqlite, SqliteConnection, SqlitePool};

use hot::{HotResult, HotWrite};
use juror_core::ids::RecordId;
use juror_core::record::{Record, RecordRelations};
use juror_core::response::Response;
use juror_core::webhook::NewDelivery;
use juror_store::backend::{OpenTransaction, Param, Run, SqlBackend, Statement, Transaction};
use juror_store::{Lease, LeaseRequest, StoreStats};
use juror_store::{Lifecycle, StoreError, StoreResult};

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
    path: PathBuf,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl SqliteStore {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub async fn open(options: &SqliteStoreOptions) -> StoreResult<Self> {
        let connect = connect_options(&options.path, options.cache_kib)?;
        migrate(connect.clone().create_if_missing(true)).await?;
        // Connections are local files, so the pool's liveness ping before every acquire is only
        // a wasted round trip to the connection's worker thread.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.readers)
            .test_before_acquire(false)
            .connect_with(connect.read_only(true))
            .await?;
        let hot = hot::HotWriter::start(writer.clone());
        Ok(Self { writer, reader, hot, path: options.path.clone() })
    }

}

#[async_trait::async_trait]
impl Lifecycle for SqliteStore {
    fn describe(&self) -> String {
        format!("SQLite at {}", self.path.display())
    }

    fn stats(&self) -> StoreStats {
        let (group_commits, group_commit_writes) = self.hot.counts();
        StoreStats {
            connections: self.reader.size() + self.writer.size(),
            idle_connections: u32::try_from(self.reader.num_idle() + self.writer.num_idle()).unwrap_or(u32::MAX),
            group_commits,
            group_commit_writes,
        }
    }

    /// Closes every connection, checkpointing the write-ahead log.
    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Applies pending migrations on a connection of their own with foreign keys off, as SQLite
/// asks for schema changes that rebuild a table, then checks that every reference still holds.
async fn migrate(options: SqliteConnectOptions) -> StoreResult<()> {
    use sqlx::Connection;
    let mut connection = SqliteConnection::connect_with(&options.foreign_keys(false)).await?;
    MIGRATOR.run(&mut connection).await.map_err(|error| StoreError::Other(format!("failed to migrate: {error}")))?;
    let broken: Vec<SqliteRow> = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut connection).await?;
    if !broken.is_empty() {
        return Err(StoreError::Other(format!("the database has {} rows whose references are broken", broken.len())));
    }
    connection.close().await?;
    Ok(())
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

/// Binds a shared statement's parameters in order, moving them in: the connection's thread
/// needs owned values, and a borrowed text would be copied on the way (a record's fields, for
/// every record of an import).
pub(crate) fn bound(sql: &str, params: Vec<Param>) -> sqlx::query::Query<'_, Sqlite, SqliteArguments<'_>> {
    params.into_iter().fold(sqlx::query(sql), |query, param| match param {
        Param::Text(value) => query.bind(value),
        Param::Int(value) => query.bind(value),
        Param::Flag(value) => query.bind(value),
        Param::Bytes(value) => query.bind(value),
    })
}

/// A transaction (or the group commit's) on the writer connection, as the shared writes see it.
pub(crate) struct Tx<'c>(pub(crate) &'c mut SqliteConnection);

#[async_trait::async_trait]
impl Transaction for Tx<'_> {
    type Row = SqliteRow;

    async fn execute(&mut self, statement: Statement) -> StoreResult<u64> {
        let Statement { sql, params } = statement;
        Ok(bound(&sql, params).execute(&mut *self.0).await?.rows_affected())
    }

    async fn fetch(&mut self, statement: Statement) -> StoreResult<Vec<SqliteRow>> {
        let Statement { sql, params } = statement;
        Ok(bound(&sql, params).fetch_all(&mut *self.0).await?)
    }

    /// Nothing to lock: every write runs on the one writer connection, one at a time.
    async fn lock_records(&mut self, _records: &[RecordId]) -> StoreResult<()> {
        Ok(())
    }

    /// Writes take turns already, on the one writer connection.
    async fn take_turn(&mut self, _key: &str) -> StoreResult<()> {
        Ok(())
    }
}

/// A transaction on the writer pool, for the shared writes.
struct WriterTx(sqlx::Transaction<'static, Sqlite>);

#[async_trait::async_trait]
impl Transaction for WriterTx {
    type Row = SqliteRow;

    async fn execute(&mut self, statement: Statement) -> StoreResult<u64> {
        Tx(&mut self.0).execute(statement).await
    }

    async fn fetch(&mut self, statement: Statement) -> StoreResult<Vec<SqliteRow>> {
        Tx(&mut self.0).fetch(statement).await
    }

    async fn lock_records(&mut self, _records: &[RecordId]) -> StoreResult<()> {
        Ok(())
    }

    async fn take_turn(&mut self, _key: &str) -> StoreResult<()> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl OpenTransaction for WriterTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        Ok(self.0.commit().await?)
    }
}

#[async_trait::async_trait]
impl SqlBackend for SqliteStore {
    /// `+dataset_id` keeps SQLite on the `seq` range (the rowid: each page starts where the last
    /// ended) instead of the dataset index, which would sort the dataset for every page.
    const SCAN_DATASET_COLUMN: &'static str = "+dataset_id";

    /// The write lock is taken first (a write statement that changes nothing), as `BEGIN
    /// IMMEDIATE` would: a transaction that reads before it writes then waits for another
    /// process's writer (`busy_timeout`, e.g. `juror import` beside a server) instead of failing
    /// when that writer commits in between (`SQLITE_BUSY_SNAPSHOT`). sqlx's own `BEGIN` is kept,
    /// since it recovers when SQLite has already ended a transaction on its own (a full disk).
    async fn begin(&self) -> StoreResult<Box<dyn OpenTransaction<Row = SqliteRow> + '_>> {
        let mut transaction = self.writer.begin().await?;
        sqlx::query("UPDATE datasets SET id = id WHERE 0").execute(&mut *transaction).await?;
        Ok(Box::new(WriterTx(transaction)))
    }

    /// Through the group commit (`hot.rs`).
    async fn answer(&self, response: &Response, create: bool) -> StoreResult<()> {
        let write = if create { HotWrite::CreateResponse(response.clone()) } else { HotWrite::UpdateResponse(response.clone()) };
        self.hot.submit(write).await.map(drop)
    }

    /// Through the group commit (`hot.rs`), beside the answers that raised them.
    async fn enqueue(&self, deliveries: &[NewDelivery]) -> StoreResult<u64> {
        match self.hot.submit(HotWrite::Enqueue(deliveries.to_vec())).await? {
            HotResult::Written(written) => Ok(written),
            _ => Err(StoreError::Other("an enqueue answered without a count".into())),
        }
    }

    /// Through the group commit (`hot.rs`, `hand_out.rs`).
    async fn lease(&self, request: &LeaseRequest) -> StoreResult<Option<(Lease, Record, RecordRelations)>> {
        match self.hot.submit(HotWrite::Lease(*request)).await? {
            HotResult::Lease(lease) => Ok(lease.map(|lease| *lease)),
            HotResult::Done | HotResult::Written(_) => Err(StoreError::Other("a lease request answered without a lease".into())),
        }
    }
}

#[async_trait::async_trait]
impl Run for SqliteStore {
    type Row = SqliteRow;

    async fn write(&self, statement: Statement) -> StoreResult<u64> {
        let Statement { sql, params } = statement;
        Ok(bound(&sql, params).execute(&self.writer).await?.rows_affected())
    }

    async fn write_returning(&self, statement: Statement) -> StoreResult<Vec<SqliteRow>> {
        let Statement { sql, params } = statement;
        Ok(bound(&sql, params).fetch_all(&self.writer).await?)
    }

    async fn read(&self, statement: Statement) -> StoreResult<Vec<SqliteRow>> {
        let Statement { sql, params } = statement;
        Ok(bound(&sql, params).fetch_all(&self.reader).await?)
    }
}

/// What one statement of a multi-statement query did.
#[derive(Default)]
pub(crate) struct Outcome {
    /// Rows inserted, updated or deleted.
    pub(crate) changed: u64,
    /// Rows it returned (a `SELECT`, or `RETURNING`).
    pub(crate) rows: Vec<SqliteRow>,
}

/// Runs several statements (sharing numbered parameters, `?1`...) in one round trip to the
/// connection's thread and returns what each did, in order. The labeling loop's steps are each
/// one such query: on a single writer every round trip is time the writer is held.
///
/// Several statements in one prepared query is SQLite-only in sqlx (and their issue 3108 asks
/// whether to keep it); the store's tests run every such query, so an upgrade that drops it
/// fails them rather than the server.
pub(crate) async fn run_statements<'q>(connection: &mut SqliteConnection, query: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>) -> StoreResult<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    let mut current = Outcome::default();
    let mut stream = sqlx::Executor::fetch_many(connection, query);
    while let Some(step) = stream.next().await {
        match step? {
            Either::Right(row) => current.rows.push(row),
            Either::Left(done) => {
                current.changed = done.rows_affected();
                outcomes.push(std::mem::take(&mut current));
            }
        }
    }
    Ok(outcomes)
}
