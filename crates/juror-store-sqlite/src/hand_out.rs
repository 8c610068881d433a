//! The next-record hand-out on SQLite, run by the group-commit writer (`hot.rs`).
//!
//! The decision is `juror_core::distribution::Asker::decide`; this module gathers what it needs
//! and writes what it decided, in two round trips to the writer's thread:
//! 1. reclaim expired leases, extend the labeler's own lease if they hold one, and read their
//!    quota, the first eligible record, not skipped or else skipped (the rule's order,
//!    `Candidate::priority`, as one index walk on `records_open`), and the dataset's quality
//!    settings; where gold records are on, one more round trip for the labeler's gold standing
//!    and the gold record due to them (`juror_store::backend::quality`);
//! 2. lease the record chosen (one more claim on it, its skip forgotten) and read the lease back
//!    with the record, the labeler's own response to it and its suggestions.
//!
//! Everything runs on the single writer, so hand-outs are serialised and a record's claims
//! never pass its target.

use juror_core::distribution::{Asker, HandOut};
use juror_core::ids::RecordId;
use juror_core::record::{Record, RecordRelations};
use sqlx::{Row, SqliteConnection};

use juror_store::backend::rows::{self, RECORD_COLUMNS};
use juror_store::backend::crud::{self, prefixed};
use juror_store::backend::{quality, tally};

use super::{run_statements, Tx};
use juror_store::{StoreError, StoreResult};
use juror_store::{Lease, LeaseRequest};

/// What the decision needs, after expired leases went: the quota, the labeler's submissions
/// (counted only under a quota), the first fresh record and, when there is none, the first
/// skipped one, and the dataset's quality settings.
fn choice_query() -> String {
    // Dataset `?4`, labeler `?3`.
    let fresh = crud::first_eligible_record("?4", "?3", true);
    let any = crud::first_eligible_record("?4", "?3", false);
    format!(
        "SELECT q.quota, CASE WHEN q.quota IS NULL THEN 0 ELSE \
             (SELECT count(*) FROM responses x JOIN records rx ON rx.id = x.record_id \
              WHERE rx.dataset_id = ?4 AND x.user_id = ?3 AND x.status = 'submitted') END, \
           f.id, CASE WHEN f.id IS NULL THEN ({any}) END, (SELECT quality FROM datasets WHERE id = ?4) \
         FROM (SELECT max_records AS quota FROM (SELECT 1) LEFT JOIN dataset_quotas ON dataset_id = ?4 AND user_id = ?3) q, \
              (SELECT ({fresh}) AS id) f"
    )
}

/// The lease of labeler `?2` in dataset `?3`, with its record, their response to it and its
/// suggestions (as JSON aggregates, so the read is one query).
fn read_back_query() -> String {
    format!(
        "SELECT {}, l.expires_at, \
           (SELECT json_group_array(json_array(s.id, s.question_id, s.type, s.value, s.agent, s.score, s.inserted_at, s.updated_at)) \
              FROM (SELECT * FROM suggestions WHERE record_id = r.id ORDER BY inserted_at, id) s), \
           (SELECT json_array(x.id, x.\"values\", x.status, x.inserted_at, x.updated_at, x.shown_order, x.time_on_task_ms) \
              FROM responses x WHERE x.record_id = r.id AND x.user_id = l.user_id) \
         FROM record_leases l JOIN records r ON r.id = l.record_id WHERE l.user_id = ?2 AND l.dataset_id = ?3",
        prefixed("r", RECORD_COLUMNS)
    )
}

