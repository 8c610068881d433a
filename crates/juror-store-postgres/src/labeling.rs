//! The labeling loop on PostgreSQL: answers and the next-record hand-out, each in its own
//! transaction, exact however many replicas write at once.
//!
//! Claims change only under the record's row lock: an answer locks its record before writing,
//! and the hand-out locks the record it picks (`FOR NO KEY UPDATE SKIP LOCKED`, which also
//! re-checks `claims < target` on the newest row version), so two replicas can never both
//! take a record's last place. A labeler holds at most one lease per dataset (a unique key), so
//! two hand-outs for one labeler cannot both take a record; the loser runs again and keeps the
//! winner's lease. A transaction PostgreSQL aborts for contention runs again as well.

use juror_core::distribution::{Asker, HandOut};
use juror_core::ids::RecordId;
use juror_core::record::{Record, RecordRelations};
use juror_core::response::{Response, ResponseStatus};
use juror_store::backend::crud::prefixed;
use juror_store::backend::rows::{self, RECORD_COLUMNS};
use juror_store::backend::{crud, expect_one, quality, retried, tally, write, Columns, SqlBackend, Statement};
use juror_store::{Lease, LeaseRequest, StoreError, StoreResult};

use super::PostgresStore;

/// Stores an answer, ends its labeler's lease unless it is a draft, and recounts the record.
pub(crate) async fn answer(store: &PostgresStore, response: &Response, create: bool) -> StoreResult<()> {
    retried(|| async {
        let mut transaction = store.begin().await?;
        transaction.lock_records(&[response.record_id]).await?;
        write::check_answer_limits(transaction.as_mut(), response).await?;
        expect_one(transaction.execute(crud::store_answer(response, create)).await?)?;
        if response.status != ResponseStatus::Draft {
            transaction.execute(crud::release_lease(response.record_id, response.user_id)).await?;
        }
        tally::recount(transaction.as_mut(), &[response.record_id], response.updated_at, true).await?;
        transaction.commit().await
    })
    .await
}

/// The first eligible record for the labeler (`crud::first_eligible_record`), locked unless
/// another hand-out holds it.
fn candidate(request: &LeaseRequest, leave_out_skipped: bool) -> Statement {
    let statement = Statement::new(crud::first_eligible_record("?", "?", leave_out_skipped) + " FOR NO KEY UPDATE OF r SKIP LOCKED").bind(request.dataset.to_string());
    let uses_of_user = if leave_out_skipped { 3 } else { 2 };
    (0..uses_of_user).fold(statement, |statement, _| statement.bind(request.user.to_string()))
}

/// The labeler's lease in the dataset with its record, their response to it and its suggestions.
fn read_back(request: &LeaseRequest) -> Statement {
    Statement::new(format!(
        "SELECT {}, l.expires_at, \
           coalesce((SELECT json_agg(json_build_array(s.id, s.question_id, s.type, s.value, s.agent, s.score, s.inserted_at, s.updated_at) \
                                     ORDER BY s.inserted_at, s.id) FROM suggestions s WHERE s.record_id = r.id)::text, '[]'), \
           (SELECT json_build_array(x.id, x.\"values\", x.status, x.inserted_at, x.updated_at, x.shown_order, x.time_on_task_ms)::text \
              FROM responses x WHERE x.record_id = r.id AND x.user_id = l.user_id) \
         FROM record_leases l JOIN records r ON r.id = l.record_id WHERE l.user_id = ? AND l.dataset_id = ?",
        prefixed("r", RECORD_COLUMNS)
    ))
    .bind(request.user.to_string())
    .bind(request.dataset.to_string())
}

