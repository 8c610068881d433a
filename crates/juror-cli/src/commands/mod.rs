//! Dispatch: each command in its own module, all sharing how the data directory is opened.

mod admin;
mod backup;
mod copy;
mod distribute;
mod export;
mod generate;
mod import;
mod pair_source;
mod quality;
mod score;
mod serve;
mod train;

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use juror_app::{App, Caller};
use juror_core::record::DatasetSchema;
use juror_core::user::Role;
use juror_store::Store;

use crate::cli::{Cli, Command, DataArgs};
use crate::database::{connect, Use};
pub(crate) use crate::database::database_path;

/// Runs a parsed command line to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("failed to start the async runtime")?;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Import(args) => import::run(args).await,
            Command::Dataset(command) => admin::dataset(command).await,
            Command::Split(args) => distribute::split(args).await,
            Command::Consolidate(args) => distribute::consolidate(args).await,
            Command::Quota(args) => distribute::quota(args).await,
            Command::Quality(command) => quality::run(command).await,
            Command::Generate(args) => generate::run(*args).await,
            Command::Export(args) => export::export(args).await,
            Command::Metrics(args) => export::metrics(args).await,
            Command::Train(args) => train::train(*args).await,
            Command::Score(args) => score::score(*args).await,
            Command::Backup(args) => backup::backup(args).await,
            Command::Migrate(data) => copy::migrate(data).await,
            Command::Copy(args) => copy::copy(args).await,
            Command::Restore(args) => backup::restore(args).await,
            Command::User(command) => admin::user(command).await,
            Command::Workspace(command) => admin::workspace(command).await,
        }
    });
    // Every command has committed (or failed) by now; background tasks such as the database
    // pools' must not hold the process open, so shutdown waits a bounded time.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

/// Holds the data directory's lock file for as long as the returned file is open (the process's
/// life at most): `juror serve` holds it, so two servers never share one database and a restore
/// never replaces a database under a running server. Other commands run beside the server.
pub(crate) fn lock_data_dir(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("failed to create data directory {}", data_dir.display()))?;
    let path = data_dir.join("juror.lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).with_context(|| format!("failed to open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!("a `juror serve` is running on {}: stop it first", data_dir.display()),
        Err(std::fs::TryLockError::Error(error)) => Err(error).with_context(|| format!("failed to lock {}", path.display())),
    }
}

/// Opens (creating if needed) the database the arguments name.
pub(crate) async fn open_app(data: &DataArgs) -> anyhow::Result<(App, Arc<dyn Store>)> {
    let store = connect(data, Use::Serving).await?;
    Ok((App::new(store.clone()), store))
}

/// Opens the database for one pass over a dataset (an export): few connections, a small cache.
pub(crate) async fn open_app_for_one_pass(data: &DataArgs) -> anyhow::Result<(App, Arc<dyn Store>)> {
    let store = connect(data, Use::OnePass).await?;
    Ok((App::new(store.clone()), store))
}

/// The owner the command line acts as: the oldest owner account.
pub(crate) async fn cli_caller(app: &App) -> anyhow::Result<Caller> {
    let users = app.store().list_users().await.context("failed to list users")?;
    let owner = users.into_iter().find(|user| user.role == Role::Owner).context(
        "there is no owner yet: start `juror serve` once, or add one with `juror user add --role owner`",
    )?;
    Ok(Caller { user: owner })
}

/// The dataset with this name (in `workspace`, when given), with its settings.
pub(crate) async fn find_dataset(app: &App, caller: &Caller, name: &str, workspace: Option<&str>) -> anyhow::Result<DatasetSchema> {
    let workspace_id = match workspace {
        Some(workspace) => Some(app.find_workspace_by_name(caller, workspace).await?.with_context(|| format!("no workspace named `{workspace}`"))?.id),
        None => None,
    };
    let matches: Vec<_> = app
        .my_datasets(caller)
        .await?
        .into_iter()
        .filter(|dataset| dataset.name == name && workspace_id.is_none_or(|id| dataset.workspace_id == id))
        .collect();
    match matches.as_slice() {
        [dataset] => Ok(app.get_schema(caller, dataset.id).await?),
        [] => bail!("no dataset named `{name}`"),
        _ => bail!("several datasets are named `{name}`: pass --workspace"),
    }
}
