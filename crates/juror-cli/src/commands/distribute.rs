//! `juror split`, `juror consolidate` and `juror quota`: sharing a dataset's records among labelers.

use anyhow::Context;

use super::{cli_caller, find_dataset, open_app};
use juror_app::{App, Caller};
use juror_core::user::User;

use crate::cli::{ConsolidateArgs, QuotaArgs, SplitArgs};

pub(super) async fn split(args: SplitArgs) -> anyhow::Result<()> {
    let (app, store) = open_app(&args.target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, &args.target.dataset, args.target.workspace.as_deref()).await?;
    let labelers = users_named(&app, &caller, &args.among).await?;
    if args.into_workspaces {
        let copies = app.split_into_workspaces(&caller, schema.dataset.id, &labelers, args.overlap).await?;
        for (user, copy) in labelers.iter().zip(&copies) {
            println!("{}\t{} records\tworkspace `{}`, dataset {}", user.username, copy.records, user.username, copy.dataset);
        }
    } else {
        let ids = labelers.iter().map(|user| user.id).collect();
        let counts = app.split_records(&caller, schema.dataset.id, ids, args.overlap).await?;
        for (user, (_, records)) in labelers.iter().zip(&counts) {
            println!("{}\t{records} records", user.username);
        }
    }
    println!("split `{}` among {} labelers, {} per record", schema.dataset.name, labelers.len(), args.overlap);
    store.close().await;
    Ok(())
}

pub(super) async fn consolidate(args: ConsolidateArgs) -> anyhow::Result<()> {
    let (app, store) = open_app(&args.target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, &args.target.dataset, args.target.workspace.as_deref()).await?;
    let labelers = users_named(&app, &caller, &args.among).await?;
    let brought = app.consolidate_from_workspaces(&caller, schema.dataset.id, &labelers).await?;
    for (user, (_, responses)) in labelers.iter().zip(&brought) {
        println!("{}\t{responses} responses", user.username);
    }
    println!("consolidated into `{}`", schema.dataset.name);
    store.close().await;
    Ok(())
}

async fn users_named(app: &App, caller: &Caller, usernames: &[String]) -> anyhow::Result<Vec<User>> {
    let mut users = Vec::with_capacity(usernames.len());
    for username in usernames {
        users.push(app.find_user_by_username(caller, username).await?.with_context(|| format!("no user named `{username}`"))?);
    }
    Ok(users)
}

pub(super) async fn quota(args: QuotaArgs) -> anyhow::Result<()> {
    let (app, store) = open_app(&args.target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, &args.target.dataset, args.target.workspace.as_deref()).await?;
    let user = app.find_user_by_username(&caller, &args.user).await?.with_context(|| format!("no user named `{}`", args.user))?;
    let max = match args.max.as_str() {
        "none" => None,
        number => Some(number.parse::<u32>().with_context(|| format!("--max takes a number or `none`, got `{number}`"))?),
    };
    app.set_quota(&caller, schema.dataset.id, user.id, max).await?;
    match max {
        Some(max) => println!("`{}` may take at most {max} records of `{}`", user.username, schema.dataset.name),
        None => println!("`{}` has no limit in `{}`", user.username, schema.dataset.name),
    }
    store.close().await;
    Ok(())
}
