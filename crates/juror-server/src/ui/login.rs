//! Logging in and out.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use juror_app::{generate_api_key, AppError, SESSION_LIFETIME};
use maud::{html, Markup};
use serde::Deserialize;

use super::error::{UiError, UiResult};
use super::layout;
use super::session::{client_address, cookie, form_fields, local_path, over_https, same_secret, set_cookie, Web, LOGIN_COOKIE, SESSION_COOKIE};
use crate::AppState;

#[derive(Debug, Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

/// The login form, with a fresh form token in a cookie and a hidden field.
pub(super) async fn form(headers: HeaderMap, Query(query): Query<NextQuery>) -> Response {
    login_page(StatusCode::OK, query.next.as_deref(), None, over_https(&headers))
}

fn login_page(status: StatusCode, next: Option<&str>, problem: Option<&str>, secure: bool) -> Response {
    let token = generate_api_key();
    let page: Markup = layout::bare(
        "Log in",
        html! {
            h1 { "Log in" }
            @if let Some(problem) = problem { p.flash.error role="alert" { (problem) } }
            form.login method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(local_path(next));
                label { "Username" input type="text" name="username" autocomplete="username" required autofocus; }
                label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                button.primary type="submit" { "Log in" }
            }
        },
    );
    (status, [(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &token, "/login", 3600, secure))], page).into_response()
}

/// Checks the password and opens a session; wrong ones show the form again, repeated ones wait.
pub(super) async fn submit(State(state): State<AppState>, headers: HeaderMap, request_extensions: axum::http::Extensions, body: Bytes) -> UiResult<Response> {
    let form = form_fields(&body);
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let next = local_path(Some(field("next")));
    let secure = over_https(&headers);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !same_secret(field("csrf"), &expected) {
        return Ok(login_page(StatusCode::FORBIDDEN, Some(&next), Some("The login form expired. Please try again."), secure));
    }
    let client = client_address(&request_extensions, &headers, &state.trusted_proxies);
    match state.app.start_session(field("username").trim(), field("password"), &client).await {
        Ok(session) => {
            let cookies = AppendHeaders([
                (header::SET_COOKIE, set_cookie(SESSION_COOKIE, &session.token, "/", SESSION_LIFETIME.as_secs(), secure)),
                (header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", "/login", 0, secure)),
            ]);
            Ok((cookies, Redirect::to(&next)).into_response())
        }
        Err(AppError::Unauthorized) => Ok(login_page(StatusCode::UNAUTHORIZED, Some(&next), Some("Wrong username or password."), secure)),
        Err(error) => Err(UiError::App(error)),
    }
}

/// Ends the session.
pub(super) async fn logout(State(state): State<AppState>, web: Web, headers: HeaderMap, body: Bytes) -> UiResult<Response> {
    let form = form_fields(&body);
    web.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    state.app.end_session(&web.token).await?;
    Ok(([(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", "/", 0, over_https(&headers)))], Redirect::to("/login")).into_response())
}
