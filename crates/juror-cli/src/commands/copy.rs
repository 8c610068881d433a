//! `juror migrate` and `juror copy`: bring a database's schema up to date, and move a whole
//! SQLite installation onto PostgreSQL.

use anyhow::{bail, Context};
use juror_store::backend::copy::{copy_table, count, TABLES};
use juror_store::Lifecycle;

use super::lock_data_dir;
use crate::cli::{CopyArgs, DataArgs};
use crate::database::{connect, database_path, open_postgres, open_sqlite, redact, Use};

pub(super) async fn migrate(data: DataArgs) -> anyhow::Result<()> {
    let store = connect(&data, Use::OnePass).await?;
    println!("{}: every migration is applied", store.describe());
    store.close().await;
    Ok(())
}

pub(super) async fn copy(args: CopyArgs) -> anyhow::Result<()> {
    let path = database_path(&args.from);
    if !path.is_file() {
        bail!("there is no Juror database at {}", path.display());
    }
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        bail!("--to must be a postgres:// URL (got `{}`)", redact(&args.to));
    }
    // Nothing writes to the source while it is copied.
    let _lock = lock_data_dir(&args.from)?;
    let from = open_sqlite(&args.from, Use::OnePass).await?;
    let to = open_postgres(&args.to, Use::OnePass).await?;
    if !args.force && !to.is_empty().await.context("failed to look into the target database")? {
        bail!("{} already holds Juror data: copy into an empty database, or pass --force", to.describe());
    }
    println!("copying {} into {}", from.describe(), to.describe());
    let mut mismatched = Vec::new();
    for table in TABLES {
        let expected = count(&from, table).await.with_context(|| format!("failed to count {}", table.name))?;
        let copied = copy_table(&from, &to, table).await.with_context(|| format!("failed to copy {}", table.name))?;
        let stored = count(&to, table).await.with_context(|| format!("failed to count {} in the target", table.name))?;
        println!("{:>20}: {copied} of {expected} rows", table.name);
        if copied != expected || (!args.force && stored != expected) {
            mismatched.push(format!("{} ({expected} in the source, {copied} copied, {stored} in the target)", table.name));
        }
    }
    from.close().await;
    to.close().await;
    if !mismatched.is_empty() {
        bail!("the copy is incomplete: {}", mismatched.join(", "));
    }
    println!("every table's count matches; start the servers with --database-url {}", redact(&args.to));
    Ok(())
}
