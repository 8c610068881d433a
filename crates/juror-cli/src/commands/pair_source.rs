//! Preference pairs as text for `juror train`: a dataset's resolved pairs (as `juror export`
//! writes them), or the rows of a TRL-format file (JSON lines or Parquet).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::Context;
use juror_app::PreferenceRequest;
use juror_prefs::pairs::{Binarization, TiePolicy};
use juror_train::pairs::{parse_value, read_jsonl, TextPair};
use serde_json::Value;

use super::export::strategy_of;
use super::{cli_caller, find_dataset, open_app_for_one_pass};
use crate::cli::PairSourceArgs;
use crate::files::{rows, Format};

/// Pairs to train on, and where they came from.
pub(super) struct PairSource {
    pub pairs: Vec<TextPair>,
    /// `dataset NAME` or the file's path.
    pub description: String,
    pub dataset_id: Option<String>,
    /// The records each prompt's pairs came from (datasets only).
    pub records_by_prompt: HashMap<String, Vec<String>>,
}

/// Reads the pairs the arguments name; ties are kept only when asked, and every pair weighs the
/// same unless `weighted`.
pub(super) async fn read(args: &PairSourceArgs, keep_ties: bool, weighted: bool) -> anyhow::Result<PairSource> {
    let mut source = match (&args.target.dataset, &args.pairs) {
        (Some(dataset), _) => dataset_pairs(args, dataset, keep_ties).await?,
        (None, Some(path)) => PairSource { pairs: file_pairs(path)?, description: path.display().to_string(), dataset_id: None, records_by_prompt: HashMap::new() },
        (None, None) => anyhow::bail!("give --dataset or --pairs"),
    };
    if !keep_ties {
        source.pairs.retain(|pair| pair.target != 0.5);
    }
    if !weighted {
        source.pairs.iter_mut().for_each(|pair| pair.weight = 1.0);
    }
    anyhow::ensure!(!source.pairs.is_empty(), "{} has no preference pairs to train on{}", source.description, if keep_ties { "" } else { " (ties left out: --keep-ties keeps them)" });
    Ok(source)
}

async fn dataset_pairs(args: &PairSourceArgs, name: &str, keep_ties: bool) -> anyhow::Result<PairSource> {
    let target = &args.target;
    let (app, store) = open_app_for_one_pass(&target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, name, target.workspace.as_deref()).await?;
    let request = PreferenceRequest {
        question: target.question.clone(),
        prompt_field: target.prompt_field.clone(),
        strategy: strategy_of(args.strategy),
        binarization: Binarization::AllPairs,
        ties: if keep_ties { TiePolicy::Keep } else { TiePolicy::Drop },
    };
    let mut export = app.export_pairs(&caller, schema.dataset.id, &request).await?;
    let (mut pairs, mut records_by_prompt) = (Vec::new(), HashMap::<String, Vec<String>>::new());
    while let Some(rows) = export.next_page(&app).await? {
        for row in rows {
            let records = records_by_prompt.entry(row.prompt.to_string()).or_default();
            if records.last().is_none_or(|last| **last != *row.item) {
                records.push(row.item.to_string());
            }
            let tie = (row.p_chosen - 0.5).abs() < 1e-9;
            pairs.push(TextPair {
                prompt: row.prompt.to_string(),
                chosen: row.chosen.to_string(),
                rejected: row.rejected.to_string(),
                target: if tie { 0.5 } else { 1.0 },
                weight: row.p_chosen.max(1.0 - row.p_chosen) as f32,
            });
        }
    }
    store.close().await;
    Ok(PairSource { pairs, description: format!("dataset `{name}`"), dataset_id: Some(schema.dataset.id.to_string()), records_by_prompt })
}

/// The pairs of a TRL-format file: JSON lines, or Parquet when the name ends in `.parquet`.
pub(super) fn file_pairs(path: &Path) -> anyhow::Result<Vec<TextPair>> {
    let parquet = path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("parquet") || extension.eq_ignore_ascii_case("pq"));
    let pairs = if parquet {
        let mut pairs = Vec::new();
        for row in rows(path, Format::Parquet, |_| {})? {
            let row = row?;
            pairs.push(parse_value(&Value::Object(row.values), &format!("row {}", row.line)).with_context(|| path.display().to_string())?);
        }
        anyhow::ensure!(!pairs.is_empty(), "{}: no pairs to train on", path.display());
        pairs
    } else {
        let file = File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
        read_jsonl(BufReader::new(file)).with_context(|| path.display().to_string())?
    };
    Ok(pairs)
}
