//! Which store a command opens: `connect` gives every command the same `Arc<dyn Store>`, so the
//! commands never name a backend. The data directory's SQLite file by default; PostgreSQL when
//! `--database-url` (or `JUROR_DATABASE_URL`) names one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use juror_store::Store;
use juror_store_postgres::{PostgresStore, PostgresStoreOptions};
use juror_store_sqlite::{SqliteStore, SqliteStoreOptions};

use crate::cli::DataArgs;

/// How the command will use the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// A server or a command with many small reads and writes: a reader per core, a large cache.
    Serving,
    /// One pass over a dataset (an export): one reader, a small cache.
    OnePass,
}

/// Where a command's data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Database<'a> {
    /// The SQLite file of a data directory.
    Sqlite(&'a Path),
    /// A PostgreSQL database, by URL.
    Postgres(&'a str),
}

impl DataArgs {
    /// The database these arguments name.
    pub(crate) fn database(&self) -> anyhow::Result<Database<'_>> {
        match self.database_url.as_deref().filter(|url| !url.trim().is_empty()) {
            None => Ok(Database::Sqlite(&self.data_dir)),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(Database::Postgres(url)),
            Some(url) => bail!("--database-url must be a postgres:// URL (got `{}`); without it Juror uses the SQLite file in --data-dir", redact(url)),
        }
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// The database file of a data directory.
pub(crate) fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("juror.db")
}

/// Opens (creating if needed) the database and applies pending migrations.
pub(crate) async fn connect(data: &DataArgs, usage: Use) -> anyhow::Result<Arc<dyn Store>> {
    match data.database()? {
        Database::Sqlite(data_dir) => Ok(Arc::new(open_sqlite(data_dir, usage).await?)),
        Database::Postgres(url) => Ok(Arc::new(open_postgres(url, usage).await?)),
    }
}

pub(crate) async fn open_sqlite(data_dir: &Path, usage: Use) -> anyhow::Result<SqliteStore> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("failed to create data directory {}", data_dir.display()))?;
    let path = database_path(data_dir);
    let options = match usage {
        Use::Serving => SqliteStoreOptions::new(&path),
        Use::OnePass => SqliteStoreOptions::new(&path).for_one_pass(),
    };
    SqliteStore::open(&options).await.with_context(|| format!("failed to open sqlite database at {}", path.display()))
}

pub(crate) async fn open_postgres(url: &str, usage: Use) -> anyhow::Result<PostgresStore> {
    let options = match usage {
        Use::Serving => PostgresStoreOptions::new(url),
        Use::OnePass => PostgresStoreOptions::new(url).for_one_pass(),
    };
    PostgresStore::open(&options).await.with_context(|| format!("failed to open the PostgreSQL database at {}", redact(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://juror:s3cret@db:5432/juror"), "postgres://juror:***@db:5432/juror");
        assert_eq!(redact("postgres://db/juror"), "postgres://db/juror");
    }

    #[test]
    fn only_postgres_urls_are_taken() {
        let data = |url: Option<&str>| DataArgs { data_dir: "d".into(), database_url: url.map(str::to_owned) };
        assert_eq!(data(None).database().unwrap(), Database::Sqlite(Path::new("d")));
        assert_eq!(data(Some("")).database().unwrap(), Database::Sqlite(Path::new("d")));
        assert_eq!(data(Some("postgresql://h/j")).database().unwrap(), Database::Postgres("postgresql://h/j"));
        let refused = data(Some("mysql://u:pw@h/j")).database().unwrap_err().to_string();
        assert!(refused.contains("u:***@h") && !refused.contains("pw"), "{refused}");
    }
}
