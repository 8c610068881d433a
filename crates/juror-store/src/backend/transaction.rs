//! One open transaction of a backend, as the shared multi-statement writes (`tally.rs`,
//! `write.rs`) see it.

use async_trait::async_trait;
use juror_core::ids::RecordId;

use super::columns::Columns;
use super::sql::Statement;
use crate::error::StoreResult;

/// Statements run inside one transaction, which the backend commits or rolls back.
#[async_trait]
pub trait Transaction: Send {
    type Row: Columns + Send + Sync;

    /// A write; the rows it changed.
    async fn execute(&mut self, statement: Statement) -> StoreResult<u64>;
    /// A read, or a write's `RETURNING` rows.
    async fn fetch(&mut self, statement: Statement) -> StoreResult<Vec<Self::Row>>;
    /// Holds these records' rows until the transaction ends, so their claims and status are
    /// recounted by one writer at a time: a row lock on a store with concurrent writers, nothing
    /// on one whose writer is single. Locks are taken in id order, so two transactions never
    /// wait for each other in a circle.
    async fn lock_records(&mut self, records: &[RecordId]) -> StoreResult<()>;
    /// Makes transactions that name the same `key` take turns until this one ends (a
    /// labeler's answers in a dataset with a quota); nothing on a store whose writer is single.
    async fn take_turn(&mut self, key: &str) -> StoreResult<()>;
}

/// A transaction the shared code opened and must end: committed, or rolled back when dropped.
#[async_trait]
pub trait OpenTransaction: Transaction {
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
