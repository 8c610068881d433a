//! `juror export` and `juror metrics`: a dataset's responses as training files, and how far to
//! trust them. Exports are written a page of records at a time as the app reads them.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::Context;
use juror_app::{PreferenceKind, PreferenceReport, PreferenceRequest};
use juror_export::{Columns, ExportError, Format, JudgmentWriter, PairRow, PairWriter, ParquetPairWriter};
use juror_prefs::pairs::{Binarization, TiePolicy};
use juror_prefs::resolve::{ReliabilityOptions, Strategy};

use super::{cli_caller, find_dataset, open_app_for_one_pass};
use crate::cli::{ExportArgs, ExportFileFormat, MetricsArgs, PreferenceArgs, StrategyArg};

pub(super) async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let format: Format = args.format.parse().map_err(|error| match args.format.as_str() {
        "parquet" => anyhow::anyhow!("{error} (Parquet is a file format: add `--file-format parquet` to `--format trl`)"),
        _ => anyhow::Error::new(error),
    })?;
    let target = &args.preferences.target;
    let (app, store) = open_app_for_one_pass(&target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, &target.dataset, target.workspace.as_deref()).await?;
    let output = args.output.display().to_string();
    let file_format = args.file_format.unwrap_or(if args.output.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("parquet")) {
        ExportFileFormat::Parquet
    } else {
        ExportFileFormat::Jsonl
    });
    if file_format == ExportFileFormat::Parquet && format == Format::Judgments {
        anyhow::bail!("`--format judgments` cannot be written as Parquet: write it as JSON lines (`--file-format jsonl`, or an --output not ending in .parquet)");
    }
    let out: Box<dyn Write + Send> = if output == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(File::create(&args.output).with_context(|| format!("failed to create {output}"))?)
    };
    let out = BufWriter::with_capacity(1 << 16, out);
    let failed = || format!("failed to write {output}");
    let written = match format {
        Format::Judgments => {
            let mut writer = JudgmentWriter::new(out);
            let mut export = app.export_judgments(&caller, schema.dataset.id).await?;
            while let Some(rows) = export.next_page(&app).await? {
                for row in &rows {
                    writer.write(row).with_context(failed)?;
                }
            }
            writer.finish().with_context(failed)?
        }
        Format::Pairs(pair_format) => {
            let request = PreferenceRequest {
                binarization: if args.best_vs_worst { Binarization::BestVsWorst } else { Binarization::AllPairs },
                ties: if args.keep_ties { TiePolicy::Keep } else { TiePolicy::Drop },
                ..request(&args.preferences)
            };
            let mut export = app.export_pairs(&caller, schema.dataset.id, &request).await?;
            let columns = Columns { margin: args.with_margin, confidence: args.with_confidence };
            let mut writer = match file_format {
                ExportFileFormat::Jsonl => PairSink::Lines(PairWriter::new(out, pair_format, columns)),
                ExportFileFormat::Parquet => PairSink::Parquet(ParquetPairWriter::new(out, pair_format, columns).with_context(failed)?),
            };
            while let Some(rows) = export.next_page(&app).await? {
                for row in &rows {
                    writer.write(row).with_context(failed)?;
                }
            }
            writer.finish().with_context(failed)?
        }
    };
    let unit = match file_format {
        ExportFileFormat::Jsonl => "lines",
        ExportFileFormat::Parquet => "Parquet rows",
    };
    eprintln!("wrote {written} {} {unit} of `{}` to {output}", format.as_str(), schema.dataset.name);
    store.close().await;
    Ok(())
}

/// Where pairs go: JSON lines or a Parquet file (one per export, so the sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum PairSink<W: Write + Send> {
    Lines(PairWriter<W>),
    Parquet(ParquetPairWriter<W>),
}

impl<W: Write + Send> PairSink<W> {
    fn write(&mut self, row: &PairRow) -> Result<(), ExportError> {
        match self {
            PairSink::Lines(writer) => writer.write(row),
            PairSink::Parquet(writer) => writer.write(row),
        }
    }

    /// Finishes the file and returns how many rows were written.
    fn finish(self) -> Result<usize, ExportError> {
        match self {
            PairSink::Lines(writer) => writer.finish(),
            PairSink::Parquet(writer) => writer.finish(),
        }
    }
}

pub(super) async fn metrics(args: MetricsArgs) -> anyhow::Result<()> {
    let target = &args.preferences.target;
    let (app, store) = open_app_for_one_pass(&target.data).await?;
    let caller = cli_caller(&app).await?;
    let schema = find_dataset(&app, &caller, &target.dataset, target.workspace.as_deref()).await?;
    let report = app.preference_pairs(&caller, schema.dataset.id, &request(&args.preferences)).await?;
    print!("{}", render_metrics(&schema.dataset.name, &report));
    store.close().await;
    Ok(())
}

/// The request both commands start from: every pair, ties kept, so metrics see everything.
fn request(args: &PreferenceArgs) -> PreferenceRequest {
    PreferenceRequest {
        question: args.question.clone(),
        prompt_field: args.prompt_field.clone(),
        strategy: strategy_of(args.strategy),
        binarization: Binarization::AllPairs,
        ties: TiePolicy::Keep,
    }
}

