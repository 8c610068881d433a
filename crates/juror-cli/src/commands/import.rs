//! `juror import`: records from a JSONL or CSV file into a published dataset, in batches.
//!
//! Each batch is one transaction. A bad row stops the import with its line number; the batches
//! before it are kept, and rows with an `external_id` are upserted, so running the same import
//! again after fixing the file creates no duplicates. A `gold` column (a verdict, as
//! `juror quality gold` takes it, or its JSON text in a CSV cell) makes its record gold.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use juror_app::{App, Caller};
use juror_core::metadata::MetadataSettings;
use juror_core::record::{DatasetSchema, RecordWrite};
use serde_json::{Map, Value};

use super::{cli_caller, find_dataset, open_app};
use crate::cli::ImportArgs;
use crate::files::{id_text, rows, Format, Row};

pub(super) async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let format = Format::from_path(&args.file)?;
    let (app, store) = open_app(&args.target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, &args.target.dataset, args.target.workspace.as_deref()).await?;
    let size = std::fs::metadata(&args.file).with_context(|| format!("failed to read {}", args.file.display()))?.len();
    let progress = ProgressBar::new(size);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let bar = progress.clone();
    let mut imported = 0u64;
    let mut batch: Vec<(u64, RecordWrite, Option<Value>)> = Vec::with_capacity(args.batch_size);
    let mut ignored: Vec<String> = Vec::new();
    for row in rows(&args.file, format, move |bytes| bar.set_position(bytes))? {
        let row = row?;
        let line = row.line;
        let (write, gold) = to_write(&schema, row, &mut ignored)?;
        batch.push((line, write, gold));
        if batch.len() >= args.batch_size {
            imported += flush(&app, &caller, &schema, &mut batch).await?;
            progress.set_message(format!("{imported} records"));
        }
    }
    imported += flush(&app, &caller, &schema, &mut batch).await?;
    progress.finish_with_message(format!("{imported} records"));
    if !ignored.is_empty() {
        eprintln!("ignored columns that are neither fields nor metadata properties: {}", ignored.join(", "));
    }
    println!("imported {imported} records into `{}`", schema.dataset.name);
    store.close().await;
    Ok(())
}

/// Maps a row's columns to fields, metadata, the external id and a gold verdict.
fn to_write(schema: &DatasetSchema, row: Row, ignored: &mut Vec<String>) -> anyhow::Result<(RecordWrite, Option<Value>)> {
    let mut fields = Map::new();
    let mut metadata = Map::new();
    let mut external_id = None;
    let mut gold = None;
    for (column, value) in row.values {
        if schema.fields.iter().any(|field| field.name == column) {
            fields.insert(column, value);
        } else if column == "gold" && !schema.metadata_properties.iter().any(|property| property.name == "gold") {
            gold = match value {
                Value::Null => None,
                Value::String(text) if text.trim().is_empty() => None,
                Value::String(text) => Some(serde_json::from_str(&text).with_context(|| format!("line {}: `gold` is not a JSON verdict", row.line))?),
                verdict => Some(verdict),
            };
        } else if column == "external_id" || column == "id" {
            external_id = id_text(&value);
        } else if let Some(property) = schema.metadata_properties.iter().find(|property| property.name == column) {
            metadata.insert(column, typed_metadata(&property.settings, value));
        } else if column == "metadata" {
            if let Value::Object(object) = value {
                metadata.extend(object);
            }
        } else if schema.dataset.allow_extra_metadata {
            metadata.insert(column, value);
        } else if !ignored.contains(&column) {
            ignored.push(column);
        }
    }
    let metadata = (!metadata.is_empty()).then_some(metadata);
    let write = RecordWrite { external_id, fields: Some(fields), metadata, ..RecordWrite::default() };
    schema.check_record(write.clone(), true, &|_| true).map_err(|error| anyhow::anyhow!("line {}: {}", row.line, error.message()))?;
    Ok((write, gold))
}

/// CSV cells are text; numeric properties get numbers.
fn typed_metadata(settings: &MetadataSettings, value: Value) -> Value {
    let Value::String(text) = &value else { return value };
    match settings {
        MetadataSettings::Integer { .. } => text.trim().parse::<i64>().map_or(value, Value::from),
        MetadataSettings::Float { .. } => text.trim().parse::<f64>().map_or(value, Value::from),
        MetadataSettings::Terms { .. } => value,
    }
}

/// Stores a batch, then marks its gold records with their verdicts.
async fn flush(app: &App, caller: &Caller, schema: &DatasetSchema, batch: &mut Vec<(u64, RecordWrite, Option<Value>)>) -> anyhow::Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    let first_line = batch[0].0;
    let (writes, verdicts): (Vec<RecordWrite>, Vec<(u64, Option<Value>)>) = batch.drain(..).map(|(line, write, gold)| (write, (line, gold))).unzip();
    let count = writes.len() as u64;
    let stored = app.upsert_records(caller, schema.dataset.id, writes).await.with_context(|| format!("failed to store the batch starting at line {first_line}"))?;
    let gold: Vec<_> = stored.iter().zip(verdicts).filter_map(|(record, (line, verdict))| verdict.map(|verdict| (line, record.id, verdict))).collect();
    if !gold.is_empty() {
        let lines: Vec<u64> = gold.iter().map(|(line, _, _)| *line).collect();
        let items = gold.into_iter().map(|(_, record, verdict)| (None, Some(record), verdict)).collect();
        app.set_gold(caller, schema.dataset.id, items).await.map_err(|error| anyhow::anyhow!("gold verdicts of the batch starting at line {first_line} (lines {lines:?}): {error}"))?;
    }
    Ok(count)
}
