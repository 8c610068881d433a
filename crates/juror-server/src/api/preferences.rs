//! Juror's preference-data routes: a dataset's pairs as training files, and how far to trust them.
//!
//! `GET /api/v1/datasets/{id}/preferences/metrics` reports judgments, agreement and bias;
//! `GET /api/v1/datasets/{id}/preferences/export?format=...[&file_format=parquet]` downloads
//! JSONL (or Parquet, for the pair formats) in the formats of `juror export` (`trl`,
//! `trl-implicit`, `trl-conversational`, `openai-dpo`, `judgments`), streamed: a task writes a
//! page of records at a time (Parquet: what the writer has flushed) into a bounded channel that
//! the response body reads, so neither the rows nor the file are ever held whole.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http_body::Frame;
use juror_app::{strategy_named, App, JudgmentExport, PairExport, PreferenceRequest};
use juror_core::ids::DatasetId;
use juror_export::{Columns, Format, JudgmentWriter, PairFormat, PairWriter, ParquetPairWriter};
use juror_prefs::pairs::{Binarization, TiePolicy};
use juror_prefs::resolve::Strategy;
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, PathId, QueryParams};
use crate::{wire, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/datasets/{dataset_id}/preferences/metrics", get(preference_metrics))
        .route("/api/v1/datasets/{dataset_id}/preferences/export", get(export_preferences))
}

fn flag(query: &QueryParams, name: &str) -> bool {
    query.first(name).is_some_and(|value| matches!(value, "true" | "1" | "yes"))
}

fn preference_request(query: &QueryParams, ties: TiePolicy) -> ApiResult<PreferenceRequest> {
    let strategy: Strategy = strategy_named(query.first("strategy").unwrap_or("majority"))?;
    Ok(PreferenceRequest {
        question: query.first("question").map(str::to_owned),
        prompt_field: query.first("prompt_field").map(str::to_owned),
        strategy,
        binarization: if flag(query, "best_vs_worst") { Binarization::BestVsWorst } else { Binarization::AllPairs },
        ties,
    })
}

/// Judgments, pairs, agreement and bias of the dataset's preference question (owners and admins).
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/preferences/metrics", tag = "preferences", params(("strategy" = Option<String>, Query, description = "`majority` (default), `mean-rank`, `borda` or `reliability`"), ("question" = Option<String>, Query), ("prompt_field" = Option<String>, Query), ("best_vs_worst" = Option<bool>, Query)), responses((status = 200, body = wire::PreferenceMetricsJson)))]
pub(super) async fn preference_metrics(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams) -> ApiResult<Json<wire::PreferenceMetricsJson>> {
    let request = preference_request(&query, TiePolicy::Keep)?;
    let report = state.app.preference_pairs(&caller, id, &request).await?;
    Ok(Json(wire::preference_metrics(&report)))
}

