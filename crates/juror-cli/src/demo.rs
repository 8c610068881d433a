//! `juror serve --demo`: a small comparison dataset so a newcomer has something to rank.

use anyhow::Context;
use juror_app::{App, NewDataset, NewField, NewQuestion, RecordsQuery};
use juror_core::dataset::Distribution;
use juror_core::record::RecordWrite;
use serde_json::{json, Value};

use crate::commands::cli_caller;

/// The demo dataset's name.
pub const DEMO_DATASET: &str = "demo-comparisons";
const DEMO_RECORDS: &str = include_str!("../assets/demo.jsonl");

/// Creates the demo dataset in `workspace` unless it is already there.
pub async fn load(app: &App, workspace: &str) -> anyhow::Result<()> {
    let caller = cli_caller(app).await?;
    let workspace = app.find_workspace_by_name(&caller, workspace).await?.with_context(|| format!("no workspace named `{workspace}`"))?;
    let existing = app.my_datasets(&caller).await?.into_iter().find(|dataset| dataset.name == DEMO_DATASET && dataset.workspace_id == workspace.id);
    if let Some(dataset) = existing {
        let page = app.list_records(&caller, dataset.id, RecordsQuery { limit: 1, ..RecordsQuery::default() }).await?;
        if page.total > 0 {
            return Ok(());
        }
        app.delete_dataset(&caller, dataset.id).await?;
    }
    let dataset = app
        .create_dataset(
            &caller,
            NewDataset {
                id: None,
                name: DEMO_DATASET.into(),
                workspace_id: workspace.id,
                guidelines: Some("Read the prompt, then rank the two responses by how helpful, correct and harmless they are. Use a tie only when you truly cannot choose.".into()),
                allow_extra_metadata: true,
                distribution: Distribution::default(),
                metadata: None,
            },
        )
        .await?;
    for (name, title) in [("prompt", "Prompt"), ("response-1", "Response 1"), ("response-2", "Response 2")] {
        let field = NewField { name: name.into(), title: title.into(), required: true, settings: json!({"type": "text", "use_markdown": true}) };
        app.create_field(&caller, dataset.id, field).await?;
    }
    let ranking = json!({"type": "ranking", "options": [{"value": "response-1", "text": "Response 1"}, {"value": "response-2", "text": "Response 2"}]});
    app.create_question(&caller, dataset.id, NewQuestion { name: "preference".into(), title: "Rank the responses".into(), description: None, required: true, settings: ranking })
        .await?;
    app.create_question(&caller, dataset.id, NewQuestion { name: "notes".into(), title: "Notes (optional)".into(), description: None, required: false, settings: json!({"type": "text"}) })
        .await?;
    app.publish_dataset(&caller, dataset.id).await?;
    let writes = DEMO_RECORDS
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut row: serde_json::Map<String, Value> = serde_json::from_str(line).context("demo records are valid JSON")?;
            let external_id = row.remove("external_id").and_then(|value| value.as_str().map(str::to_owned));
            Ok(RecordWrite { external_id, fields: Some(row), ..RecordWrite::default() })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    app.create_records(&caller, dataset.id, writes).await?;
    Ok(())
}
