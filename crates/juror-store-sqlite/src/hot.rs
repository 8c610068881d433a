//! The labeling loop's writes (hand-outs, answers, and the webhook deliveries answers raise),
//! committed in groups.
//!
//! Labelers' requests arrive together and each is one statement, so a single task takes every
//! request waiting at that moment, runs them one after the other in one transaction on the
//! writer connection, commits once (one fsync for the group), and only then answers each caller.
//! Each statement is atomic on its own, so one failing request (a duplicate answer, say) is
//! rolled back alone and the others in its group still commit.

use juror_core::record::{Record, RecordRelations};
use juror_core::response::Response;
use juror_core::webhook::NewDelivery;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use juror_store::backend::tally::{self, Counted, COUNTED_COLUMNS};
use juror_store::backend::{crud, webhooks, write, Transaction};
use juror_store::backend::expect_one;
use super::{bound, hand_out, run_statements, Tx};
use juror_store::{StoreError, StoreResult};
use juror_store::{Lease, LeaseRequest};

/// Most requests committed together.
const MAX_GROUP: usize = 256;

/// A write on the labeling hot path.
pub(crate) enum HotWrite {
    Lease(LeaseRequest),
    CreateResponse(Response),
    UpdateResponse(Response),
    /// Webhook deliveries of the events the answers raised.
    Enqueue(Vec<NewDelivery>),
    /// A write that panics halfway through its group's transaction, standing for a bug.
    #[cfg(test)]
    Panic,
}

/// What a hot write answers.
pub(crate) enum HotResult {
    /// Boxed: a hand-out carries a whole record, an answer nothing.
    Lease(Option<Box<(Lease, Record, RecordRelations)>>),
    Done,
    /// Rows written.
    Written(u64),
}

struct Job {
    write: HotWrite,
    reply: oneshot::Sender<StoreResult<HotResult>>,
}

/// The handle to the group-committing task.
#[derive(Debug, Clone)]
pub(crate) struct HotWriter {
    sender: mpsc::UnboundedSender<Job>,
    counts: Arc<GroupCounts>,
}

/// Groups committed so far, and the writes in them.
#[derive(Debug, Default)]
pub(crate) struct GroupCounts {
    pub(crate) groups: AtomicU64,
    pub(crate) writes: AtomicU64,
}

impl HotWriter {
    /// Starts the task that owns the hot path's use of the writer pool.
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let counts = Arc::new(GroupCounts::default());
        tokio::spawn(run(writer, receiver, counts.clone()));
        Self { sender, counts }
    }

    /// Groups and writes committed so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.counts.groups.load(Ordering::Relaxed), self.counts.writes.load(Ordering::Relaxed))
    }

    /// Queues a write and waits until its group is committed.
    pub(crate) async fn submit(&self, write: HotWrite) -> StoreResult<HotResult> {
        let (reply, answer) = oneshot::channel();
        self.sender.send(Job { write, reply }).map_err(|_| StoreError::Other("the writer task has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Other("the writer task dropped a request".into()))?
    }
}

async fn run(writer: SqlitePool, mut receiver: mpsc::UnboundedReceiver<Job>, counts: Arc<GroupCounts>) {
    while let Some(first) = receiver.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        counts.groups.fetch_add(1, Ordering::Relaxed);
        counts.writes.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        let (writes, replies): (Vec<HotWrite>, Vec<_>) = jobs.into_iter().map(|job| (job.write, job.reply)).unzip();
        // Each group commits in a task of its own, so that a panic (a bug) fails that group
        // alone and the writer goes on serving the next ones.
        let group = tokio::spawn({
            let writer = writer.clone();
            async move { commit_group(&writer, &writes).await }
        });
        let outcome = match group.await {
            Ok(outcome) => outcome,
            Err(failure) => {
                tracing::error!(error = %failure, "a group of labeling writes failed in the writer: {failure}");
                recover(&writer).await;
                Err(StoreError::Other("the writer failed on this group; nothing of it was written".into()))
            }
        };
        match outcome {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Ends a transaction that a failed group may have left open on the writer connection.
async fn recover(writer: &SqlitePool) {
    if let Ok(mut connection) = writer.acquire().await {
        // "no transaction is active" is the good case.
        let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
    }
}

async fn commit_group(writer: &SqlitePool, writes: &[HotWrite]) -> StoreResult<Vec<StoreResult<HotResult>>> {
    let mut connection = writer.acquire().await?;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *connection).await?;
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        let result = apply(&mut connection, write).await;
        // A constraint failure undoes its own statement only; anything else (I/O, a full disk)
        // may have ended the transaction, so the whole group fails rather than half-commit.
        if let Err(error @ (StoreError::Other(_) | StoreError::Full)) = &result {
            let error = error.clone();
            let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
            return Err(error);
        }
        results.push(result);
    }
    if let Err(error) = sqlx::query("COMMIT").execute(&mut *connection).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
        return Err(error.into());
    }
    Ok(results)
}

