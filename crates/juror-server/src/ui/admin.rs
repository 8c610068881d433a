//! Admin pages (owners and admins): datasets with completion, and one dataset's per-labeler
//! progress, live leases and quality (agreement and bias; gold standings in `admin_gold.rs`).

use axum::extract::{Path, State};
use juror_app::{AppError, PreferenceReport, PreferenceRequest};
use juror_core::ids::DatasetId;
use juror_core::user::Role;
use juror_prefs::bias::{HasteFlag, RateTest};
use juror_prefs::pairs::{Binarization, TiePolicy};
use juror_prefs::resolve::Strategy;
use maud::{html, Markup};

use super::admin_gold;
use super::error::{UiError, UiResult};
use super::layout::{self, bar, share};
use super::session::Web;
use super::path_id;
use crate::AppState;

fn require_manager(web: &Web) -> UiResult<()> {
    if web.caller.user.role == Role::Annotator {
        return Err(UiError::Forbidden("Admin pages are for owners and admins.".into()));
    }
    Ok(())
}

/// Every dataset I manage, with its completion.
pub(super) async fn datasets(State(state): State<AppState>, web: Web) -> UiResult<Markup> {
    require_manager(&web)?;
    let app = &state.app;
    let mut rows = Vec::new();
    for dataset in app.my_datasets(&web.caller).await? {
        let progress = app.dataset_progress(&web.caller, dataset.id).await?;
        rows.push((dataset, progress));
    }
    Ok(layout::page(
        "Admin",
        "admin",
        &web,
        html! {
            h1 { "Datasets" }
            @if web.caller.is_owner() { p { a href="/admin/audit" { "Audit log" } } }
            table.datasets {
                thead { tr { th { "Dataset" } th { "Status" } th { "Labelers per record" } th { "Records" } th { "Completed" } th { "Labelers" } } }
                tbody {
                    @for (dataset, progress) in &rows {
                        tr {
                            td { a href=(format!("/admin/datasets/{}", dataset.id)) { (dataset.name) } }
                            td { (dataset.status.as_str()) }
                            td { (dataset.distribution.min_submitted()) }
                            td { (progress.total) }
                            td { (bar(share(progress.completed, progress.total), "completion")) " " (progress.completed) " (" (percent(share(progress.completed, progress.total))) ")" }
                            td { (progress.users.len()) }
                        }
                    }
                }
            }
        },
    ))
}

