//! When to try a request again and how long to wait first.

use std::time::Duration;

/// Retries with exponential backoff and full jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; each retry doubles it.
    pub base: Duration,
    /// The longest backoff (and the longest `Retry-After` honoured).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 6, base: Duration::from_millis(500), max_delay: Duration::from_secs(60) }
    }
}

/// What a failed attempt calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again after a backoff.
    Retry,
    /// Try again after the server's `Retry-After`, when it gave one.
    RetryAfter(Option<Duration>),
    /// Give up: retrying cannot help (a bad request, a wrong model, bad credentials).
    Fatal,
}

/// The verdict for an HTTP status.
pub fn classify(status: u16, retry_after: Option<Duration>) -> Verdict {
    match status {
        429 => Verdict::RetryAfter(retry_after),
        408 | 409 | 425 | 500..=599 => Verdict::Retry,
        _ => Verdict::Fatal,
    }
}

/// Reads a `Retry-After` header given in seconds (the form model servers use).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based), `jitter` drawn uniformly from [0, 1).
    ///
    /// A server's `Retry-After` is honoured as given (capped at `max_delay`); otherwise the
    /// backoff is `base * 2^retry`, capped, scaled by the jitter so that clients that failed
    /// together do not retry together. The wait is never below a tenth of the backoff.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let backoff = self.base.saturating_mul(1u32 << retry.min(20)).min(self.max_delay);
        backoff.mul_f64(0.1 + 0.9 * jitter.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_and_throttling_are_retried_client_errors_are_not() {
        assert_eq!(classify(503, None), Verdict::Retry);
        assert_eq!(classify(500, None), Verdict::Retry);
        assert_eq!(classify(429, Some(Duration::from_secs(2))), Verdict::RetryAfter(Some(Duration::from_secs(2))));
        assert_eq!(classify(404, None), Verdict::Fatal);
        assert_eq!(classify(400, None), Verdict::Fatal);
        assert_eq!(classify(401, None), Verdict::Fatal);
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let policy = RetryPolicy { max_retries: 10, base: Duration::from_millis(500), max_delay: Duration::from_secs(4) };
        assert_eq!(policy.delay(0, None, 1.0), Duration::from_millis(500));
        assert_eq!(policy.delay(2, None, 1.0), Duration::from_secs(2));
        assert_eq!(policy.delay(9, None, 1.0), Duration::from_secs(4));
        assert_eq!(policy.delay(2, None, 0.0), Duration::from_millis(200));
        assert_eq!(policy.delay(0, Some(Duration::from_secs(3)), 0.5), Duration::from_secs(3));
        assert_eq!(policy.delay(0, Some(Duration::from_secs(30)), 0.5), Duration::from_secs(4));
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
