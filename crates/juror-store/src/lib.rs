//! Juror's storage seam: the `Store` trait, its errors, and the conformance story every backend
//! must pass.
//!
//! The trait speaks domain types only; no database type crosses it. Use cases validate first
//! and then call one store method per change, and each method is one transaction: a bulk write
//! is stored whole or not at all. Record statuses and claims are recounted inside the same
//! transaction as the responses and leases that change them (by the rules in
//! `juror_core::distribution`), so a reader never sees a completed record without its answers.
//!
//! Backends live in their own crates (`juror-store-sqlite`, `juror-store-postgres`); with the
//! `sqlx` feature, sqlx's errors convert into [`StoreError`] by their kind and `backend` holds
//! the row decoding they share.

#[cfg(feature = "sqlx")]
pub mod backend;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod store;

pub use error::{StoreError, StoreResult, UniqueKey};
pub use store::{
    Adjudication, AuditStore, DatasetProgress, DatasetStore, DistributionStore, GoldStanding, Lease, Lifecycle, LeaseRequest, RecordCursor, RecordInclude, RecordPage, RecordScan,
    QualityStore, RecordStore, Repeat, RecordWriteBatch, ResponseCounts, ResponseStore, SessionStore, Store, StoreStats, SuggestionsMode, UserChanges, UserProgressRow, UserStore,
    WebSession, WebhookStore,
};
