//! The audit log page (owners): who changed users, roles, memberships, keys, datasets and
//! settings, newest first, a page of 100 at a time.

use axum::extract::{Query, State};
use maud::{html, Markup};
use serde::Deserialize;

use super::error::{UiError, UiResult};
use super::layout;
use super::session::Web;
use crate::AppState;

/// Entries on one page.
const PAGE: u64 = 100;

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    before: Option<u64>,
}

pub(super) async fn log(State(state): State<AppState>, web: Web, Query(query): Query<AuditQuery>) -> UiResult<Markup> {
    if !web.caller.is_owner() {
        return Err(UiError::Forbidden("The audit log is for owners.".into()));
    }
    let events = state.app.audit_log(&web.caller, query.before, PAGE).await?;
    let older = events.last().filter(|_| events.len() as u64 == PAGE).map(|oldest| oldest.sequence);
    Ok(layout::page(
        "Audit log",
        "admin-audit",
        &web,
        html! {
            h1 { "Audit log" }
            @if events.is_empty() {
                p { "Nothing recorded yet." }
            } @else {
                table.audit {
                    thead { tr { th { "When (UTC)" } th { "Who" } th { "What" } th { "On" } th { "Details" } } }
                    tbody {
                        @for event in &events {
                            tr {
                                td { (event.at.to_naive_iso()) }
                                td { (event.actor_name) }
                                td { code { (event.action.as_str()) } }
                                td { (event.target_kind) " " code { (event.target_id) } }
                                td { code { (serde_json::Value::Object(event.details.clone())) } }
                            }
                        }
                    }
                }
            }
            @if let Some(before) = older {
                p { a href=(format!("/admin/audit?before={before}")) { "Older entries" } }
            }
        },
    ))
}
