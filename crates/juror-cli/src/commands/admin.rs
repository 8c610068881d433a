//! Administration without the SDK: datasets from settings files, users and workspaces.

use anyhow::Context;
use juror_app::{NewDataset, NewField, NewMetadataProperty, NewQuestion, NewUser, NewVectorSettings, UserPatch};
use juror_core::dataset::{Dataset, Distribution};
use juror_core::ids::WorkspaceId;
use juror_core::user::Role;
use serde_json::Value;

use super::{cli_caller, open_app};
use crate::cli::{DatasetCommand, UserCommand, WorkspaceCommand};

pub(super) async fn dataset(command: DatasetCommand) -> anyhow::Result<()> {
    match command {
        DatasetCommand::Create { data, name, workspace, settings } => {
            let text = std::fs::read_to_string(&settings).with_context(|| format!("failed to read {}", settings.display()))?;
            let settings: Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", settings.display()))?;
            let (app, store) = open_app(&data).await?;
            let caller = cli_caller(&app).await?;
            let workspace = app.find_workspace_by_name(&caller, &workspace).await?.with_context(|| format!("no workspace named `{workspace}`"))?;
            let dataset = create_dataset(&app, &caller, name, workspace.id, &settings).await?;
            println!("created and published dataset `{}` ({})", dataset.name, dataset.id);
            store.close().await;
            Ok(())
        }
        DatasetCommand::List { data } => {
            let (app, store) = open_app(&data).await?;
            let caller = cli_caller(&app).await?;
            for dataset in app.my_datasets(&caller).await? {
                let metrics = app.my_dataset_metrics(&caller, dataset.id).await?;
                println!("{}\t{}\t{}\t{} records", dataset.id, dataset.name, dataset.status.as_str(), metrics.records);
            }
            store.close().await;
            Ok(())
        }
    }
}

/// Creates and publishes a dataset from Argilla-style settings (`fields`, `questions`,
/// `guidelines`, `metadata_properties`, `vectors_settings`, `distribution`); nothing is left
/// behind when a setting is refused.
pub(crate) async fn create_dataset(app: &juror_app::App, caller: &juror_app::Caller, name: String, workspace: WorkspaceId, settings: &Value) -> anyhow::Result<Dataset> {
    let min_submitted = settings.pointer("/distribution/min_submitted").and_then(Value::as_i64).unwrap_or(1);
    let dataset = app
        .create_dataset(
            caller,
            NewDataset {
                id: None,
                name,
                workspace_id: workspace,
                guidelines: settings.get("guidelines").and_then(Value::as_str).map(str::to_owned),
                allow_extra_metadata: settings.get("allow_extra_metadata").and_then(Value::as_bool).unwrap_or(true),
                distribution: Distribution::overlap(min_submitted)?,
                metadata: None,
            },
        )
        .await?;
    if let Err(error) = add_settings(app, caller, dataset.id, settings).await {
        app.delete_dataset(caller, dataset.id).await?;
        return Err(error);
    }
    Ok(app.get_dataset(caller, dataset.id).await?)
}

fn entries<'a>(settings: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    settings.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn text(entry: &Value, key: &str) -> Option<String> {
    entry.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn name_and_title(entry: &Value, what: &str) -> anyhow::Result<(String, String)> {
    let name = text(entry, "name").with_context(|| format!("every {what} needs a `name`"))?;
    let title = text(entry, "title").unwrap_or_else(|| name.clone());
    Ok((name, title))
}

