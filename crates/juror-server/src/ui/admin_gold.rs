//! The quality page's part on quality control while collecting (owners and admins): the
//! dataset's settings and the form that changes them, and each labeler's standing by their gold
//! answers, with a button that lets a paused labeler go on.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use juror_app::LabelerQuality;
use juror_core::ids::{DatasetId, UserId};
use juror_core::quality::{AdaptiveSettings, QualitySettings, RepeatSettings};
use serde_json::{json, Value};
use maud::{html, Markup};

use super::admin::percent;
use super::error::UiResult;
use super::session::{form_fields, Web};
use super::path_id;
use crate::AppState;

/// The settings in a sentence each, the form that changes them, and the labelers' gold standings.
pub(super) fn section(web: &Web, dataset: DatasetId, settings: &QualitySettings, ranking_questions: &[String], gold_records: usize, labelers: &[LabelerQuality]) -> Markup {
    html! {
        h2 { "Quality control while collecting" }
        ul {
            @match &settings.adaptive {
                Some(adaptive) => li { "Adaptive overlap on “" (adaptive.question) "”: " (adaptive.min) " to " (adaptive.max) " judgments per record, until one side of every pair is " (percent(adaptive.confidence)) " likely." },
                None => li { "Adaptive overlap is off: every record gets the dataset's minimum of submissions." },
            }
            @match &settings.gold {
                Some(gold) => li {
                    (gold_records) " gold records, served at " (percent(gold.rate)) " of each labeler's records; flagged below " (percent(gold.threshold))
                    " with " (percent(gold.certainty)) " certainty after " (gold.min_answers) " gold answers"
                    @if gold.pause { "; flagged labelers are paused." } @else { "; flagged labelers are not paused." }
                },
                None => li { (gold_records) " gold records; serving them is off." },
            }
        }
        (settings_form(web, dataset, settings, ranking_questions))
        @if !labelers.is_empty() {
            table.progress {
                thead { tr { th { "Labeler" } th { "Gold answers right" } th { "95% interval" } th { "Standing" } } }
                tbody {
                    @for labeler in labelers {
                        tr {
                            td { (labeler.username) }
                            td { (labeler.standing.all.correct) " of " (labeler.standing.all.answered) }
                            td {
                                @if let Some((low, high)) = labeler.interval { (percent(low)) "–" (percent(high)) } @else { "–" }
                            }
                            td {
                                @if labeler.paused {
                                    strong.flag { "paused" }
                                    form.inline method="post" action=(format!("/admin/datasets/{dataset}/labelers/{}/resume", labeler.user)) {
                                        input type="hidden" name="csrf" value=(web.csrf);
                                        button type="submit" { "Let go on" }
                                    }
                                } @else if labeler.flagged {
                                    strong.flag { "flagged" }
                                } @else { "ok" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The settings as a form: each part turned on by its box, its numbers prefilled (the defaults
/// while it is off).
fn settings_form(web: &Web, dataset: DatasetId, settings: &QualitySettings, ranking_questions: &[String]) -> Markup {
    let adaptive = settings.adaptive.clone().unwrap_or_else(|| AdaptiveSettings { question: ranking_questions.first().cloned().unwrap_or_default(), min: 2, max: 5, confidence: 0.85 });
    let gold = settings.gold.clone().unwrap_or_default();
    let repeats = settings.repeats.clone().unwrap_or(RepeatSettings { rate: 0.05 });
    html! {
        details.quality-settings {
            summary { "Change the settings" }
            form.stack method="post" action=(format!("/admin/datasets/{dataset}/quality")) {
                input type="hidden" name="csrf" value=(web.csrf);
                fieldset {
                    legend { label { input type="checkbox" name="adaptive" value="on" checked[settings.adaptive.is_some()]; " Adaptive overlap" } }
                    label { "Ranking question " select name="adaptive.question" { @for question in ranking_questions { option value=(question) selected[*question == adaptive.question] { (question) } } } }
                    label { "At least " input type="number" name="adaptive.min" min="1" value=(adaptive.min); " judgments" }
                    label { "At most " input type="number" name="adaptive.max" min="1" value=(adaptive.max); " judgments" }
                    label { "Until one side is this likely " input type="number" name="adaptive.confidence" step="0.01" min="0.51" max="0.99" value=(adaptive.confidence); }
                }
                fieldset {
                    legend { label { input type="checkbox" name="gold" value="on" checked[settings.gold.is_some()]; " Gold records" } }
                    label { "Share of each labeler's records " input type="number" name="gold.rate" step="0.01" min="0.01" max="0.5" value=(gold.rate); }
                    label { "Flag below this accuracy " input type="number" name="gold.threshold" step="0.01" min="0.01" max="0.99" value=(gold.threshold); }
                    label { "with this certainty " input type="number" name="gold.certainty" step="0.01" min="0.5" max="0.99" value=(gold.certainty); }
                    label { "after this many gold answers " input type="number" name="gold.min_answers" min="1" value=(gold.min_answers); }
                    label { input type="checkbox" name="gold.pause" value="on" checked[gold.pause]; " Pause flagged labelers" }
                }
                fieldset {
                    legend { label { input type="checkbox" name="repeats" value="on" checked[settings.repeats.is_some()]; " Swapped repeats" } }
                    label { "Share of each labeler's records " input type="number" name="repeats.rate" step="0.01" min="0.01" max="0.3" value=(repeats.rate); }
                }
                button type="submit" { "Save the settings" }
            }
        }
    }
}

/// `POST /admin/datasets/{id}/quality`: the settings form, as the API's JSON form, then back to
/// the quality page; settings that do not hold show why (422).
pub(super) async fn save(State(state): State<AppState>, web: Web, Path(id): Path<String>, body: Bytes) -> UiResult<Response> {
    let id: DatasetId = path_id(&id, "Dataset")?;
    let fields = form_fields(&body);
    web.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or_default())?;
    let number = |name: &str| fields.get(name).and_then(|text| text.trim().parse::<f64>().ok()).map_or(Value::Null, |value| json!(value));
    let whole = |name: &str| fields.get(name).and_then(|text| text.trim().parse::<u64>().ok()).map_or(Value::Null, |value| json!(value));
    let on = |name: &str| fields.get(name).is_some_and(|value| value == "on");
    let settings = json!({
        "adaptive": on("adaptive").then(|| json!({"question": fields.get("adaptive.question"), "min": whole("adaptive.min"), "max": whole("adaptive.max"), "confidence": number("adaptive.confidence")})),
        "gold": on("gold").then(|| json!({"rate": number("gold.rate"), "threshold": number("gold.threshold"), "certainty": number("gold.certainty"), "min_answers": whole("gold.min_answers"), "pause": on("gold.pause")})),
        "repeats": on("repeats").then(|| json!({"rate": number("repeats.rate")})),
    });
    state.app.set_dataset_quality(&web.caller, id, &settings).await?;
    Ok(Redirect::to(&format!("/admin/datasets/{id}/quality")).into_response())
}

/// `POST /admin/datasets/{id}/labelers/{user_id}/resume`: lets a paused labeler go on, then back
/// to the quality page.
pub(super) async fn resume(State(state): State<AppState>, web: Web, Path((id, user)): Path<(String, String)>, body: Bytes) -> UiResult<Response> {
    let id: DatasetId = path_id(&id, "Dataset")?;
    let user: UserId = path_id(&user, "User")?;
    web.check_csrf(form_fields(&body).get("csrf").map(String::as_str).unwrap_or_default())?;
    state.app.resume_labeler(&web.caller, id, user).await?;
    Ok(Redirect::to(&format!("/admin/datasets/{id}/quality")).into_response())
}
