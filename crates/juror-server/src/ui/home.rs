//! A labeler's datasets with their progress, one dataset with my answers by status, and the queue
//! that hands out the next record.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use juror_app::AppError;
use juror_core::dataset::Dataset;
use juror_core::ids::DatasetId;
use juror_core::record::Record;
use juror_core::response::ResponseStatus;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::error::UiResult;
use super::layout::{self, bar, share};
use super::markdown;
use super::session::{form_fields, Web};
use super::path_id;
use crate::AppState;

/// Answers listed on a dataset page.
const LISTED: u64 = 200;

/// The datasets of my workspaces, with my progress and the dataset's completion.
pub(super) async fn datasets(State(state): State<AppState>, web: Web) -> UiResult<Markup> {
    let app = &state.app;
    let mut rows = Vec::new();
    for dataset in app.my_datasets(&web.caller).await? {
        let metrics = app.my_dataset_metrics(&web.caller, dataset.id).await?;
        let progress = app.dataset_progress(&web.caller, dataset.id).await?;
        rows.push((dataset, metrics, progress.completed));
    }
    Ok(layout::page(
        "Datasets",
        "home",
        &web,
        html! {
            h1 { "Datasets" }
            @if rows.is_empty() {
                p { "No datasets in your workspaces yet." }
            } @else {
                table.datasets {
                    thead { tr { th { "Dataset" } th { "Pending for me" } th { "Draft" } th { "Submitted" } th { "Discarded" } th { "Dataset completion" } } }
                    tbody {
                        @for (dataset, metrics, completed) in &rows {
                            @let mine = metrics.mine;
                            @let answered = mine.submitted + mine.discarded + mine.draft;
                            tr {
                                td { a href=(format!("/datasets/{}", dataset.id)) { (dataset.name) } }
                                td { (metrics.records.saturating_sub(answered)) }
                                td { (mine.draft) }
                                td { (mine.submitted) }
                                td { (mine.discarded) }
                                td { (bar(share(*completed, metrics.records), "completion")) " " (completed) " / " (metrics.records) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct ViewQuery {
    view: Option<String>,
}

/// One dataset: guidelines, my counts, the start button, and my answers of one status.
pub(super) async fn dataset(State(state): State<AppState>, web: Web, Path(id): Path<String>, Query(query): Query<ViewQuery>) -> UiResult<Markup> {
    let id: DatasetId = path_id(&id, "Dataset")?;
    let status = match query.view.as_deref() {
        Some("draft") => Some(ResponseStatus::Draft),
        Some("discarded") => Some(ResponseStatus::Discarded),
        Some("all") => None,
        _ => Some(ResponseStatus::Submitted),
    };
    let app = &state.app;
    let metrics = app.my_dataset_metrics(&web.caller, id).await?;
    let (dataset, answers) = app.my_responses(&web.caller, id, status, LISTED).await?;
    let reviewer = app.may_review(&web.caller, id).await?;
    let view = status.map_or("all", ResponseStatus::as_str);
    let mine = metrics.mine;
    Ok(layout::page(
        &dataset.name,
        "dataset",
        &web,
        html! {
            h1 { (dataset.name) }
            (guidelines(&dataset))
            p.counts {
                "Pending for me: " strong { (metrics.records.saturating_sub(mine.submitted + mine.discarded + mine.draft)) }
                " · Draft: " strong { (mine.draft) } " · Submitted: " strong { (mine.submitted) } " · Discarded: " strong { (mine.discarded) }
            }
            // A form, not a link: taking a record is a change, so it needs the session's form
            // token (a link from another site must not take a lease for a logged-in labeler).
            form.start method="post" action=(format!("/datasets/{id}/next")) {
                input type="hidden" name="csrf" value=(web.csrf);
                button.primary type="submit" { "Start labeling" }
            }
            @if reviewer {
                p { a href=(format!("/review/datasets/{id}")) { "Review disputed records" } }
            }
            nav.views aria-label="My answers" {
                @for (name, label) in [("submitted", "Submitted"), ("draft", "Drafts"), ("discarded", "Discarded"), ("all", "All")] {
                    a href=(format!("/datasets/{id}?view={name}")) aria-current=[(name == view).then_some("page")] { (label) }
                }
            }
            @if answers.is_empty() {
                p.muted { "Nothing here yet." }
            } @else {
                table.answers {
                    thead { tr { th { "Record" } th { "Status" } th { "Changed" } } }
                    tbody {
                        @for (response, record) in &answers {
                            tr data-status=(response.status.as_str()) {
                                td { a href=(format!("/records/{}", record.id)) { (snippet(record)) } }
                                td { span class=(format!("status {}", response.status.as_str())) { (response.status.as_str()) } }
                                td { (response.updated_at.to_naive_iso().get(..16).unwrap_or_default().replace('T', " ")) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /datasets/{id}/next` takes nothing: it leads to the dataset's page, whose button posts.
pub(super) async fn start(Path(id): Path<String>) -> UiResult<Response> {
    let id: DatasetId = path_id(&id, "Dataset")?;
    Ok(Redirect::to(&format!("/datasets/{id}")).into_response())
}

/// `POST /datasets/{id}/next`: with the session's form token, leases my next record and opens it.
pub(super) async fn next(State(state): State<AppState>, web: Web, Path(id): Path<String>, body: Bytes) -> UiResult<Response> {
    let id: DatasetId = path_id(&id, "Dataset")?;
    web.check_csrf(form_fields(&body).get("csrf").map(String::as_str).unwrap_or_default())?;
    open_next(&state, &web, id).await
}

/// Leases my next record in the dataset (or opens a swapped repeat that is due) and redirects to
/// it; a page saying so when nothing is left for me. Called only from requests whose form token was checked.
pub(super) async fn open_next(state: &AppState, web: &Web, id: DatasetId) -> UiResult<Response> {
    let app = &state.app;
    let next = match app.next_for_page(&web.caller, id).await {
        Err(AppError::Refused(message)) => {
            let page = layout::page("Paused", "paused", web, html! { h1 { "Paused" } p.flash.error role="alert" { (message) } p { a href="/" { "Home" } } });
            return Ok((StatusCode::FORBIDDEN, page).into_response());
        }
        next => next?,
    };
    if let Some(record) = next {
        return Ok(Redirect::to(&format!("/records/{record}")).into_response());
    }
    let dataset = app.get_dataset(&web.caller, id).await?;
    let metrics = app.my_dataset_metrics(&web.caller, id).await?;
    Ok(layout::page(
        &dataset.name,
        "done",
        web,
        html! {
            h1 { (dataset.name) }
            p.flash.ok role="status" { "Nothing left for you in this dataset. Thank you!" }
            @if metrics.mine.draft > 0 {
                p { "You have " (metrics.mine.draft) " drafts: " a href=(format!("/datasets/{id}?view=draft")) { "finish them" } "." }
            }
            p { a href=(format!("/datasets/{id}")) { "Back to the dataset" } }
        },
    )
    .into_response())
}

/// The dataset's guidelines, collapsible, when it has any.
pub(super) fn guidelines(dataset: &Dataset) -> Markup {
    html! {
        @if let Some(text) = dataset.guidelines.as_deref().filter(|text| !text.trim().is_empty()) {
            details.guidelines open {
                summary { "Guidelines" }
                div.md { (markdown::render(text)) }
            }
        }
    }
}

/// The start of a record's first text field, to recognise it in a list.
fn snippet(record: &Record) -> String {
    let text = record.fields.values().find_map(Value::as_str).unwrap_or_default();
    let mut snippet: String = text.chars().take(90).collect();
    if text.chars().nth(90).is_some() {
        snippet.push('…');
    }
    if snippet.trim().is_empty() {
        record.external_id.clone().unwrap_or_else(|| record.id.to_string())
    } else {
        snippet
    }
}
