//! The one place where failures become HTTP statuses and Argilla's error bodies.

use std::any::Any;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use juror_app::AppError;
use serde_json::{json, Value};

/// A failed request: a use-case error, or a request that could not be read.
#[derive(Debug)]
pub enum ApiError {
    /// A use case refused or failed.
    App(AppError),
    /// The body, query or path did not have the expected shape.
    Request { loc: Vec<Value>, kind: &'static str, message: String },
    /// The body is larger than the server accepts.
    TooLarge,
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl ApiError {
    /// A request-shape error at `loc` (e.g. `["body", "name"]`).
    pub fn request(loc: Vec<Value>, kind: &'static str, message: impl Into<String>) -> Self {
        Self::Request { loc, kind, message: message.into() }
    }

    /// A domain-rule error with a plain message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::App(AppError::Invalid(message.into()))
    }
}

fn coded(code: &str, params: Value) -> Value {
    json!({"detail": {"code": format!("argilla.api.errors::{code}"), "params": params}})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::App(AppError::Unauthorized) => {
                (StatusCode::UNAUTHORIZED, coded("UnauthorizedError", json!({"detail": "Could not validate credentials"})))
            }
            Self::App(AppError::Forbidden) => {
                (StatusCode::FORBIDDEN, coded("ForbiddenOperationError", json!({"detail": "Operation not allowed"})))
            }
            Self::App(AppError::Refused(message)) => (StatusCode::FORBIDDEN, coded("ForbiddenOperationError", json!({"detail": message}))),
            Self::App(AppError::Unavailable(message)) => (StatusCode::INSUFFICIENT_STORAGE, json!({"detail": message})),
            Self::App(AppError::StorageDown(message)) => (StatusCode::SERVICE_UNAVAILABLE, json!({"detail": message})),
            Self::App(AppError::NotFound(message)) => (StatusCode::NOT_FOUND, json!({"detail": message})),
            Self::App(AppError::Conflict(message)) => (StatusCode::CONFLICT, json!({"detail": message})),
            Self::App(AppError::Invalid(message)) => (StatusCode::UNPROCESSABLE_ENTITY, json!({"detail": message})),
            Self::App(AppError::MissingVector(message)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, json!({"code": "missing_vector", "message": message}))
            }
            Self::App(AppError::TooManyAttempts { retry_after }) => {
                let seconds = retry_after.as_secs().max(1);
                let body = json!({"detail": format!("Too many failed attempts; try again in {seconds} s")});
                return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds.to_string())], Json(body)).into_response();
            }
            Self::App(AppError::Internal(error)) => {
                tracing::error!(error = format!("{error:#}"), "request failed: {error:#}");
                (StatusCode::INTERNAL_SERVER_ERROR, internal_body())
            }
            Self::Request { loc, kind, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                coded("ValidationError", json!({"errors": [{"type": kind, "loc": loc, "msg": message}]})),
            ),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, json!({"detail": "Request body is too large"})),
        };
        (status, Json(body)).into_response()
    }
}

fn internal_body() -> Value {
    coded("GenericServerError", json!({"type": "InternalError", "message": "Something went wrong", "args": []}))
}

/// The answer to a handler that panicked: a 500 like any other, with the cause logged.
pub(crate) fn panic_response(cause: Box<dyn Any + Send + 'static>) -> Response {
    let detail = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked: {detail}");
    (StatusCode::INTERNAL_SERVER_ERROR, Json(internal_body())).into_response()
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
