//! Juror's storage seam: the `Store` trait, and its SQLite implementation.
//!
//! The trait speaks domain types only; no `sqlx` type crosses it. Use cases validate first and
//! then call one store method per change, and each method is one transaction: a bulk write is
//! stored whole or not at all. Record statuses are recomputed inside the same transaction as the
//! responses that change them, so a reader never sees a completed record without its answers.

mod error;
mod sqlite;
mod store;

pub use error::{StoreError, StoreResult};
pub use sqlite::{check_database, DatabaseSummary, SqliteStore, SqliteStoreOptions};
pub use store::{
    AuditStore, DatasetProgress, DatasetStore, DistributionStore, Lease, LeaseRequest, RecordCursor, RecordInclude, RecordPage, RecordScan,
    RecordStore, RecordWriteBatch, ResponseCounts, ResponseStore, SessionStore, Store, SuggestionsMode, UserChanges, UserProgressRow, UserStore,
    WebSession,
};