/// One dataset: completion, each labeler's progress and live leases, with a link to the quality
/// report (which reads every answer, so it is not computed on every visit to this page).
pub(super) async fn dataset(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> UiResult<Markup> {
    require_manager(&web)?;
    let id: DatasetId = path_id(&id, "Dataset")?;
    let app = &state.app;
    let dataset = app.get_dataset(&web.caller, id).await?;
    let progress = app.dataset_progress(&web.caller, id).await?;
    let labelers = app.users_progress(&web.caller, id).await?;
    let leases = app.list_leases(&web.caller, id).await?;
    Ok(layout::page(
        &dataset.name,
        "admin-dataset",
        &web,
        html! {
            h1 { (dataset.name) }
            p {
                (bar(share(progress.completed, progress.total), "completion"))
                " " strong { (progress.completed) } " of " (progress.total) " records completed (" (percent(share(progress.completed, progress.total))) "), "
                (dataset.distribution.min_submitted()) " submitted answers each; " (leases.len()) " records being labeled now."
            }
            h2 { "Labelers" }
            table.progress {
                thead { tr { th { "Labeler" } th { "Submitted" } th { "Draft" } th { "Discarded" } th { "Of which on completed records" } } }
                tbody {
                    @for labeler in &labelers {
                        tr {
                            td { (labeler.username) }
                            td { (labeler.completed.submitted + labeler.pending.submitted) }
                            td { (labeler.completed.draft + labeler.pending.draft) }
                            td { (labeler.completed.discarded + labeler.pending.discarded) }
                            td { (labeler.completed.submitted + labeler.completed.draft + labeler.completed.discarded) }
                        }
                    }
                }
            }
            h2 { "Quality" }
            p {
                a href=(format!("/admin/datasets/{id}/quality")) { "Agreement and bias report" }
                " (reads every submitted answer: a few seconds on a dataset of a hundred thousand records)"
            }
            p { a href=(format!("/review/datasets/{id}")) { "Disputed records" } " to settle with a final verdict" }
        },
    ))
}

/// A dataset's quality report: agreement, position and length bias, time on task, per labeler.
pub(super) async fn quality(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> UiResult<Markup> {
    require_manager(&web)?;
    let id: DatasetId = path_id(&id, "Dataset")?;
    let app = &state.app;
    let dataset = app.get_dataset(&web.caller, id).await?;
    let request = PreferenceRequest { question: None, prompt_field: None, strategy: Strategy::Majority, binarization: Binarization::AllPairs, ties: TiePolicy::Drop };
    let quality = match app.preference_pairs(&web.caller, id, &request).await {
        Ok(report) => Ok(report),
        Err(AppError::Invalid(message)) => Err(message),
        Err(error) => return Err(error.into()),
    };
    let settings = app.dataset_quality(&web.caller, id).await?;
    let gold_records = app.list_gold(&web.caller, id).await?.len();
    let labelers = app.labeler_quality(&web.caller, id).await?;
    let schema = app.get_schema(&web.caller, id).await?;
    let ranking_questions: Vec<String> = schema.questions.iter().filter(|question| matches!(question.settings, juror_core::question::QuestionSettings::Ranking { .. })).map(|question| question.name.clone()).collect();
    Ok(layout::page(
        &dataset.name,
        "admin-quality",
        &web,
        html! {
            h1 { "Quality of " a href=(format!("/admin/datasets/{id}")) { (dataset.name) } }
            @match &quality {
                Ok(report) => (quality_section(report)),
                Err(message) => p.muted { "No quality report: " (message) },
            }
            (admin_gold::section(&web, id, &settings, &ranking_questions, gold_records, &labelers))
        },
    ))
}

fn quality_section(report: &PreferenceReport) -> Markup {
    let number = |value: Option<f64>| value.map_or_else(|| "–".to_owned(), |value| format!("{value:.3}"));
    html! {
        p { (report.judgments) " submitted judgments on " (report.records_with_judgments) " records, question “" (report.settings.question) "”." }
        table.progress {
            tbody {
                tr { th { "Krippendorff's alpha (ordinal, pair verdicts)" } td { (number(report.alpha)) } }
                tr { th { "Pairwise percent agreement" } td { (number(report.percent_agreement)) } }
                tr { th { "First-shown response wins" } td { (rate(&report.position_bias.overall, "web UI judgments")) } }
                tr { th { "Longer response wins" } td { (rate(&report.length_bias.test, "pairs")) } }
                tr { th { "Records whose verdicts go round (A over B over C over A)" } td { (report.cycles) } }
                @if let Some(adaptive) = &report.quality.adaptive {
                    tr { th { "Judgments adaptive overlap saved" } td { (adaptive.saved) " of " (adaptive.fixed_at_max) " (a fixed overlap of the maximum)" } }
                }
                @if let Some(overall) = report.quality.overall_consistency {
                    tr { th { "Self-consistency on swapped repeats" } td { (percent(overall)) } }
                }
                tr { th { "Records settled by a reviewer" } td { (report.quality.adjudicated) } }
                @if let Some(model) = &report.reward_model {
                    tr { th { "Agreement with the reward model (" (model.agents.join(", ")) ")" } td { (percent(model.overall)) " of pairs on " (model.records) " records it was not trained on" } }
                }
            }
        }
        h3 { "Per labeler" }
        table.progress {
            thead { tr { th { "Labeler" } th { "Agreement with consensus" } th { "First-shown wins" } th { "Median time on task" } th { "Self-consistency" } @if report.reward_model.is_some() { th { "Agreement with the reward model" } } } }
            tbody {
                @for labeler in &report.labelers {
                    @let position = report.position_bias.labelers.iter().find(|row| row.labeler == labeler.username);
                    @let time = report.time_on_task.labelers.iter().find(|row| row.labeler == labeler.username);
                    tr {
                        td { (labeler.username) }
                        td { (percent(labeler.agreement)) " of " (labeler.compared) }
                        td { @if let Some(position) = position { (rate(&position.test, "")) } @else { "–" } }
                        td {
                            @if let Some(time) = time {
                                (format!("{:.1} s", time.median_ms / 1000.0))
                                @match time.flag {
                                    Some(HasteFlag::BelowFloor) => { " " strong.flag { "implausibly fast" } }
                                    Some(HasteFlag::FarBelowCrowd) => { " " strong.flag { "far faster than the others" } }
                                    None => {}
                                }
                            } @else { "–" }
                        }
                        td {
                            @match report.quality.consistency.iter().find(|row| row.username == labeler.username) {
                                Some(row) => { (percent(row.consistency)) " of " (row.repeats) " repeats" }
                                None => "–",
                            }
                        }
                        @if let Some(model) = &report.reward_model {
                            td {
                                @match model.labelers.iter().find(|row| row.username == labeler.username) {
                                    Some(row) => { (percent(row.agreement)) " of " (row.compared) " pairs" }
                                    None => "–",
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn rate(test: &RateTest, unit: &str) -> Markup {
    html! {
        @if test.observations == 0 { "–" } @else {
            (percent(test.rate)) " of " (test.observations) " " (unit) " (chance " (percent(test.expected)) ", z = " (format!("{:.1}", test.z)) ")"
            @if test.flagged { " " strong.flag { "biased" } }
        }
    }
}

pub(super) fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}
