//! The quality page's part on quality control while collecting (owners and admins): the
//! dataset's settings, and each labeler's standing by their gold answers, with a button that lets
//! a paused labeler go on.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use juror_app::LabelerQuality;
use juror_core::ids::{DatasetId, UserId};
use juror_core::quality::QualitySettings;
use maud::{html, Markup};

use super::admin::percent;
use super::error::UiResult;
use super::session::{form_fields, Web};
use super::path_id;
use crate::AppState;

/// The settings in a sentence each, and the labelers' gold standings.
pub(super) fn section(web: &Web, dataset: DatasetId, settings: &QualitySettings, gold_records: usize, labelers: &[LabelerQuality]) -> Markup {
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

/// `POST /admin/datasets/{id}/labelers/{user_id}/resume`: lets a paused labeler go on, then back
/// to the quality page.
pub(super) async fn resume(State(state): State<AppState>, web: Web, Path((id, user)): Path<(String, String)>, body: Bytes) -> UiResult<Response> {
    let id: DatasetId = path_id(&id, "Dataset")?;
    let user: UserId = path_id(&user, "User")?;
    web.check_csrf(form_fields(&body).get("csrf").map(String::as_str).unwrap_or_default())?;
    state.app.resume_labeler(&web.caller, id, user).await?;
    Ok(Redirect::to(&format!("/admin/datasets/{id}/quality")).into_response())
}
