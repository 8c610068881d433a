//! Running a transaction again when the database aborted it for contention (a deadlock or a
//! serialization failure): nothing of it was written, so running it again is safe.

use std::future::Future;

use crate::error::{StoreError, StoreResult};

/// How many times a transaction is run before its contention is reported (as a 503).
pub const ATTEMPTS: usize = 8;

/// Runs `step` (one whole transaction) until it does not fail with `Contention`, at most
/// [`ATTEMPTS`] times.
pub async fn retried<T, F, Fut>(mut step: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match step().await {
            Err(StoreError::Contention(_)) if attempt < ATTEMPTS => {}
            outcome => return outcome,
        }
    }
}