/// The resolution strategy a command line names.
pub(super) fn strategy_of(strategy: StrategyArg) -> Strategy {
    match strategy {
        StrategyArg::Majority => Strategy::Majority,
        StrategyArg::MeanRank => Strategy::MeanRank,
        StrategyArg::Borda => Strategy::Borda,
        StrategyArg::Reliability => Strategy::Reliability(ReliabilityOptions::default()),
    }
}

/// Gold standings and adaptive overlap's savings, when they are on.
fn quality_lines(figures: &juror_app::QualityFigures) -> String {
    let mut text = String::new();
    if let Some(adaptive) = &figures.adaptive {
        text += &format!(
            "adaptive overlap: {} judgments on {} records, {} fewer than a fixed overlap of the maximum ({})\n",
            adaptive.judgments, adaptive.records, adaptive.saved, adaptive.fixed_at_max
        );
    }
    if figures.adjudicated > 0 {
        text += &format!("adjudicated: {} records settled by a reviewer's verdict\n", figures.adjudicated);
    }
    if let Some(overall) = figures.overall_consistency {
        text += &format!("self-consistency on swapped repeats: {overall:.3}\n");
        for labeler in &figures.consistency {
            text += &format!("  {}\t{:.3} over {} repeats\n", labeler.username, labeler.consistency, labeler.repeats);
        }
    }
    if figures.gold_records > 0 || !figures.labelers.is_empty() {
        let flagged = figures.labelers.iter().filter(|labeler| labeler.flagged).count();
        let paused = figures.labelers.iter().filter(|labeler| labeler.paused).count();
        text += &format!("gold: {} records (left out of these figures), {flagged} labelers flagged, {paused} paused\n", figures.gold_records);
        for labeler in &figures.labelers {
            let standing = if labeler.paused { "PAUSED" } else if labeler.flagged { "FLAGGED" } else { "ok" };
            let interval = labeler.interval.map_or_else(String::new, |(low, high)| format!(" (95% {low:.2}-{high:.2})"));
            text += &format!("  {}\t{} of {} gold answers right{interval}\t{standing}\n", labeler.username, labeler.standing.all.correct, labeler.standing.all.answered);
        }
    }
    text
}

fn render_metrics(dataset: &str, report: &PreferenceReport) -> String {
    let settings = &report.settings;
    let kind = match settings.kind {
        PreferenceKind::Ranking => "ranking",
        PreferenceKind::PairRating => "0/1/2 rating",
    };
    let optional = |value: Option<f64>| value.map_or_else(|| "not computable (too few overlapping judgments)".to_owned(), |value| format!("{value:.3}"));
    let mut text = format!(
        "dataset `{dataset}`: question `{}` ({kind} of {}), prompt `{}`\n",
        settings.question,
        settings.responses.join(", "),
        settings.prompt_field
    );
    text += &format!("judgments: {} on {} records ({} unreadable)\n", report.judgments, report.records_with_judgments, report.unreadable);
    text += &format!("pairs: {} ({} resolved as ties)\n", report.pairs, report.ties);
    if report.cycles > 0 {
        let listed: Vec<&str> = report.cyclic_records.iter().take(10).map(String::as_str).collect();
        text += &format!("cycles: {} records whose verdicts go round (A over B, B over C, C over A), e.g. {}\n", report.cycles, listed.join(", "));
    } else {
        text += "cycles: none (every record's verdicts fit one order)\n";
    }
    text += &quality_lines(&report.quality);
    text += &format!("krippendorff's alpha (ordinal, pair verdicts): {}\n", optional(report.alpha));
    text += &format!("percent agreement (pair verdicts): {}\n", optional(report.percent_agreement));
    text += "agreement with the consensus, per labeler:\n";
    for labeler in &report.labelers {
        text += &format!("  {}\t{:.3} over {} pairs\n", labeler.username, labeler.agreement, labeler.compared);
    }
    if let Some(model) = &report.reward_model {
        text += &format!("agreement with the reward model ({}) on {} records it was not trained on: {:.3}\n", model.agents.join(", "), model.records, model.overall);
        for labeler in &model.labelers {
            text += &format!("  {}\t{:.3} over {} pairs\n", labeler.username, labeler.agreement, labeler.compared);
        }
    }
    let length = &report.length_bias.test;
    let flag = if length.flagged { "FLAGGED: the longer response wins suspiciously often" } else { "not flagged" };
    text += &format!("longer-response win rate: {:.3} over {} pairs (z = {:.2}), {flag}\n", length.rate, length.observations, length.z);
    let position = &report.position_bias.overall;
    if position.observations == 0 {
        text += "first-shown win rate: no judgments with a recorded shown order (answers from the web UI have one)\n";
    } else {
        let flag = if position.flagged { "FLAGGED: the response shown first wins suspiciously often" } else { "not flagged" };
        text += &format!("first-shown win rate: {:.3} over {} judgments (z = {:.2}), {flag}\n", position.rate, position.observations, position.z);
        for labeler in report.position_bias.labelers.iter().filter(|labeler| labeler.test.flagged) {
            text += &format!("  {}\tfirst-shown win rate {:.3} over {} judgments: FLAGGED\n", labeler.labeler, labeler.test.rate, labeler.test.observations);
        }
    }
    for labeler in report.time_on_task.labelers.iter().filter(|labeler| labeler.flag.is_some()) {
        text += &format!("  {}\tmedian time on task {:.1} s: FLAGGED as hasty\n", labeler.labeler, labeler.median_ms / 1000.0);
    }
    text
}