async fn add_settings(app: &juror_app::App, caller: &juror_app::Caller, dataset: juror_core::ids::DatasetId, settings: &Value) -> anyhow::Result<()> {
    for field in entries(settings, "fields") {
        let (name, title) = name_and_title(field, "field")?;
        let new = NewField { name, title, required: field.get("required").and_then(Value::as_bool).unwrap_or(true), settings: field.get("settings").cloned().unwrap_or_else(|| serde_json::json!({"type": "text"})) };
        app.create_field(caller, dataset, new).await?;
    }
    for question in entries(settings, "questions") {
        let (name, title) = name_and_title(question, "question")?;
        let new = NewQuestion {
            name,
            title,
            description: text(question, "description"),
            required: question.get("required").and_then(Value::as_bool).unwrap_or(true),
            settings: question.get("settings").cloned().unwrap_or(Value::Null),
        };
        app.create_question(caller, dataset, new).await?;
    }
    for property in entries(settings, "metadata_properties") {
        let (name, title) = name_and_title(property, "metadata property")?;
        let new = NewMetadataProperty {
            name,
            title,
            settings: property.get("settings").cloned().unwrap_or(Value::Null),
            visible_for_annotators: property.get("visible_for_annotators").and_then(Value::as_bool).unwrap_or(true),
        };
        app.create_metadata_property(caller, dataset, new).await?;
    }
    for vector in entries(settings, "vectors_settings") {
        let (name, title) = name_and_title(vector, "vector setting")?;
        let dimensions = vector.get("dimensions").and_then(Value::as_i64).context("every vector setting needs `dimensions`")?;
        app.create_vector_settings(caller, dataset, NewVectorSettings { name, title, dimensions }).await?;
    }
    app.publish_dataset(caller, dataset).await?;
    Ok(())
}

pub(super) async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { data, username, password, role, workspaces } => {
            let (app, store) = open_app(&data).await?;
            let role = Role::parse(&role)?;
            let mut workspace_ids = Vec::with_capacity(workspaces.len());
            for name in &workspaces {
                let workspace = app.store().find_workspace_by_name(name).await?.with_context(|| format!("no workspace named `{name}`"))?;
                workspace_ids.push(workspace.id);
            }
            let user = app
                .insert_user(NewUser { id: None, first_name: username.clone(), username, last_name: None, role, password, api_key: None, workspaces: workspace_ids })
                .await?;
            println!("created {} `{}`; API key: {}", user.role.as_str(), user.username, user.api_key);
            store.close().await;
            Ok(())
        }
        UserCommand::List { data } => {
            let (app, store) = open_app(&data).await?;
            for user in app.store().list_users().await? {
                println!("{}\t{}\t{}", user.id, user.username, user.role.as_str());
            }
            store.close().await;
            Ok(())
        }
        UserCommand::RotateKey { data, username } => {
            let (app, store) = open_app(&data).await?;
            let caller = cli_caller(&app).await?;
            let user = app.store().find_user_by_username(&username).await?.with_context(|| format!("no user named `{username}`"))?;
            let user = app.rotate_api_key(&caller, user.id).await?;
            println!("new API key of `{}`: {}", user.username, user.api_key);
            store.close().await;
            Ok(())
        }
        UserCommand::SetPassword { data, username } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).context("failed to read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let (app, store) = open_app(&data).await?;
            let caller = cli_caller(&app).await?;
            let user = app.store().find_user_by_username(&username).await?.with_context(|| format!("no user named `{username}`"))?;
            app.update_user(&caller, user.id, UserPatch { password: Some(password), ..UserPatch::default() }).await?;
            println!("set the password of `{username}`");
            store.close().await;
            Ok(())
        }
    }
}

pub(super) async fn workspace(command: WorkspaceCommand) -> anyhow::Result<()> {
    match command {
        WorkspaceCommand::Add { data, name } => {
            let (app, store) = open_app(&data).await?;
            let workspace = app.insert_workspace(None, name).await?;
            println!("created workspace `{}` ({})", workspace.name, workspace.id);
            store.close().await;
            Ok(())
        }
        WorkspaceCommand::List { data } => {
            let (app, store) = open_app(&data).await?;
            for workspace in app.store().list_workspaces().await? {
                println!("{}\t{}", workspace.id, workspace.name);
            }
            store.close().await;
            Ok(())
        }
    }
}
