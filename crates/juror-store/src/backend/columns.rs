//! Reading a row's columns by type, the same way for every sqlx backend.

use sqlx_core::column::ColumnIndex;
use sqlx_core::decode::Decode;
use sqlx_core::row::Row;
use sqlx_core::types::Type;

use crate::error::StoreResult;

/// The column types Juror's schemas use: text (ids, names, JSON), 64-bit integers (times,
/// counts), booleans and bytes (vectors).
pub trait Columns {
    fn text(&self, index: usize) -> StoreResult<&str>;
    fn text_opt(&self, index: usize) -> StoreResult<Option<&str>>;
    fn int(&self, index: usize) -> StoreResult<i64>;
    fn int_opt(&self, index: usize) -> StoreResult<Option<i64>>;
    fn flag(&self, index: usize) -> StoreResult<bool>;
    fn bytes(&self, index: usize) -> StoreResult<&[u8]>;
}

impl<R> Columns for R
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> &'r [u8]: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, index: usize) -> StoreResult<&str> {
        Ok(self.try_get(index)?)
    }

    fn text_opt(&self, index: usize) -> StoreResult<Option<&str>> {
        Ok(self.try_get(index)?)
    }

    fn int(&self, index: usize) -> StoreResult<i64> {
        Ok(self.try_get(index)?)
    }

    fn int_opt(&self, index: usize) -> StoreResult<Option<i64>> {
        Ok(self.try_get(index)?)
    }

    fn flag(&self, index: usize) -> StoreResult<bool> {
        Ok(self.try_get(index)?)
    }

    fn bytes(&self, index: usize) -> StoreResult<&[u8]> {
        Ok(self.try_get(index)?)
    }
}
