//! `juror quality`: a dataset's quality settings, its gold records from a file, and labelers'
//! standing by their gold answers.

use std::io::BufRead;

use anyhow::Context;
use juror_core::ids::RecordId;
use serde_json::Value;

use super::{cli_caller, find_dataset, open_app};
use crate::cli::{QualityCommand, QualitySetArgs};

pub(super) async fn run(command: QualityCommand) -> anyhow::Result<()> {
    let target = match &command {
        QualityCommand::Show(target) => target,
        QualityCommand::Set(QualitySetArgs { target, .. }) => target,
        QualityCommand::Gold(args) => &args.target,
        QualityCommand::Resume(args) => &args.target,
    };
    let (app, store) = open_app(&target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, &target.dataset, target.workspace.as_deref()).await?;
    let dataset = schema.dataset.id;
    match &command {
        QualityCommand::Show(_) => {
            println!("{}", app.dataset_quality(&caller, dataset).await?.to_json());
            println!("gold records: {}", app.list_gold(&caller, dataset).await?.len());
            for labeler in app.labeler_quality(&caller, dataset).await? {
                let standing = if labeler.paused { "paused" } else if labeler.flagged { "flagged" } else { "ok" };
                let interval = labeler.interval.map_or_else(|| "-".to_owned(), |(low, high)| format!("{low:.2}-{high:.2}"));
                println!("{}\t{} of {} gold answers right\t95% {interval}\t{standing}", labeler.username, labeler.standing.all.correct, labeler.standing.all.answered);
            }
        }
        QualityCommand::Set(args) => {
            let settings: Value = serde_json::from_str(&args.settings).context("the settings are not JSON")?;
            let stored = app.set_dataset_quality(&caller, dataset, &settings).await?;
            println!("{}", stored.to_json());
        }
        QualityCommand::Gold(args) => {
            let file = std::fs::File::open(&args.file).with_context(|| format!("failed to open {}", args.file.display()))?;
            let mut items = Vec::new();
            for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
                let line = line.with_context(|| format!("failed to read {}", args.file.display()))?;
                if line.trim().is_empty() {
                    continue;
                }
                let number = index + 1;
                let item: Value = serde_json::from_str(&line).with_context(|| format!("line {number} is not JSON"))?;
                let external_id = item.get("external_id").and_then(crate::files::id_text);
                let record = match item.get("record_id").and_then(Value::as_str) {
                    Some(id) => Some(id.parse::<RecordId>().map_err(|_| anyhow::anyhow!("line {number}: `record_id` is not a record id"))?),
                    None => None,
                };
                anyhow::ensure!(external_id.is_some() || record.is_some(), "line {number}: needs an `external_id` or a `record_id`");
                let verdict = item.get("verdict").cloned().with_context(|| format!("line {number}: needs a `verdict`"))?;
                items.push((external_id, record, verdict));
            }
            let count = app.set_gold(&caller, dataset, items).await?;
            println!("{count} gold records in `{}`", schema.dataset.name);
        }
        QualityCommand::Resume(args) => {
            let user = app.find_user_by_username(&caller, &args.user).await?.with_context(|| format!("no user named `{}`", args.user))?;
            app.resume_labeler(&caller, dataset, user.id).await?;
            println!("`{}` may go on in `{}`", user.username, schema.dataset.name);
        }
    }
    store.close().await;
    Ok(())
}
