//! My account: who I am, my API key (for the SDKs), and changing my password.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use juror_app::AppError;
use maud::html;

use super::error::UiResult;
use super::layout;
use super::session::{form_fields, Web};
use crate::AppState;

/// The account page.
pub(super) async fn show(web: Web) -> Response {
    account_page(&web, StatusCode::OK, None)
}

fn account_page(web: &Web, status: StatusCode, flash: Option<(&str, &str)>) -> Response {
    let user = &web.caller.user;
    let page = layout::page(
        "Account",
        "account",
        web,
        html! {
            h1 { "Account" }
            @if let Some((kind, message)) = flash { p class=(format!("flash {kind}")) role="alert" { (message) } }
            dl {
                dt { "Username" } dd { (user.username) }
                dt { "Name" } dd { (user.full_name()) }
                dt { "Role" } dd { (user.role.as_str()) }
                dt { "API key" } dd { code #api-key { (user.api_key) } }
            }
            p.muted { "The Argilla SDKs and the API take this key in the X-Argilla-Api-Key header." }
            h2 { "Change password" }
            form.stack method="post" action="/account/password" {
                input type="hidden" name="csrf" value=(web.csrf);
                label { "Current password" input type="password" name="current" autocomplete="current-password" required; }
                label { "New password (8 characters or more)" input type="password" name="new" autocomplete="new-password" minlength="8" required; }
                button.primary type="submit" { "Change password" }
            }
        },
    );
    (status, page).into_response()
}

/// Changes my password; my other sessions end.
pub(super) async fn change_password(State(state): State<AppState>, web: Web, body: Bytes) -> UiResult<Response> {
    let form = form_fields(&body);
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    web.check_csrf(field("csrf"))?;
    match state.app.change_password_in_session(&web.caller, &web.token, field("current"), field("new")).await {
        Ok(()) => Ok(account_page(&web, StatusCode::OK, Some(("ok", "Password changed. Your other sessions were logged out.")))),
        Err(AppError::Invalid(message)) => Ok(account_page(&web, StatusCode::UNPROCESSABLE_ENTITY, Some(("error", &message)))),
        Err(error) => Err(error.into()),
    }
}