async fn apply(connection: &mut PoolConnection<Sqlite>, write: &HotWrite) -> StoreResult<HotResult> {
    match write {
        #[cfg(test)]
        HotWrite::Panic => {
            sqlx::query("INSERT INTO workspaces (id, name, inserted_at, updated_at) VALUES ('w-panic', 'half-written', 0, 0)").execute(&mut **connection).await?;
            panic!("a write panicked halfway through its group");
        }
        HotWrite::Lease(request) => hand_out::lease(connection, request).await.map(|lease| HotResult::Lease(lease.map(Box::new))),
        HotWrite::CreateResponse(response) => answer(connection, response, true).await,
        HotWrite::UpdateResponse(response) => answer(connection, response, false).await,
        HotWrite::Enqueue(deliveries) => {
            let mut written = 0;
            for (insert, payloads) in webhooks::enqueue_deliveries(deliveries) {
                written += Tx(&mut *connection).execute(insert).await?;
                Tx(&mut *connection).execute(payloads).await?;
            }
            Ok(HotResult::Written(written))
        }
    }
}

/// Checks the answer's limits, stores it, ends its labeler's lease unless it is a draft, and
/// settles the record (`juror_store::backend::tally`): the write is one round trip, and one more
/// only when the record's status or claims or the dataset's last activity move. The first
/// statement is the only one a constraint can fail, and a failed statement stops the rest, so a
/// refused answer leaves nothing behind.
async fn answer(connection: &mut PoolConnection<Sqlite>, response: &Response, create: bool) -> StoreResult<HotResult> {
    write::check_answer_limits(&mut Tx(connection), response).await?;
    let store = crud::store_answer(response, create);
    let query = format!(
        "{}; \
         DELETE FROM record_leases WHERE ?5 <> 'draft' AND record_id = ?2 AND user_id = ?3 AND EXISTS (SELECT 1 FROM responses WHERE id = ?1); \
         SELECT {COUNTED_COLUMNS} FROM records r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?2",
        store.sql
    );
    let statements = bound(&query, store.params);
    let outcomes = run_statements(connection, statements).await?;
    let stored = outcomes.first().map_or(0, |outcome| outcome.changed);
    expect_one(stored)?;
    let counted = outcomes.last().map(|outcome| outcome.rows.iter().map(Counted::from_row).collect::<StoreResult<Vec<_>>>()).transpose()?.unwrap_or_default();
    tally::settle(&mut Tx(connection), &counted, response.updated_at, true).await?;
    Ok(HotResult::Done)
}

#[cfg(test)]
mod tests {
    use juror_core::ids::{DatasetId, UserId};

    use juror_core::time::Timestamp;

    use super::*;
    use crate::{SqliteStore, SqliteStoreOptions};
    use juror_store::{Lifecycle, UserStore};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_in_one_group_fails_that_group_alone_and_writes_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&SqliteStoreOptions::new(dir.path().join("juror.db"))).await.unwrap();
        let failed = store.hot.submit(HotWrite::Panic).await;
        assert!(matches!(failed, Err(StoreError::Other(ref message)) if message.contains("nothing of it was written")), "{:?}", failed.err());
        // Nothing of the panicking group was kept, and the writer answers the next groups.
        assert!(store.find_workspace_by_name("half-written").await.unwrap().is_none());
        let now = Timestamp::now();
        let request = LeaseRequest { dataset: DatasetId::new(), user: UserId::new(), now, expires_at: now };
        assert!(matches!(store.hot.submit(HotWrite::Lease(request)).await, Ok(HotResult::Lease(None))));
        // The writer connection is not left inside a transaction: other writes commit.
        let workspace = juror_core::user::Workspace { id: Default::default(), name: "after".into(), inserted_at: now, updated_at: now };
        store.create_workspace(&workspace).await.unwrap();
        store.close().await;
        let reopened = SqliteStore::open(&SqliteStoreOptions::new(dir.path().join("juror.db"))).await.unwrap();
        assert!(reopened.find_workspace_by_name("after").await.unwrap().is_some());
        assert!(reopened.find_workspace_by_name("half-written").await.unwrap().is_none());
    }
}