/// Reclaims expired leases, then keeps the labeler's lease or leases the next record for them.
pub(crate) async fn lease(connection: &mut SqliteConnection, request: &LeaseRequest) -> StoreResult<Option<(Lease, Record, RecordRelations)>> {
    let gather = format!(
        "DELETE FROM record_leases WHERE expires_at <= ?1 RETURNING record_id; \
         UPDATE record_leases SET expires_at = ?2 WHERE user_id = ?3 AND dataset_id = ?4 RETURNING record_id; \
         {}",
        choice_query()
    );
    let mut outcomes = run_statements(&mut *connection, bind_request(sqlx::query(&gather), request)).await?;
    let [expired, held, mut choice] = <[_; 3]>::try_from(std::mem::take(&mut outcomes)).map_err(|_| unexpected())?;
    if !expired.rows.is_empty() {
        // Expired leases gave their claims back: recount those records and choose again.
        let records = expired.rows.iter().map(|row| rows::id(row, 0)).collect::<StoreResult<Vec<RecordId>>>()?;
        tally::recount(&mut Tx(&mut *connection), &records, request.now, false).await?;
        let query = choice_query();
        choice = run_statements(&mut *connection, bind_request(sqlx::query(&query), request)).await?.pop().ok_or_else(unexpected)?;
    }
    let row = choice.rows.first().ok_or_else(unexpected)?;
    let quota: Option<i64> = row.try_get(0)?;
    let submitted: i64 = row.try_get(1)?;
    let optional_id = |index| -> StoreResult<Option<RecordId>> { row.try_get::<Option<&str>, _>(index)?.map(|_| rows::id(row, index)).transpose() };
    let settings = quality::settings_of(row.try_get::<Option<&str>, _>(4)?)?;
    let mut asker = Asker {
        held: held.rows.first().map(|row| rows::id(row, 0)).transpose()?,
        quota: quota.map(|quota| u32::try_from(quota).unwrap_or(u32::MAX)),
        submitted: u64::try_from(submitted).unwrap_or(0),
        paused: false,
    };
    let (fresh, skipped) = (optional_id(2)?, optional_id(3)?);
    let mut gold = None;
    if let Some(settings) = &settings.gold {
        let wants_record = asker.held.is_none() && asker.within_quota();
        (asker.paused, gold) = quality::gold_hand_out(&mut Tx(&mut *connection), request.dataset, request.user, settings, wants_record).await?;
    }
    let read_back = read_back_query();
    // `?1` the record, `?2` the labeler, `?3` the dataset, `?4` the lease's expiry.
    fn bind_lease<'q>(query: &'q str, record: RecordId, request: &LeaseRequest) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
        sqlx::query(query).bind(record.to_string()).bind(request.user.to_string()).bind(request.dataset.to_string()).bind(request.expires_at.micros())
    }
    let outcomes = match asker.decide(gold, fresh, skipped) {
        HandOut::QuotaReached | HandOut::Paused | HandOut::NothingLeft => return Ok(None),
        HandOut::Keep(record) => run_statements(&mut *connection, bind_lease(&read_back, record, request)).await?,
        HandOut::Take(record) => {
            // Taking a lease is one more claim on the record (`RecordTally::claims`).
            let take = format!(
                "INSERT INTO record_leases (record_id, user_id, dataset_id, expires_at) VALUES (?1, ?2, ?3, ?4); \
                 UPDATE records SET claims = claims + 1 WHERE id = ?1; \
                 DELETE FROM record_skips WHERE record_id = ?1 AND user_id = ?2; \
                 {read_back}"
            );
            run_statements(&mut *connection, bind_lease(&take, record, request)).await?
        }
    };
    let row = outcomes.last().and_then(|outcome| outcome.rows.first()).ok_or_else(unexpected)?;
    rows::handed_out(row, request.user).map(Some)
}

/// Binds `?1` now, `?2` the new expiry, `?3` the labeler, `?4` the dataset.
fn bind_request<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    request: &LeaseRequest,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    query
        .bind(request.now.micros())
        .bind(request.expires_at.micros())
        .bind(request.user.to_string())
        .bind(request.dataset.to_string())
}

fn unexpected() -> StoreError {
    StoreError::Other("the hand-out's statements returned an unexpected shape".into())
}
