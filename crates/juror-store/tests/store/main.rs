//! The store conformance story: one sequence of reads and writes that every backend must pass.
//! It runs on SQLite here; a PostgreSQL backend runs the same `story` against its own store.

mod distribution;
mod story;

use std::sync::Arc;

use juror_store::{SqliteStore, SqliteStoreOptions, Store};

#[tokio::test]
async fn sqlite_passes_the_store_story() {
    let directory = tempfile::tempdir().unwrap();
    let options = SqliteStoreOptions::new(directory.path().join("juror.db"));
    let store = SqliteStore::open(&options).await.unwrap();
    let written = story::run(&store).await;
    store.close().await;

    // Everything acknowledged is there after reopening the file.
    let reopened = SqliteStore::open(&options).await.unwrap();
    story::check_persisted(&reopened, &written).await;
}

#[tokio::test]
async fn sqlite_hands_out_by_the_rule() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteStoreOptions::new(directory.path().join("juror.db"))).await.unwrap();
    for seed in [1, 7, 42, 1234, 99991] {
        distribution::hand_outs_follow_the_rule(&store, seed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_racing_labelers_never_overfill() {
    let directory = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&SqliteStoreOptions::new(directory.path().join("juror.db"))).await.unwrap());
    distribution::racing_labelers_never_overfill(store).await;
}
