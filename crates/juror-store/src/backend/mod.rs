//! What the sqlx backends share, so each backend is only what differs (its connections,
//! placeholder style, locks, the labeling loop's fast path and migrations): every `Store`
//! trait is implemented once for any [`SqlBackend`], from
//! - statements as data ([`sql`]) and those both run as they are ([`crud`]), which a backend
//!   runs through [`Run`], or inside one of its transactions through [`Transaction`];
//! - the reads of several statements ([`read`]) and the writes ([`write`]), and the recount of
//!   record status and claims by the rules in `juror_core::distribution` ([`tally`]), with
//!   quality control's targets and gold standing ([`quality`]);
//! - reading columns by type ([`Columns`]) and rows into domain types ([`rows`]);
//! - webhooks and their delivery queue ([`webhooks`]);
//! - copying a whole installation between backends, table by table ([`copy`]).

mod columns;
pub mod copy;
pub mod crud;
pub mod quality;
pub mod repeats;
pub mod read;
pub mod rows;
mod retry;
mod run;
pub mod sql;
mod sql_store;
pub mod tally;
mod transaction;
pub mod webhooks;
pub mod write;

pub use columns::Columns;
pub use retry::{retried, ATTEMPTS};
pub use run::{expect_one, Run};
pub use sql::{Param, Statement};
pub use sql_store::SqlBackend;
pub use transaction::{OpenTransaction, Transaction};
