//! Adjudication pages (reviewers: a dataset's owners and admins, or members given the right): the
//! queue of disputed records, and one record with every labeler's answer side by side and a form
//! for the final verdict and its note.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use juror_app::{AppError, Dispute, ReviewRecord};
use juror_core::ids::{DatasetId, RecordId};
use juror_core::presentation::Presentation;
use juror_core::question::QuestionSettings;
use juror_core::value::Ranking;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::error::UiResult;
use super::layout;
use super::record_page::field_value;
use super::session::{form_fields, Web};
use super::path_id;
use crate::AppState;

/// `GET /review/datasets/{id}`: the disputed records, those without a verdict first.
pub(super) async fn queue(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> UiResult<Markup> {
    let id: DatasetId = path_id(&id, "Dataset")?;
    let app = &state.app;
    let dataset = app.get_dataset(&web.caller, id).await?;
    let mut disputed = app.review_queue(&web.caller, id, true).await?;
    disputed.sort_by_key(|item| item.adjudication.is_some());
    let open = disputed.iter().filter(|item| item.adjudication.is_none()).count();
    Ok(layout::page(
        &format!("Review {}", dataset.name),
        "review-queue",
        &web,
        html! {
            h1 { "Disputed records of " (dataset.name) }
            p { (open) " waiting for a verdict, " (disputed.len() - open) " settled." }
            @if !disputed.is_empty() {
                table.progress {
                    thead { tr { th { "Record" } th { "Why" } th { "Judgments" } th { "Verdict" } } }
                    tbody {
                        @for item in &disputed {
                            tr {
                                td { a href=(format!("/review/records/{}", item.record.id)) { (item.record.external_id.clone().unwrap_or_else(|| item.record.id.to_string())) } }
                                td { (item.disputes.iter().map(|dispute| describe(*dispute)).collect::<Vec<_>>().join(", ")) }
                                td { (item.judgments) }
                                td { @if let Some(verdict) = &item.adjudication { "by " (verdict.reviewer_name) } @else { strong { "open" } } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /review/records/{id}`: the record, every answer to it, and the verdict form.
pub(super) async fn record(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> UiResult<Markup> {
    let id: RecordId = path_id(&id, "Record")?;
    let review = state.app.review_record(&web.caller, id).await?;
    Ok(page(&web, &review, None))
}

/// `POST /review/records/{id}`: records the verdict (`rank.<option>` for every option, `note`),
/// then back to the queue; a verdict that is not a complete ranking shows the page again (422).
pub(super) async fn decide(State(state): State<AppState>, web: Web, Path(id): Path<String>, body: Bytes) -> UiResult<Response> {
    let id: RecordId = path_id(&id, "Record")?;
    let fields = form_fields(&body);
    web.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or_default())?;
    let review = state.app.review_record(&web.caller, id).await?;
    let ranks: Vec<Value> = options(&review)
        .into_iter()
        .map(|option| {
            let rank = fields.get(&format!("rank.{option}")).and_then(|rank| rank.trim().parse::<u32>().ok());
            json!({"value": option, "rank": rank})
        })
        .collect();
    let note = fields.get("note").cloned();
    match state.app.adjudicate(&web.caller, id, Value::Array(ranks), note).await {
        Ok(_) => Ok(Redirect::to(&format!("/review/datasets/{}", review.record.dataset_id)).into_response()),
        Err(AppError::Invalid(message)) => Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&web, &review, Some(&message))).into_response()),
        Err(error) => Err(error.into()),
    }
}

/// The option values of the record's preference question, in settings order.
fn options(review: &ReviewRecord) -> Vec<String> {
    review
        .schema
        .questions
        .iter()
        .find(|question| question.name == review.settings.question)
        .map(|question| match &question.settings {
            QuestionSettings::Ranking { options } => options.iter().map(|option| option.value.clone()).collect(),
            other => other.option_values().into_iter().map(str::to_owned).collect(),
        })
        .unwrap_or_default()
}

fn page(web: &Web, review: &ReviewRecord, problem: Option<&str>) -> Markup {
    let schema = &review.schema;
    let record = &review.record;
    let options = options(review);
    let verdict_rank = |option: &str| -> Option<u32> {
        let verdict = review.adjudication.as_ref()?;
        Ranking::parse(&verdict.verdict).ok()?.entries().iter().find(|entry| entry.value == option)?.rank
    };
    layout::page(
        "Review",
        "review-record",
        web,
        html! {
            nav.record-nav { a href=(format!("/review/datasets/{}", record.dataset_id)) { "← Disputed records" } }
            h1 { "Review" }
            @if !review.disputes.is_empty() {
                p { "In dispute: " (review.disputes.iter().map(|dispute| describe(*dispute)).collect::<Vec<_>>().join(", ")) "." }
            }
            @if let Some(problem) = problem { p.flash.error role="alert" { (problem) } }
            section.fields {
                @for field in &schema.fields {
                    article.field data-field=(field.name) {
                        h2 { (field.title) " " small.muted { (field.name) } }
                        (field_value(field, record.fields.get(&field.name)))
                    }
                }
            }
            h2 { "Answers" }
            table.progress.answers {
                thead { tr { th { "Labeler" } th { "Status" } th { "Order given" } th { "Shown first" } th { "Time on task" } } }
                tbody {
                    @for (username, response) in &review.answers {
                        (answer_row(username, response.status.as_str(), response.values.as_ref(), response.presentation.as_ref(), &review.settings.question))
                    }
                    @for (username, repeat) in &review.repeats {
                        (answer_row(&format!("{username} (swapped repeat)"), repeat.status.map_or("pending", |status| status.as_str()), repeat.values.as_ref(), repeat.presentation.as_ref(), &review.settings.question))
                    }
                }
            }
            h2 { "Verdict" }
            @if let Some(verdict) = &review.adjudication {
                p #verdict { "Given by " (verdict.reviewer_name) ": " (order(Some(&json!({"value": verdict.verdict})))) }
            }
            form.stack method="post" action=(format!("/review/records/{}", record.id)) {
                input type="hidden" name="csrf" value=(web.csrf);
                @for option in &options {
                    label { "Rank of " (option) " (1 is best) "
                        input type="number" min="1" max=(options.len()) name=(format!("rank.{option}")) value=[verdict_rank(option)] required;
                    }
                }
                label { "Note " textarea name="note" rows="3" { (review.adjudication.as_ref().and_then(|verdict| verdict.note.clone()).unwrap_or_default()) } }
                button type="submit" { "Record the verdict" }
            }
        },
    )
}

/// One answer's row: who, its status, the order given, what was shown first, the time taken.
fn answer_row(who: &str, status: &str, values: Option<&serde_json::Map<String, Value>>, shown: Option<&Presentation>, question: &str) -> Markup {
    html! {
        tr {
            td { (who) }
            td { (status) }
            td { (order(values.and_then(|values| values.get(question)))) }
            td { (shown.and_then(|shown| shown.shown_order.get(question)?.first().cloned()).unwrap_or_else(|| "–".into())) }
            td { (shown.and_then(|shown| shown.time_on_task_ms).map_or_else(|| "–".to_owned(), |ms| format!("{:.1} s", ms as f64 / 1000.0))) }
        }
    }
}

/// A ranking answer as `a > b = c`, best first.
fn order(answer: Option<&Value>) -> String {
    let Some(ranking) = answer.and_then(|answer| answer.get("value")).and_then(|value| Ranking::parse(value).ok()) else { return "–".into() };
    let mut entries: Vec<(u32, &str)> = ranking.entries().iter().map(|entry| (entry.rank.unwrap_or(u32::MAX), entry.value.as_str())).collect();
    entries.sort();
    let mut text = String::new();
    for (index, (rank, value)) in entries.iter().enumerate() {
        if index > 0 {
            text += if entries[index - 1].0 == *rank { " = " } else { " > " };
        }
        text += value;
    }
    text
}

fn describe(dispute: Dispute) -> &'static str {
    match dispute {
        Dispute::Split => "split verdict",
        Dispute::Cycle => "verdicts go round",
        Dispute::FailedRepeat => "a repeat answered otherwise",
        Dispute::FlaggedLabeler => "answered by a flagged labeler",
    }
}
