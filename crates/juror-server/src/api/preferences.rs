//! Juror's preference-data routes: a dataset's pairs as training files, and how far to trust them.
//!
//! `GET /api/v1/datasets/{id}/preferences/metrics` reports judgments, agreement and length bias;
//! `GET /api/v1/datasets/{id}/preferences/export?format=...` downloads JSONL in the formats of
//! `juror export` (`trl`, `trl-implicit`, `trl-conversational`, `openai-dpo`, `judgments`).

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use juror_app::{strategy_named, PreferenceKind, PreferenceReport, PreferenceRequest};
use juror_core::ids::DatasetId;
use juror_export::{Columns, Format, JudgmentWriter, PairWriter};
use juror_prefs::pairs::{Binarization, TiePolicy};
use juror_prefs::resolve::Strategy;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, PathId, QueryParams};
use crate::AppState;

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

fn report_json(report: &PreferenceReport) -> Value {
    let settings = &report.settings;
    let length = &report.length_bias;
    json!({
        "question": settings.question,
        "kind": match settings.kind { PreferenceKind::Ranking => "ranking", PreferenceKind::PairRating => "pair_rating" },
        "prompt_field": settings.prompt_field,
        "response_fields": settings.responses,
        "judgments": report.judgments,
        "records": report.records_with_judgments,
        "unreadable": report.unreadable,
        "pairs": report.rows.len(),
        "ties": report.ties,
        "agreement": {"krippendorff_alpha_ordinal": report.alpha, "percent": report.percent_agreement},
        "labelers": report.labelers.iter().map(|labeler| json!({"username": labeler.username, "compared": labeler.compared, "agreement": labeler.agreement})).collect::<Vec<_>>(),
        "length_bias": {
            "pairs": length.pairs,
            "longer_wins_rate": length.test.rate,
            "z": length.test.z,
            "flagged": length.test.flagged,
            "mean_chosen_length": length.mean_chosen_length,
            "mean_rejected_length": length.mean_rejected_length,
        },
        "position_bias": {
            "judgments": report.position_bias.overall.observations,
            "first_shown_wins_rate": report.position_bias.overall.rate,
            "z": report.position_bias.overall.z,
            "flagged": report.position_bias.overall.flagged,
            "labelers": report.position_bias.labelers.iter().map(|labeler| json!({
                "username": labeler.labeler, "judgments": labeler.test.observations, "first_shown_wins_rate": labeler.test.rate, "z": labeler.test.z, "flagged": labeler.test.flagged,
            })).collect::<Vec<_>>(),
        },
        "time_on_task": {
            "crowd_median_ms": report.time_on_task.crowd_median_ms,
            "labelers": report.time_on_task.labelers.iter().map(|labeler| json!({
                "username": labeler.labeler, "timed": labeler.timed, "median_ms": labeler.median_ms, "flagged": labeler.flag.is_some(),
            })).collect::<Vec<_>>(),
        },
    })
}

async fn preference_metrics(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams) -> ApiResult<Json<Value>> {
    let request = preference_request(&query, TiePolicy::Keep)?;
    let report = state.app.preference_pairs(&caller, id, &request).await?;
    Ok(Json(report_json(&report)))
}

async fn export_preferences(State(state): State<AppState>, Auth(caller): Auth, PathId(id): PathId<DatasetId>, query: QueryParams) -> ApiResult<Response> {
    let format: Format = query
        .first("format")
        .unwrap_or("trl")
        .parse()
        .map_err(|error: juror_export::ExportError| ApiError::request(vec!["query".into(), "format".into()], "enum", error.to_string()))?;
    let internal = |error: juror_export::ExportError| ApiError::App(juror_app::AppError::Internal(anyhow::Error::new(error)));
    let mut body = Vec::new();
    match format {
        Format::Judgments => {
            let mut writer = JudgmentWriter::new(&mut body);
            for row in state.app.raw_judgments(&caller, id).await? {
                writer.write(&row).map_err(internal)?;
            }
            writer.finish().map_err(internal)?;
        }
        Format::Pairs(pair_format) => {
            let ties = if flag(&query, "keep_ties") { TiePolicy::Keep } else { TiePolicy::Drop };
            let request = preference_request(&query, ties)?;
            let report = state.app.preference_pairs(&caller, id, &request).await?;
            let columns = Columns { margin: flag(&query, "with_margin"), confidence: flag(&query, "with_confidence") };
            let mut writer = PairWriter::new(&mut body, pair_format, columns);
            for row in &report.rows {
                writer.write(row).map_err(internal)?;
            }
            writer.finish().map_err(internal)?;
        }
    }
    let disposition = format!("attachment; filename=\"{id}-{}.jsonl\"", format.as_str());
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson".to_owned()), (header::CONTENT_DISPOSITION, disposition)], Body::from(body)).into_response())
}