/// Reclaims expired leases, then keeps the labeler's lease or leases the next record for them.
pub(crate) async fn lease(store: &PostgresStore, request: &LeaseRequest) -> StoreResult<Option<(Lease, Record, RecordRelations)>> {
    retried(|| async {
        let mut transaction = store.begin().await?;
        // Expired leases give their claims back; rows another hand-out is reclaiming are left to it.
        let expired = transaction
            .fetch(
                Statement::new(
                    "DELETE FROM record_leases WHERE (record_id, user_id) IN \
                     (SELECT record_id, user_id FROM record_leases WHERE expires_at <= ? FOR UPDATE SKIP LOCKED) RETURNING record_id",
                )
                .bind(request.now.micros()),
            )
            .await?;
        if !expired.is_empty() {
            let mut records = expired.iter().map(rows::first_id).collect::<StoreResult<Vec<RecordId>>>()?;
            records.sort_unstable();
            records.dedup();
            transaction.lock_records(&records).await?;
            tally::recount(transaction.as_mut(), &records, request.now, false).await?;
        }
        let held = transaction
            .fetch(
                Statement::new("UPDATE record_leases SET expires_at = ? WHERE user_id = ? AND dataset_id = ? AND expires_at > ? RETURNING record_id")
                    .bind(request.expires_at.micros())
                    .bind(request.user.to_string())
                    .bind(request.dataset.to_string())
                    .bind(request.now.micros()),
            )
            .await?;
        let quota = transaction
            .fetch(
                Statement::new(
                    "SELECT q.max_records, (SELECT count(*) FROM responses x JOIN records rx ON rx.id = x.record_id \
                                            WHERE rx.dataset_id = ? AND x.user_id = ? AND x.status = 'submitted') \
                     FROM dataset_quotas q WHERE q.dataset_id = ? AND q.user_id = ?",
                )
                .bind(request.dataset.to_string())
                .bind(request.user.to_string())
                .bind(request.dataset.to_string())
                .bind(request.user.to_string()),
            )
            .await?;
        let (quota, submitted) = match quota.first() {
            Some(row) => (Some(u32::try_from(row.int(0)?).unwrap_or(u32::MAX)), rows::count_at(row, 1)?),
            None => (None, 0),
        };
        let mut asker = Asker { held: held.first().map(rows::first_id).transpose()?, quota, submitted, paused: false };
        let settings = transaction.fetch(Statement::new("SELECT quality FROM datasets WHERE id = ?").bind(request.dataset.to_string())).await?;
        let settings = quality::settings_of(settings.first().map(|row| row.text_opt(0)).transpose()?.flatten())?;
        let mut gold = None;
        if let Some(settings) = &settings.gold {
            let wants_record = asker.held.is_none() && asker.within_quota();
            (asker.paused, gold) = quality::gold_hand_out(transaction.as_mut(), request.dataset, request.user, settings, wants_record).await?;
        }
        let (fresh, skipped) = if asker.held.is_none() && asker.within_quota() && !asker.paused && gold.is_none() {
            let fresh = transaction.fetch(candidate(request, true)).await?.first().map(rows::first_id).transpose()?;
            let skipped = match fresh {
                Some(_) => None,
                None => transaction.fetch(candidate(request, false)).await?.first().map(rows::first_id).transpose()?,
            };
            (fresh, skipped)
        } else {
            (None, None)
        };
        match asker.decide(gold, fresh, skipped) {
            HandOut::QuotaReached | HandOut::Paused | HandOut::NothingLeft => {
                transaction.commit().await?;
                return Ok(None);
            }
            HandOut::Keep(_) => {}
            HandOut::Take(record) => {
                // Taking a lease is one more claim on the record (`RecordTally::claims`); the
                // record's row is locked by the choice above (a gold record, which has no open
                // places to race for, by this update).
                transaction.execute(Statement::new("UPDATE records SET claims = claims + 1 WHERE id = ?").bind(record.to_string())).await?;
                transaction
                    .execute(
                        Statement::new("INSERT INTO record_leases (record_id, user_id, dataset_id, expires_at) VALUES (?, ?, ?, ?)")
                            .bind(record.to_string())
                            .bind(request.user.to_string())
                            .bind(request.dataset.to_string())
                            .bind(request.expires_at.micros()),
                    )
                    .await
                    .map_err(|error| match error {
                        // Another hand-out for the same labeler won: this one runs again and keeps it.
                        StoreError::UniqueViolation { .. } => StoreError::Contention("a concurrent hand-out for the same labeler".into()),
                        other => other,
                    })?;
                transaction.execute(Statement::new("DELETE FROM record_skips WHERE record_id = ? AND user_id = ?").bind(record.to_string()).bind(request.user.to_string())).await?;
            }
        }
        let row = transaction.fetch(read_back(request)).await?;
        let handed = row.first().map(|row| rows::handed_out(row, request.user)).transpose()?;
        transaction.commit().await?;
        Ok(handed)
    })
    .await
}
