//! Which store a command opens: `connect` gives every command the same `Arc<dyn Store>`, so the
//! commands never name a backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use juror_store::Store;
use juror_store_sqlite::{SqliteStore, SqliteStoreOptions};

/// How the command will use the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// A server or a command with many small reads and writes: a reader per core, a large cache.
    Serving,
    /// One pass over a dataset (an export): one reader, a small cache.
    OnePass,
}

/// The database file of a data directory.
pub(crate) fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("juror.db")
}

/// Opens (creating if needed) the database of `data_dir` and applies pending migrations.
pub(crate) async fn connect(data_dir: &Path, usage: Use) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("failed to create data directory {}", data_dir.display()))?;
    let path = database_path(data_dir);
    let options = match usage {
        Use::Serving => SqliteStoreOptions::new(&path),
        Use::OnePass => SqliteStoreOptions::new(&path).for_one_pass(),
    };
    let store = SqliteStore::open(&options).await.with_context(|| format!("failed to open sqlite database at {}", path.display()))?;
    Ok(Arc::new(store))
}
