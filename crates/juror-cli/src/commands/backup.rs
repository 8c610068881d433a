//! `juror backup` and `juror restore`: a consistent copy of a running installation, and putting
//! one back.

use anyhow::{bail, Context};
use juror_store::Lifecycle;
use juror_store_sqlite::{check_database, DatabaseSummary, SqliteStore, SqliteStoreOptions};

use super::{database_path, lock_data_dir};
use crate::cli::{BackupArgs, RestoreArgs};

/// Backups and restores copy the SQLite file; a PostgreSQL database has its own tools.
fn sqlite_only(data: &crate::cli::DataArgs, command: &str) -> anyhow::Result<()> {
    if data.database_url.as_deref().is_some_and(|url| !url.trim().is_empty()) {
        bail!("`juror {command}` copies the SQLite file of --data-dir; back up and restore a PostgreSQL database with pg_dump and pg_restore (docs/OPERATIONS.md)");
    }
    Ok(())
}

pub(super) async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    sqlite_only(&args.data, "backup")?;
    let path = database_path(&args.data.data_dir);
    if !path.is_file() {
        bail!("there is no database at {}", path.display());
    }
    let store = SqliteStore::open(&SqliteStoreOptions::new(&path).for_one_pass()).await.with_context(|| format!("failed to open {}", path.display()))?;
    let result = store.backup_to(&args.to).await;
    store.close().await;
    result.with_context(|| format!("failed to back up to {}", args.to.display()))?;
    let summary = check_database(&args.to).await.with_context(|| format!("the backup at {} does not read back", args.to.display()))?;
    println!("backed up {} to {}: {}", path.display(), args.to.display(), describe(&summary));
    Ok(())
}

pub(super) async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    sqlite_only(&args.data, "restore")?;
    let _lock = lock_data_dir(&args.data.data_dir)?;
    let summary = check_database(&args.from).await.with_context(|| format!("{} cannot be restored", args.from.display()))?;
    let path = database_path(&args.data.data_dir);
    if path.exists() {
        if !args.force {
            bail!("{} exists: pass --force to replace it (it is kept beside, renamed)", path.display());
        }
        // Opening and closing folds the write-ahead log into the file, so the kept copy is whole.
        let current = SqliteStore::open(&SqliteStoreOptions::new(&path).for_one_pass()).await.with_context(|| format!("failed to open {}", path.display()))?;
        current.close().await;
        let kept = path.with_file_name(format!("juror.db.before-restore-{}", juror_core::time::Timestamp::now().micros()));
        std::fs::rename(&path, &kept).with_context(|| format!("failed to move {} aside", path.display()))?;
        println!("kept the replaced database as {}", kept.display());
    }
    let partial = path.with_file_name("juror.db.restoring");
    std::fs::copy(&args.from, &partial).with_context(|| format!("failed to copy {}", args.from.display()))?;
    std::fs::File::open(&partial).and_then(|file| file.sync_all()).with_context(|| format!("failed to sync {}", partial.display()))?;
    std::fs::rename(&partial, &path).with_context(|| format!("failed to put {} in place", path.display()))?;
    // Opening applies any migration the backup predates.
    let store = SqliteStore::open(&SqliteStoreOptions::new(&path).for_one_pass()).await.with_context(|| format!("failed to open the restored {}", path.display()))?;
    store.close().await;
    println!("restored {} from {}: {}", path.display(), args.from.display(), describe(&summary));
    Ok(())
}

fn describe(summary: &DatabaseSummary) -> String {
    format!("{} users, {} datasets, {} records, {} responses", summary.users, summary.datasets, summary.records, summary.responses)
}
