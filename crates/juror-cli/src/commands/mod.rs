//! Dispatch: each command in its own module, all sharing how the data directory is opened.

mod admin;
mod import;
mod serve;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use juror_app::{App, Caller};
use juror_core::user::Role;
use juror_store::{SqliteStore, SqliteStoreOptions};

use crate::cli::{Cli, Command};

/// Runs a parsed command line to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("failed to start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Import(args) => import::run(args).await,
            Command::Dataset(command) => admin::dataset(command).await,
            Command::User(command) => admin::user(command).await,
            Command::Workspace(command) => admin::workspace(command).await,
        }
    })
}

/// Opens (creating if needed) the database in `data_dir`.
pub(crate) async fn open_app(data_dir: &Path) -> anyhow::Result<(App, SqliteStore)> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("failed to create data directory {}", data_dir.display()))?;
    let path = data_dir.join("juror.db");
    let store = SqliteStore::open(&SqliteStoreOptions::new(&path))
        .await
        .with_context(|| format!("failed to open sqlite database at {}", path.display()))?;
    Ok((App::new(Arc::new(store.clone())), store))
}

/// The owner the command line acts as: the oldest owner account.
pub(crate) async fn cli_caller(app: &App) -> anyhow::Result<Caller> {
    let users = app.store().list_users().await.context("failed to list users")?;
    let owner = users.into_iter().find(|user| user.role == Role::Owner).context(
        "there is no owner yet: start `juror serve` once, or add one with `juror user add --role owner`",
    )?;
    Ok(Caller { user: owner })
}
