//! How a backend runs a shared [`Statement`]: it binds the parameters and sends it (to its
//! writer or a reader, in its placeholder style); the provided methods turn the answer into
//! what the trait methods return.

use async_trait::async_trait;

use super::columns::Columns;
use super::sql::Statement;
use crate::error::{StoreError, StoreResult};

/// Runs statements outside any transaction of the caller's, each on its own.
#[async_trait]
pub trait Run: Send + Sync {
    type Row: Columns + Send + Sync;

    /// A write; the rows it changed. `RETURNING` rows are dropped.
    async fn write(&self, statement: Statement) -> StoreResult<u64>;
    /// A write whose `RETURNING` rows are wanted.
    async fn write_returning(&self, statement: Statement) -> StoreResult<Vec<Self::Row>>;
    /// A read.
    async fn read(&self, statement: Statement) -> StoreResult<Vec<Self::Row>>;

    /// A write that must change exactly one row: `NotFound` when it changed none.
    async fn write_one(&self, statement: Statement) -> StoreResult<()> {
        expect_one(self.write(statement).await?)
    }

    /// A write whose `RETURNING` row is decoded.
    async fn write_returning_one<T: Send, D: Fn(&Self::Row) -> StoreResult<T> + Send>(&self, statement: Statement, decode: D) -> StoreResult<T> {
        self.write_returning(statement).await?.first().map_or(Err(StoreError::NotFound), &decode)
    }

    /// The first row, decoded, if any.
    async fn read_optional<T: Send, D: Fn(&Self::Row) -> StoreResult<T> + Send>(&self, statement: Statement, decode: D) -> StoreResult<Option<T>> {
        self.read(statement).await?.first().map(&decode).transpose()
    }

    /// The first row, decoded; a read that returns none is a bug in its SQL.
    async fn read_one<T: Send, D: Fn(&Self::Row) -> StoreResult<T> + Send>(&self, statement: Statement, decode: D) -> StoreResult<T> {
        self.read_optional(statement, decode).await?.ok_or_else(|| StoreError::Other("a query that always returns a row returned none".into()))
    }

    /// Every row, decoded.
    async fn read_all<T: Send, D: Fn(&Self::Row) -> StoreResult<T> + Send>(&self, statement: Statement, decode: D) -> StoreResult<Vec<T>> {
        self.read(statement).await?.iter().map(&decode).collect()
    }
}

/// Turns "no row changed" into `NotFound`.
pub fn expect_one(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
