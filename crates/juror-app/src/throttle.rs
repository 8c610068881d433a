//! Slows down password guessing: after a few failed logins for the same key (a username, a client
//! address), further attempts are refused for a while that doubles with every failure.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before attempts are refused.
const FREE_FAILURES: u32 = 5;
/// The first refusal's length; each further failure doubles it.
const FIRST_LOCKOUT: Duration = Duration::from_secs(1);
/// The longest refusal.
const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Keys kept before old ones are pruned; past twice this, the oldest go first.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failed logins per key.
#[derive(Debug, Default)]
pub(crate) struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// How long attempts for any of `keys` must still wait; `None` when they may go ahead.
    pub(crate) fn wait(&self, keys: &[String], now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().ok()?;
        keys.iter().filter_map(|key| failures.get(key)).filter_map(|entry| remaining(*entry, now)).max()
    }

    /// Counts a failed attempt against every key.
    pub(crate) fn failed(&self, keys: &[String], now: Instant) {
        let Ok(mut failures) = self.failures.lock() else { return };
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, entry| now.saturating_duration_since(entry.last) < FORGET_AFTER);
        }
        if failures.len() >= 2 * MAX_KEYS {
            // Still full of recent failures (many addresses at once): keep the newest half.
            let mut ages: Vec<Instant> = failures.values().map(|entry| entry.last).collect();
            ages.sort_unstable();
            let cutoff = ages[ages.len() / 2];
            failures.retain(|_, entry| entry.last > cutoff);
        }
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert(Failures { count: 0, last: now });
            if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
                entry.count = 0;
            }
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
    }

    /// Forgets the failures of these keys after a successful login (the username's only: an
    /// address's failures must not be wiped by logging into one's own account in between).
    pub(crate) fn succeeded(&self, keys: &[String]) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in keys {
                failures.remove(key);
            }
        }
    }
}

/// How long after its last failure a key stays refused.
fn lockout(count: u32) -> Duration {
    if count < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (count - FREE_FAILURES).min(20);
    FIRST_LOCKOUT.saturating_mul(1 << doublings).min(MAX_LOCKOUT)
}

fn remaining(entry: Failures, now: Instant) -> Option<Duration> {
    let elapsed = now.saturating_duration_since(entry.last);
    if elapsed >= FORGET_AFTER {
        return None;
    }
    lockout(entry.count).checked_sub(elapsed).filter(|left| !left.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(name: &str) -> Vec<String> {
        vec![format!("user:{name}"), "addr:127.0.0.1".to_owned()]
    }

    #[test]
    fn a_few_failures_are_free_then_the_wait_doubles() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            throttle.failed(&keys("ann"), start);
            assert_eq!(throttle.wait(&keys("ann"), start), None);
        }
        throttle.failed(&keys("ann"), start);
        assert_eq!(throttle.wait(&keys("ann"), start), Some(Duration::from_secs(1)));
        throttle.failed(&keys("ann"), start);
        assert_eq!(throttle.wait(&keys("ann"), start), Some(Duration::from_secs(2)));
        assert_eq!(throttle.wait(&keys("ann"), start + Duration::from_millis(1500)), Some(Duration::from_millis(500)));
        assert_eq!(throttle.wait(&keys("ann"), start + Duration::from_secs(2)), None);
    }

    #[test]
    fn the_wait_is_capped_and_old_failures_are_forgotten() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..40 {
            throttle.failed(&keys("bob"), start);
        }
        assert_eq!(throttle.wait(&keys("bob"), start), Some(MAX_LOCKOUT));
        assert_eq!(throttle.wait(&keys("bob"), start + FORGET_AFTER), None);
    }

    #[test]
    fn any_shared_key_is_enough_and_success_clears_the_keys() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES {
            throttle.failed(&keys("carl"), now);
        }
        // Another username from the same address waits too: guessing across accounts is slowed.
        assert!(throttle.wait(&keys("dora"), now).is_some());
        assert_eq!(throttle.wait(&["user:dora".to_owned()], now), None);
        throttle.succeeded(&["user:carl".to_owned()]);
        assert_eq!(throttle.wait(&["user:carl".to_owned()], now), None);
        assert!(throttle.wait(&keys("dora"), now).is_some(), "the address still waits");
    }
}
