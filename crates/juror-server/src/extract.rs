//! Extractors that read requests the way Argilla's clients send them, failing with Argilla's
//! error bodies: the API-key caller, JSON bodies, id paths and repeated query parameters.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use juror_app::{AppError, Caller};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::AppState;

/// The authenticated caller, from `X-Argilla-Api-Key` (or a bearer API key).
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|value| value.to_str().ok());
        let key = header("x-argilla-api-key")
            .or_else(|| header("authorization").and_then(|value| value.strip_prefix("Bearer ")))
            .ok_or(ApiError::App(AppError::Unauthorized))?;
        Ok(Self(state.app.authenticate(key.trim()).await?))
    }
}

/// A JSON body; unknown keys are ignored, shape errors name the offending key.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::request(vec!["body".into()], "body_read", rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(Self)
    }
}

/// Reads a JSON document into `T`, reporting where it went wrong.
///
/// The common case parses once at full speed; only a failing body is parsed a second time, with
/// path tracking, to name the offending key.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let mut loc: Vec<Value> = vec!["body".into()];
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => loc.push((*index).into()),
                serde_path_to_error::Segment::Map { key } => loc.push(key.clone().into()),
                serde_path_to_error::Segment::Enum { variant } => loc.push(variant.clone().into()),
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        let inner = error.into_inner();
        let kind = if inner.is_syntax() || inner.is_eof() { "json_invalid" } else { "value_error" };
        ApiError::request(loc, kind, inner.to_string())
    })
}

/// One id taken from the path; a malformed id is a 422 that names the parameter.
pub struct PathId<T>(pub T);

impl<T: FromStr + Send> FromRequestParts<AppState> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::request(vec!["path".into()], "missing", rejection.body_text()))?;
        let (name, text) = params.into_iter().next().ok_or_else(|| ApiError::request(vec!["path".into()], "missing", "missing path id"))?;
        parse_id(&name, &text).map(Self)
    }
}

/// Two ids taken from the path, in order.
pub struct PathIds<A, B>(pub A, pub B);

impl<A: FromStr + Send, B: FromStr + Send> FromRequestParts<AppState> for PathIds<A, B> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::request(vec!["path".into()], "missing", rejection.body_text()))?;
        match params.as_slice() {
            [(first_name, first), (second_name, second)] => Ok(Self(parse_id(first_name, first)?, parse_id(second_name, second)?)),
            _ => Err(ApiError::request(vec!["path".into()], "missing", "expected two path ids")),
        }
    }
}

/// Parses an id, or fails with a 422 naming `name`.
pub fn parse_id<T: FromStr>(name: &str, text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::request(vec!["path".into(), name.into()], "uuid_parsing", format!("Input should be a valid UUID, got `{text}`")))
}

/// Query parameters in order, with repeats kept (`include=a&include=b`).
pub struct QueryParams(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        Ok(Self(form_urlencoded::parse(query.as_bytes()).into_owned().collect()))
    }
}

impl QueryParams {
    /// Every value given for `name`.
    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_owned();
        self.0.iter().filter(move |(key, _)| *key == name).map(|(_, value)| value.as_str())
    }

    /// The first value given for `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.all(name).next()
    }

    /// Ids given as `name=a,b&name=c`, in order.
    pub fn ids<T: FromStr>(&self, name: &str) -> Result<Vec<T>, ApiError> {
        self.all(name)
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| parse_id(name, text))
            .collect()
    }

    /// A boolean parameter (`true` or `false`), or its default when absent.
    pub fn boolean(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.first(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(text) => Err(ApiError::request(vec!["query".into(), name.into()], "bool_parsing", format!("Input should be `true` or `false`, got `{text}`"))),
        }
    }

    /// An integer parameter within bounds, or its default when absent.
    pub fn integer(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64, ApiError> {
        let Some(text) = self.first(name) else { return Ok(default) };
        let value: u64 = text
            .parse()
            .map_err(|_| ApiError::request(vec!["query".into(), name.into()], "int_parsing", format!("Input should be a valid integer, got `{text}`")))?;
        if value < min || value > max {
            return Err(ApiError::request(vec!["query".into(), name.into()], "out_of_range", format!("{name} must be between {min} and {max}, got {value}")));
        }
        Ok(value)
    }
}
