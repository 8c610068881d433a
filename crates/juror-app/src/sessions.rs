//! Browser sessions for the web UI: log in with a password (throttled), find the session a
//! cookie names, log out, change the password.
//!
//! The cookie carries a random token; the store keeps only its SHA-256 digest. Each session has
//! its own form token (CSRF), which every state-changing request of the session must carry.

use std::time::{Duration, Instant};

use juror_core::time::Timestamp;
use juror_store::WebSession;

use crate::auth::{api_key_digest, generate_api_key, Caller};
use crate::error::{AppError, AppResult};
use crate::App;

/// How long a login lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A new login: the token for the cookie and the session's form token.
#[derive(Debug, Clone)]
pub struct SessionStart {
    pub token: String,
    pub csrf_token: String,
    pub caller: Caller,
}

/// A session a request belongs to.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub caller: Caller,
    pub csrf_token: String,
}

impl App {
    /// Checks the password and opens a session. Repeated failures for the username or from the
    /// client address make further attempts wait (`AppError::TooManyAttempts`).
    pub async fn start_session(&self, username: &str, password: &str, client: &str) -> AppResult<SessionStart> {
        let caller = self.throttled_login(username, password, Some(client)).await?;
        let (token, csrf_token) = (generate_api_key(), generate_api_key());
        let now = Timestamp::now();
        let session = WebSession {
            token_digest: api_key_digest(&token),
            user_id: caller.user.id,
            csrf_token: csrf_token.clone(),
            inserted_at: now,
            expires_at: Timestamp::from_micros(now.micros().saturating_add(SESSION_LIFETIME.as_micros() as i64)),
        };
        self.store.create_session(&session).await?;
        self.store.delete_expired_sessions(now).await?;
        Ok(SessionStart { token, csrf_token, caller })
    }

    /// Checks a password under the throttle: repeated failures for the username (and from the
    /// client address, when known) make later attempts wait.
    async fn throttled_login(&self, username: &str, password: &str, client: Option<&str>) -> AppResult<Caller> {
        // Usernames are at most 200 characters; longer ones cannot exist and would only grow
        // the throttle's memory.
        if username.chars().count() > 200 {
            return Err(AppError::Unauthorized);
        }
        let user_key = format!("user:{username}");
        let mut keys = vec![user_key.clone()];
        keys.extend(client.map(|client| format!("addr:{client}")));
        if let Some(wait) = self.login_throttle.wait(&keys, Instant::now()) {
            return Err(AppError::TooManyAttempts { retry_after: wait });
        }
        match self.login(username, password).await {
            Ok(caller) => {
                self.login_throttle.succeeded(&[user_key]);
                Ok(caller)
            }
            Err(error) => {
                self.login_throttle.failed(&keys, Instant::now());
                Err(error)
            }
        }
    }

    /// The unexpired session of this cookie token, or `Unauthorized`.
    pub async fn find_session(&self, token: &str) -> AppResult<ActiveSession> {
        let (session, user) = self.store.find_session(&api_key_digest(token), Timestamp::now()).await?.ok_or(AppError::Unauthorized)?;
        Ok(ActiveSession { caller: Caller { user }, csrf_token: session.csrf_token })
    }

    /// Ends the session of this cookie token, if any.
    pub async fn end_session(&self, token: &str) -> AppResult<()> {
        Ok(self.store.delete_session(&api_key_digest(token)).await?)
    }

    /// Changes the caller's password and ends their other sessions, keeping the one of `token`.
    /// The current password is checked under the login throttle.
    pub async fn change_password_in_session(&self, caller: &Caller, token: &str, current: &str, new_password: &str) -> AppResult<()> {
        match self.throttled_login(&caller.user.username, current, None).await {
            Ok(_) => {}
            Err(AppError::Unauthorized) => return Err(AppError::Invalid("the current password is wrong".into())),
            Err(error) => return Err(error),
        }
        self.set_own_password(caller, new_password).await?;
        let keep = api_key_digest(token);
        Ok(self.store.delete_user_sessions(caller.user.id, Some(&keep), Timestamp::now()).await?)
    }
}