/// The preference pairs (or judgments) as a training file, streamed: JSON lines, or Parquet.
#[utoipa::path(get, path = "/api/v1/datasets/{dataset_id}/preferences/export", tag = "preferences", params(("format" = Option<String>, Query, description = "`trl` (default), `trl-implicit`, `trl-conversational`, `openai-dpo` or `judgments`"), ("file_format" = Option<String>, Query, description = "`jsonl` (default) or `parquet`"), ("strategy" = Option<String>, Query, description = "`majority` (default), `mean-rank`, `borda` or `reliability`"), ("question" = Option<String>, Query), ("prompt_field" = Option<String>, Query), ("keep_ties" = Option<bool>, Query), ("best_vs_worst" = Option<bool>, Query), ("with_confidence" = Option<bool>, Query), ("with_margin" = Option<bool>, Query)), responses((status = 200, body = String, content_type = "application/x-ndjson")))]
pub(super) async fn export_preferences(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams) -> ApiResult<Response> {
    let format: Format = query
        .first("format")
        .unwrap_or("trl")
        .parse()
        .map_err(|error: juror_export::ExportError| ApiError::request(vec!["query".into(), "format".into()], "enum", error.to_string()))?;
    // Access, the dataset and the question are checked here, so those errors get their status;
    // everything after the first byte streams from a task.
    let parquet = match query.first("file_format").unwrap_or("jsonl") {
        "jsonl" => false,
        "parquet" => true,
        other => return Err(ApiError::request(vec!["query".into(), "file_format".into()], "enum", format!("file_format must be jsonl or parquet, got `{other}`"))),
    };
    let export = match format {
        Format::Judgments if parquet => return Err(ApiError::invalid("judgments are exported as JSON lines only")),
        Format::Judgments => Export::Judgments(state.app.export_judgments(&caller, id).await?),
        Format::Pairs(pair_format) => {
            let ties = if flag(&query, "keep_ties") { TiePolicy::Keep } else { TiePolicy::Drop };
            let request = preference_request(&query, ties)?;
            let columns = Columns { margin: flag(&query, "with_margin"), confidence: flag(&query, "with_confidence") };
            let pairs = state.app.export_pairs(&caller, id, &request).await?;
            if parquet { Export::ParquetPairs(pairs, pair_format, columns) } else { Export::Pairs(pairs, pair_format, columns) }
        }
    };
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let app = state.app.clone();
    tokio::spawn(async move {
        if let Err(error) = export.stream(&app, &sender).await {
            tracing::error!(dataset = %id, error = ?error, "preference export failed mid-stream");
            // Ending the body with an error aborts the transfer, so the client sees it truncated.
            let _ = sender.send(Err(std::io::Error::other("export failed"))).await;
        }
    });
    let (extension, content_type) = if parquet { ("parquet", "application/vnd.apache.parquet") } else { ("jsonl", "application/x-ndjson") };
    let disposition = format!("attachment; filename=\"{id}-{}.{extension}\"", format.as_str());
    Ok(([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], Body::new(ChannelBody { chunks: receiver })).into_response())
}

/// Chunks (one page of records' lines each) queued between the export task and the client; the
/// task waits when the client reads slower, so memory stays at a few pages.
const CHUNKS_IN_FLIGHT: usize = 4;

/// An export being written, with what it needs to write its lines.
enum Export {
    Judgments(JudgmentExport),
    Pairs(PairExport, PairFormat, Columns),
    /// The pairs as one Parquet file, sent as each row group is written.
    ParquetPairs(PairExport, PairFormat, Columns),
}

impl Export {
    /// Sends the export's lines to `sender` a page at a time; stops early when the client is gone.
    async fn stream(self, app: &App, sender: &mpsc::Sender<Result<Bytes, std::io::Error>>) -> anyhow::Result<()> {
        match self {
            Export::Judgments(mut export) => {
                while let Some(rows) = export.next_page(app).await? {
                    let mut chunk = Vec::new();
                    let mut writer = JudgmentWriter::new(&mut chunk);
                    for row in &rows {
                        writer.write(row)?;
                    }
                    writer.finish()?;
                    if sender.send(Ok(Bytes::from(chunk))).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Export::ParquetPairs(mut export, format, columns) => {
                let buffer = SharedBuffer::default();
                let mut writer = ParquetPairWriter::new(buffer.clone(), format, columns)?;
                while let Some(rows) = export.next_page(app).await? {
                    for row in &rows {
                        writer.write(row)?;
                    }
                    let written = buffer.take();
                    if !written.is_empty() && sender.send(Ok(Bytes::from(written))).await.is_err() {
                        return Ok(());
                    }
                }
                writer.finish()?;
                let _ = sender.send(Ok(Bytes::from(buffer.take()))).await;
            }
            Export::Pairs(mut export, format, columns) => {
                while let Some(rows) = export.next_page(app).await? {
                    let mut chunk = Vec::new();
                    let mut writer = PairWriter::new(&mut chunk, format, columns);
                    for row in &rows {
                        writer.write(row)?;
                    }
                    writer.finish()?;
                    if sender.send(Ok(Bytes::from(chunk))).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

/// Bytes the Parquet writer has produced and the body has not sent yet.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// Everything written since the last call.
    fn take(&self) -> Vec<u8> {
        self.0.lock().map(|mut bytes| std::mem::take(&mut *bytes)).unwrap_or_default()
    }
}

impl std::io::Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("export buffer poisoned"))?.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A response body read from a channel, one chunk per message, ended when the sender is dropped.
struct ChannelBody {
    chunks: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.chunks.poll_recv(cx).map(|chunk| chunk.map(|chunk| chunk.map(Frame::data)))
    }
}
