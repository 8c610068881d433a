//! The annotation page's handlers: show a record, take the form (submit, draft, discard, skip),
//! and the differences between its responses.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use juror_app::{AppError, LabelingRecord, ResponseWrite};
use juror_core::ids::RecordId;
use juror_core::presentation::{Layout, Presentation};
use juror_core::response::ResponseStatus;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::answer_form::{self, FormAction};
use super::diff::word_diff;
use super::error::UiResult;
use super::record_page::{self, PageState};
use super::session::Web;
use super::path_id;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub(super) struct ShowQuery {
    saved: Option<String>,
}

/// The annotation page, pre-filled with my saved answer.
pub(super) async fn show(State(state): State<AppState>, web: Web, Path(id): Path<String>, Query(query): Query<ShowQuery>) -> UiResult<Markup> {
    let id: RecordId = path_id(&id, "Record")?;
    let data = state.app.labeling_record(&web.caller, id).await?;
    let back = previous_record(&state, &web, &data).await?;
    let layout = layout_of(&data, &web);
    let flash = query.saved.is_some().then_some(("ok", "Draft saved."));
    let (values, status) = saved_answer(&data);
    let page = PageState { values, status, back, flash };
    Ok(record_page::render(&web, &data, &layout, &page))
}

/// How the record is shown to me: my own shuffled order, or on a swapped repeat the other way
/// round.
fn layout_of(data: &LabelingRecord, web: &Web) -> Layout {
    let layout = Layout::of(&data.schema.fields, &data.schema.questions, data.record.id, web.caller.user.id);
    match data.repeat {
        Some(_) => layout.swapped(&data.schema.questions),
        None => layout,
    }
}

/// What I saved on this page: my response, or on a swapped repeat what I saved of it.
fn saved_answer(data: &LabelingRecord) -> (Option<&Map<String, Value>>, Option<ResponseStatus>) {
    match (&data.repeat, &data.response) {
        (Some(repeat), _) => (repeat.values.as_ref(), repeat.status),
        (None, Some(response)) => (response.values.as_ref(), Some(response.status)),
        (None, None) => (None, None),
    }
}

/// Takes the form: skip hands the record back; submit and discard go on to the next record (taken
/// here, under this form's token, and redirected to); a draft stays. Requests from the page's script (`X-Requested-With: fetch`) get JSON instead.
pub(super) async fn answer(State(state): State<AppState>, web: Web, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> UiResult<Response> {
    let id: RecordId = path_id(&id, "Record")?;
    let app = &state.app;
    let data = app.labeling_record(&web.caller, id).await?;
    let form = answer_form::parse(&body, &data.schema.questions);
    web.check_csrf(&form.csrf)?;
    let from_script = headers.get("x-requested-with").is_some_and(|value| value == "fetch");
    let dataset = data.schema.dataset.id;
    let status = match form.action {
        FormAction::Skip if data.repeat.is_some() => {
            // A skipped repeat does not come back.
            app.answer_repeat(&web.caller, id, ResponseWrite { values: None, status: ResponseStatus::Discarded, presentation: None }).await?;
            return super::home::open_next(&state, &web, dataset).await;
        }
        FormAction::Skip => {
            app.release_record(&web.caller, id, true).await?;
            return super::home::open_next(&state, &web, dataset).await;
        }
        FormAction::Submit => ResponseStatus::Submitted,
        FormAction::Draft => ResponseStatus::Draft,
        FormAction::Discard => ResponseStatus::Discarded,
    };
    if !form.settings_version.is_empty() && form.settings_version != settings_version(&data) {
        let message = "The questions of this dataset changed since the page was loaded. Reload the page and answer again.";
        return Ok(conflict(message, from_script, id));
    }
    let (_, stored_status) = saved_answer(&data);
    if form.autosave && stored_status.is_some_and(|status| status != ResponseStatus::Draft) {
        return Ok(conflict("Not saved as a draft: this record already has a final answer. Submit or discard to change it.", from_script, id));
    }
    // Only a submit must be complete; drafts keep what there is, discards need nothing.
    if let (ResponseStatus::Submitted, Some(problem)) = (status, form.problems.first()) {
        return refuse(&state, &web, &data, &form.values, problem, from_script).await;
    }
    let layout = layout_of(&data, &web);
    let presentation = Presentation { shown_order: layout.shown_order(&data.schema.questions), time_on_task_ms: time_on_task(draft_time(&data), form.time_on_task_ms) };
    let values = match status {
        ResponseStatus::Discarded if form.values.is_empty() => None,
        _ => Some(form.values.clone()),
    };
    let write = ResponseWrite { values, status, presentation: Some(presentation) };
    let saved = match data.repeat {
        Some(_) => app.answer_repeat(&web.caller, id, write).await.map(|repeat| (repeat.status.map_or("draft", ResponseStatus::as_str), repeat.answered_at)),
        None => app.upsert_my_response(&web.caller, id, write).await.map(|saved| (saved.status.as_str(), Some(saved.updated_at))),
    };
    match saved {
        Ok((status, at)) if from_script => Ok(Json(json!({"status": status, "saved_at": at.map(|at| at.to_naive_iso())})).into_response()),
        Ok(_) if status == ResponseStatus::Draft => Ok(Redirect::to(&format!("/records/{id}?saved=1")).into_response()),
        Ok(_) => super::home::open_next(&state, &web, dataset).await,
        Err(AppError::Invalid(message)) => refuse(&state, &web, &data, &form.values, &message, from_script).await,
        Err(error) => Err(error.into()),
    }
}

/// The time already spent on a draft of this page's answer (my response, or my repeat).
fn draft_time(data: &LabelingRecord) -> Option<u64> {
    match (&data.repeat, &data.response) {
        (Some(repeat), _) => repeat.status.filter(|status| *status == ResponseStatus::Draft).and(repeat.presentation.as_ref()?.time_on_task_ms),
        (None, Some(response)) if response.status == ResponseStatus::Draft => response.presentation.as_ref()?.time_on_task_ms,
        _ => None,
    }
}

/// The longest time on task kept for one answer: a tab left open overnight says nothing.
const MAX_TIME_ON_TASK_MS: u64 = 24 * 60 * 60 * 1000;

/// Time on task across visits: a draft's time so far plus this visit's, capped.
fn time_on_task(earlier: Option<u64>, this_visit: Option<u64>) -> Option<u64> {
    match (earlier, this_visit) {
        (None, None) => None,
        (earlier, this_visit) => Some(earlier.unwrap_or(0).saturating_add(this_visit.unwrap_or(0)).min(MAX_TIME_ON_TASK_MS)),
    }
}

/// Identifies the dataset's questions as the page saw them: the latest change to any of them.
pub(super) fn settings_version(data: &LabelingRecord) -> String {
    let latest = data.schema.questions.iter().map(|question| question.updated_at.micros()).max().unwrap_or(0);
    format!("{latest}-{}", data.schema.questions.len())
}

/// A 409: the answer was not taken because something changed meanwhile.
fn conflict(message: &str, from_script: bool, record: RecordId) -> Response {
    if from_script {
        return (StatusCode::CONFLICT, Json(json!({"detail": message}))).into_response();
    }
    (StatusCode::CONFLICT, super::layout::bare("Not saved", html! { p.flash.error role="alert" { (message) } p { a href=(format!("/records/{record}")) { "Reload the record" } } })).into_response()
}

/// Shows the page again with what was posted and why it was not taken (422).
async fn refuse(state: &AppState, web: &Web, data: &LabelingRecord, posted: &Map<String, Value>, problem: &str, from_script: bool) -> UiResult<Response> {
    if from_script {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"detail": problem}))).into_response());
    }
    let back = previous_record(state, web, data).await?;
    let layout = layout_of(data, web);
    let page = PageState { values: Some(posted), status: saved_answer(data).1, back, flash: Some(("error", problem)) };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, record_page::render(web, data, &layout, &page)).into_response())
}

