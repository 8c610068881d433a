//! How the web UI fails: a redirect to the login page, or an error page with the right status.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use juror_app::AppError;
use maud::html;

use super::layout;

/// A failed page request.
#[derive(Debug)]
pub(crate) enum UiError {
    /// No valid session: log in, then come back to `next`.
    Login { next: String },
    /// The form token is wrong or the page is not for this user.
    Forbidden(String),
    /// A use case refused or failed.
    App(AppError),
}

impl From<AppError> for UiError {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::Login { next } => {
                let target = format!("/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
                return Redirect::to(&target).into_response();
            }
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, message),
            Self::App(AppError::Unauthorized) => return Redirect::to("/login").into_response(),
            Self::App(AppError::Forbidden) => (StatusCode::FORBIDDEN, "You may not open this page.".to_owned()),
            Self::App(AppError::Unavailable(message)) => (StatusCode::INSUFFICIENT_STORAGE, message),
            Self::App(AppError::StorageDown(message)) => (StatusCode::SERVICE_UNAVAILABLE, message),
            Self::App(AppError::Refused(message)) => (StatusCode::FORBIDDEN, format!("Not saved: {message}.")),
            Self::App(AppError::NotFound(message)) => (StatusCode::NOT_FOUND, message),
            Self::App(AppError::Conflict(message)) => (StatusCode::CONFLICT, message),
            Self::App(AppError::Invalid(message) | AppError::MissingVector(message)) => (StatusCode::UNPROCESSABLE_ENTITY, message),
            Self::App(AppError::TooManyAttempts { retry_after }) => {
                let seconds = retry_after.as_secs().max(1);
                let page = layout::bare("Too many attempts", html! { p.flash.error { "Too many failed logins. Try again in " (seconds) " s." } p { a href="/login" { "Back to login" } } });
                return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds.to_string())], page).into_response();
            }
            Self::App(AppError::Internal(error)) => {
                tracing::error!(error = format!("{error:#}"), "page failed: {error:#}");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong; the error is in the server's log.".to_owned())
            }
        };
        let page = layout::bare("Juror", html! { p.flash.error { (message) } p { a href="/" { "Home" } } });
        (status, page).into_response()
    }
}

/// The result of a page handler.
pub(crate) type UiResult<T> = Result<T, UiError>;
