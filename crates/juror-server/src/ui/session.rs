//! Who is using the browser: the session cookie, the login form's token, and the per-session
//! form token (CSRF) that every state-changing request must carry.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use juror_app::Caller;
use subtle::ConstantTimeEq;

use super::error::UiError;
use crate::AppState;

/// The cookie holding the session token.
pub(crate) const SESSION_COOKIE: &str = "juror_session";
/// The cookie holding the login form's token (before there is a session).
pub(crate) const LOGIN_COOKIE: &str = "juror_login";

/// A logged-in browser: the user, the session's form token and the cookie's token.
pub(crate) struct Web {
    pub caller: Caller,
    pub csrf: String,
    pub token: String,
}

impl Web {
    /// Fails unless `given` is this session's form token.
    pub(crate) fn check_csrf(&self, given: &str) -> Result<(), UiError> {
        if same_secret(given, &self.csrf) {
            Ok(())
        } else {
            Err(UiError::Forbidden("This form has expired. Reload the page and try again.".into()))
        }
    }
}

impl FromRequestParts<AppState> for Web {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || UiError::Login { next: parts.uri.path_and_query().map_or_else(|| "/".to_owned(), ToString::to_string) };
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_login)?;
        let session = state.app.find_session(&token).await.map_err(|_| to_login())?;
        Ok(Self { caller: session.caller, csrf: session.csrf_token, token })
    }
}

/// The client's address, for slowing down password guessing: the peer's, or when the peer is a
/// trusted proxy, the nearest address in `X-Forwarded-For` that is not itself a trusted proxy
/// (addresses further left were written by the client and prove nothing). "unknown" when not
/// served over TCP.
pub(crate) fn client_address(parts_extensions: &axum::http::Extensions, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> String {
    let Some(peer) = parts_extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()) else { return "unknown".to_owned() };
    let forwarded: Vec<&str> = headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).collect();
    forwarded_client(peer, &forwarded.join(","), trusted_proxies).to_string()
}

fn forwarded_client(peer: IpAddr, forwarded_for: &str, trusted_proxies: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    for hop in forwarded_for.rsplit(',') {
        if !trusted_proxies.contains(&client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(address) => client = address,
            Err(_) => break,
        }
    }
    client
}

/// The value of one cookie of the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax, for `max_age` seconds (0 removes it);
/// `Secure` when the request came over HTTPS (through a proxy that says so).
pub(crate) fn set_cookie(name: &str, value: &str, path: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// Whether the browser reached us over HTTPS: a TLS-terminating proxy sets `X-Forwarded-Proto`.
pub(crate) fn over_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|value| value.to_str().ok()).is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// The fields of a url-encoded form, by name (the last value of a repeated name wins).
pub(crate) fn form_fields(body: &[u8]) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Compares two secrets in constant time.
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// Where to go after logging in: a local path, never another site. Browsers drop tabs and line
/// breaks from URLs, so any control character (or a backslash) makes the path unsafe.
pub(crate) fn local_path(next: Option<&str>) -> String {
    let safe = |path: &str| {
        path.starts_with('/')
            && !path.starts_with("//")
            && path.len() <= 2000
            && !path.chars().any(|character| character == '\\' || character.is_control() || character.is_whitespace())
    };
    match next {
        Some(path) if safe(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // No proxy trusted: the header is the client's own word.
        assert_eq!(forwarded_client(ip("203.0.113.9"), "1.2.3.4", &[]), ip("203.0.113.9"));
        // A trusted proxy: the address it saw, not what the client claimed before it.
        assert_eq!(forwarded_client(ip("10.0.0.1"), "6.6.6.6, 198.51.100.7", &proxies), ip("198.51.100.7"));
        // Two trusted proxies in a row.
        assert_eq!(forwarded_client(ip("10.0.0.1"), "6.6.6.6, 198.51.100.7, 10.0.0.2", &proxies), ip("198.51.100.7"));
        // A peer that is not trusted cannot speak for others.
        assert_eq!(forwarded_client(ip("198.51.100.7"), "6.6.6.6", &proxies), ip("198.51.100.7"));
        // A trusted proxy without a usable header is the client as far as we know.
        assert_eq!(forwarded_client(ip("10.0.0.1"), "", &proxies), ip("10.0.0.1"));
        assert_eq!(forwarded_client(ip("10.0.0.1"), "garbage", &proxies), ip("10.0.0.1"));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; juror_session=tok; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(local_path(Some("/datasets/1")), "/datasets/1");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(Some("/\t/evil.example")), "/");
        assert_eq!(local_path(Some("/\n")), "/");
        assert_eq!(local_path(Some("/datasets/1?view=draft")), "/datasets/1?view=draft");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("", ""));
    }
}