/// The record I answered just before this one in the same dataset: the newest answer older than
/// my answer here, or my newest answer when I have not answered this record.
async fn previous_record(state: &AppState, web: &Web, data: &LabelingRecord) -> UiResult<Option<RecordId>> {
    let recent = state.app.my_recent_responses(&web.caller, data.schema.dataset.id, BACK_WINDOW).await?;
    let answered_at = data.response.as_ref().map(|response| (response.updated_at, response.id));
    Ok(recent
        .into_iter()
        .find(|response| response.record_id != data.record.id && answered_at.is_none_or(|mine| (response.updated_at, response.id) < mine))
        .map(|response| response.record_id))
}

/// How many of my latest answers "Back" looks through.
const BACK_WINDOW: u64 = 200;

/// Each response against the first shown, word by word.
pub(super) async fn differences(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> UiResult<Markup> {
    let id: RecordId = path_id(&id, "Record")?;
    let data = state.app.labeling_record(&web.caller, id).await?;
    let layout = Layout::of(&data.schema.fields, &data.schema.questions, id, web.caller.user.id);
    let text = |index: usize| data.record.fields.get(&data.schema.fields[index].name).and_then(Value::as_str).unwrap_or_default();
    let letter = |position: usize| char::from(b'A' + (position % 26) as u8);
    let Some((&first, others)) = layout.responses.split_first() else { return Ok(html! { p.muted { "No responses to compare." } }) };
    let first_text = text(first).to_owned();
    let other_texts: Vec<String> = others.iter().map(|&other| text(other).to_owned()).collect();
    // Diffing long texts takes milliseconds of CPU: keep it off the request threads.
    let diffs = tokio::task::spawn_blocking(move || other_texts.iter().map(|other| word_diff(&first_text, other)).collect::<Vec<_>>())
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("diff failed: {error}")))?;
    Ok(html! {
        @for (position, diff) in diffs.into_iter().enumerate() {
            section.diff-pair {
                h3 { "Response " (letter(0)) " → Response " (letter(position + 1)) }
                p.legend { del { "only in " (letter(0)) } " " ins { "only in " (letter(position + 1)) } }
                (diff)
            }
        }
    })
}
