//! Authentication: API keys and passwords, and the caller a request acts as.


use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use juror_core::user::{Role, User};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{AppError, AppResult};
use crate::App;

/// The authenticated user a use case acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
}

impl Caller {
    /// True for owners.
    pub fn is_owner(&self) -> bool {
        self.user.role == Role::Owner
    }

    /// Whether `user`'s API key may be shown to this caller: only to the user and to owners
    /// (anyone who reads a key can act as its user).
    pub fn may_see_api_key_of(&self, user: &User) -> bool {
        self.is_owner() || self.user.id == user.id
    }
}

/// A new random API key: 32 bytes from the OS, URL-safe base64.
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The digest an API key is looked up by; the key itself is never used as an index.
pub(crate) fn api_key_digest(api_key: &str) -> String {
    Sha256::digest(api_key.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// An argon2id hash of the password, with a random salt.
pub(crate) fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::Internal(anyhow::anyhow!("failed to hash password: {error}")))
}

pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

impl App {
    /// The caller holding `api_key`, or `Unauthorized`.
    pub async fn authenticate(&self, api_key: &str) -> AppResult<Caller> {
        let digest = api_key_digest(api_key);
        let user = match self.auth_cache.get(&digest) {
            Some(user) => user,
            None => {
                let user = self.store.find_user_by_api_key_digest(&digest).await?.ok_or(AppError::Unauthorized)?;
                self.auth_cache.put(digest, user.clone());
                user
            }
        };
        // The digest found the row; the key itself is still compared in constant time.
        if bool::from(user.api_key.as_bytes().ct_eq(api_key.as_bytes())) {
            Ok(Caller { user })
        } else {
            Err(AppError::Unauthorized)
        }
    }

    /// The caller with this username and password, or `Unauthorized`. The hash runs on a
    /// blocking thread: argon2 takes tens of milliseconds of CPU by design.
    pub async fn login(&self, username: &str, password: &str) -> AppResult<Caller> {
        let user = self.store.find_user_by_username(username).await?;
        let hash = user.as_ref().map(|user| user.password_hash.clone());
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || match hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                // Spend the same time as a wrong password so usernames cannot be probed.
                let _ = hash_password(&password);
                false
            }
        })
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("password check failed: {error}")))?;
        match user {
            Some(user) if verified => Ok(Caller { user }),
            _ => Err(AppError::Unauthorized),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_long_random_and_distinct() {
        let (first, second) = (generate_api_key(), generate_api_key());
        assert_eq!(first.len(), 43);
        assert_ne!(first, second);
        assert_eq!(api_key_digest("argilla.apikey").len(), 64);
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct-horse").unwrap();
        assert!(verify_password("correct-horse", &hash));
        assert!(!verify_password("wrong-horse", &hash));
    }
}
