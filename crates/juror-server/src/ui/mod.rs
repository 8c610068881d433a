//! The labeling web UI: server-rendered pages over the same use cases as the API.
//!
//! Pages are plain HTML forms that work without JavaScript; `assets/app.js` adds the keyboard,
//! drag and drop, autosave and differences. Sessions are cookies (see `session`), every POST
//! carries the session's form token, and every page is sent with a strict Content-Security-Policy,
//! so model outputs rendered from markdown can never run code.
//!
//! - `login`: log in and out.
//! - `home`: my datasets with progress, one dataset's page with my answers by status, the queue.
//! - `record`: the annotation page, its form, and the differences between responses.
//! - `account`: my API key and password.
//! - `admin`: datasets with completion, per-labeler progress, and the quality report on its own
//!   page (owners and admins).
//! - `audit`: the audit log (owners).

mod account;
mod admin;
mod admin_gold;
mod answer_form;
mod assets;
mod audit;
mod diff;
mod error;
mod home;
mod layout;
mod login;
pub(crate) mod markdown;
mod record;
mod record_page;
mod review;
mod session;

use std::str::FromStr;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

pub(crate) use error::{UiError, UiResult};

use crate::AppState;

/// What the browser may load and run on a UI page: only Juror's own assets.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit).layer(DefaultBodyLimit::max(crate::MAX_LOGIN_BODY_BYTES)))
        .route("/logout", post(login::logout))
        .route("/", get(home::datasets))
        .route("/datasets/{id}", get(home::dataset))
        .route("/datasets/{id}/next", get(home::start).post(home::next))
        .route("/records/{id}", get(record::show).post(record::answer))
        .route("/records/{id}/diff", get(record::differences))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/admin", get(admin::datasets))
        .route("/admin/datasets/{id}", get(admin::dataset))
        .route("/admin/datasets/{id}/quality", get(admin::quality).post(admin_gold::save))
        .route("/admin/datasets/{id}/labelers/{user_id}/resume", post(admin_gold::resume))
        .route("/admin/audit", get(audit::log))
        .route("/review/datasets/{id}", get(review::queue))
        .route("/review/records/{id}", get(review::record).post(review::decide))
        .layer(DefaultBodyLimit::max(crate::MAX_FORM_BODY_BYTES))
        .layer(middleware::map_response(secure_headers))
        .merge(assets::router())
}

async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// An id from a page path; a malformed one is simply not found.
pub(crate) fn path_id<T: FromStr>(text: &str, entity: &str) -> UiResult<T> {
    text.parse().map_err(|_| UiError::App(juror_app::AppError::NotFound(format!("{entity} `{text}` not found"))))
}
