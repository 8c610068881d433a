//! Juror on PostgreSQL, for teams that run several `juror serve` replicas behind a load
//! balancer on one database.
//!
//! Every `Store` method is the shared code of `juror_store::backend` (one `SqlBackend`); what
//! is this backend's own is how statements run (a pool of connections, `$n` placeholders), the
//! row locks that keep record claims exact when writers are concurrent (`lock_records`, the
//! hand-out's `SKIP LOCKED`, see `labeling.rs`), retries when PostgreSQL aborts a transaction for
//! contention, and the migrations in `migrations/`, applied at open under PostgreSQL's advisory
//! lock so replicas starting together apply them once.

mod labeling;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use juror_core::ids::RecordId;
use juror_core::record::{Record, RecordRelations};
use juror_core::response::Response;
use juror_store::backend::{OpenTransaction, Param, Run, SqlBackend, Statement, Transaction};
use juror_store::{Lease, LeaseRequest, Lifecycle, StoreError, StoreResult, StoreStats};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Postgres};

/// How to open a PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStoreOptions {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Connections this process keeps at most.
    pub max_connections: u32,
}

impl PostgresStoreOptions {
    /// Options for the database at `url`, with four connections per core (at least 8).
    pub fn new(url: impl Into<String>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get() as u32);
        Self { url: url.into(), max_connections: (cores * 4).max(8) }
    }

    /// The same, for one pass over the data (an export) or an admin command: two connections.
    pub fn for_one_pass(mut self) -> Self {
        self.max_connections = 2;
        self
    }
}

/// A `Store` on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The server and database, without credentials.
    described: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl PostgresStore {
    /// Connects and applies pending migrations.
    pub async fn open(options: &PostgresStoreOptions) -> StoreResult<Self> {
        let connect = PgConnectOptions::from_str(&options.url).map_err(|error| StoreError::Other(format!("invalid PostgreSQL URL: {error}")))?;
        let described = format!("PostgreSQL at {}:{}/{}", connect.get_host(), connect.get_port(), connect.get_database().unwrap_or("(default)"));
        let pool = PgPoolOptions::new().max_connections(options.max_connections).acquire_timeout(Duration::from_secs(10)).connect_with(connect).await?;
        MIGRATOR.run(&pool).await.map_err(|error| StoreError::Other(format!("failed to migrate: {error}")))?;
        Ok(Self { pool, described })
    }

    /// Whether the database holds no Juror data yet (no user, no workspace).
    pub async fn is_empty(&self) -> StoreResult<bool> {
        let rows = self.read(Statement::new("SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM workspaces)")).await?;
        Ok(rows.first().map(juror_store::backend::rows::count).transpose()?.unwrap_or(0) == 0)
    }
}

/// Creates an empty database `name` (lower-case letters, digits and `_`) on the server whose
/// maintenance database `server_url` names, for tests, benchmarks and new installations; the
/// new database's URL.
pub async fn create_database(server_url: &str, name: &str) -> StoreResult<String> {
    use sqlx::Connection;
    if name.is_empty() || !name.chars().all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_') {
        return Err(StoreError::Other(format!("`{name}` is not a database name of lower-case letters, digits and `_`")));
    }
    let (server, _) = server_url.rsplit_once('/').ok_or_else(|| StoreError::Other("the PostgreSQL URL names no database".into()))?;
    let mut connection = PgConnection::connect(server_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await?;
    connection.close().await?;
    Ok(format!("{server}/{name}"))
}

/// Binds a shared statement, its `?`s numbered as PostgreSQL wants.
fn bound<'q>(sql: &'q str, params: &'q [Param]) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    params.iter().fold(sqlx::query(sql), |query, param| match param {
        Param::Text(value) => query.bind(value.as_deref()),
        Param::Int(value) => query.bind(*value),
        Param::Flag(value) => query.bind(*value),
        Param::Bytes(value) => query.bind(value.as_slice()),
    })
}

async fn execute(connection: &mut PgConnection, statement: &Statement) -> StoreResult<u64> {
    let sql = statement.numbered_sql();
    Ok(bound(&sql, &statement.params).execute(connection).await?.rows_affected())
}

async fn fetch(connection: &mut PgConnection, statement: &Statement) -> StoreResult<Vec<PgRow>> {
    let sql = statement.numbered_sql();
    Ok(bound(&sql, &statement.params).fetch_all(connection).await?)
}

/// A transaction on one pooled connection.
pub(crate) struct PgTransaction(sqlx::Transaction<'static, Postgres>);

#[async_trait]
impl Transaction for PgTransaction {
    type Row = PgRow;

    async fn execute(&mut self, statement: Statement) -> StoreResult<u64> {
        execute(&mut self.0, &statement).await
    }

    async fn fetch(&mut self, statement: Statement) -> StoreResult<Vec<PgRow>> {
        fetch(&mut self.0, &statement).await
    }

    /// `FOR NO KEY UPDATE` in id order: concurrent recounts of a record take turns, and it does
    /// not block the key-share locks that inserting a response or lease takes on its record.
    async fn lock_records(&mut self, records: &[RecordId]) -> StoreResult<()> {
        for chunk in records.chunks(500) {
            let list = juror_store::backend::sql::placeholders(chunk.len());
            let lock = Statement::new(format!("SELECT id FROM records WHERE id IN ({list}) ORDER BY id FOR NO KEY UPDATE"));
            let lock = chunk.iter().fold(lock, |statement, id| statement.bind(id.to_string()));
            fetch(&mut self.0, &lock).await?;
        }
        Ok(())
    }

    /// A transaction-scoped advisory lock on the key's hash.
    async fn take_turn(&mut self, key: &str) -> StoreResult<()> {
        fetch(&mut self.0, &Statement::new("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))").bind(key)).await.map(drop)
    }
}

#[async_trait]
impl OpenTransaction for PgTransaction {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        Ok(self.0.commit().await?)
    }
}

#[async_trait]
impl Run for PostgresStore {
    type Row = PgRow;

    async fn write(&self, statement: Statement) -> StoreResult<u64> {
        execute(&mut *self.pool.acquire().await?, &statement).await
    }

    async fn write_returning(&self, statement: Statement) -> StoreResult<Vec<PgRow>> {
        fetch(&mut *self.pool.acquire().await?, &statement).await
    }

    async fn read(&self, statement: Statement) -> StoreResult<Vec<PgRow>> {
        fetch(&mut *self.pool.acquire().await?, &statement).await
    }
}

#[async_trait]
impl SqlBackend for PostgresStore {
    async fn begin(&self) -> StoreResult<Box<dyn OpenTransaction<Row = PgRow> + '_>> {
        Ok(Box::new(PgTransaction(self.pool.begin().await?)))
    }

    async fn answer(&self, response: &Response, create: bool) -> StoreResult<()> {
        labeling::answer(self, response, create).await
    }

    async fn lease(&self, request: &LeaseRequest) -> StoreResult<Option<(Lease, Record, RecordRelations)>> {
        labeling::lease(self, request).await
    }
}

#[async_trait]
impl Lifecycle for PostgresStore {
    fn describe(&self) -> String {
        self.described.clone()
    }

    /// Each answer and hand-out commits on its own: no groups.
    fn stats(&self) -> StoreStats {
        StoreStats { connections: self.pool.size(), idle_connections: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX), ..StoreStats::default() }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
