//! The store conformance story (`juror_store::conformance`) on SQLite: each part on a fresh
//! database file, and what the main story acknowledged still there after reopening the file.

use std::sync::Arc;

use juror_store::conformance;
use juror_store::{Lifecycle, Store};
use juror_store_sqlite::{SqliteStore, SqliteStoreOptions};

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteStoreOptions::new(directory.path().join("juror.db"))).await.unwrap();
    (directory, store)
}

#[tokio::test]
async fn sqlite_passes_the_main_story_and_keeps_it() {
    let directory = tempfile::tempdir().unwrap();
    let options = SqliteStoreOptions::new(directory.path().join("juror.db"));
    let store = SqliteStore::open(&options).await.unwrap();
    let written = conformance::main_story(&store).await;
    store.close().await;
    let reopened = SqliteStore::open(&options).await.unwrap();
    conformance::check_persisted(&reopened, &written).await;
}

#[tokio::test]
async fn sqlite_passes_the_rest_of_the_trait() {
    let (_directory, store) = fresh().await;
    conformance::rest_of_the_trait(&store).await;
}

#[tokio::test]
async fn sqlite_hands_out_by_the_rule() {
    let (_directory, store) = fresh().await;
    for seed in conformance::WALK_SEEDS {
        conformance::hand_outs_follow_the_rule(&store, seed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_racing_labelers_never_overfill() {
    let (_directory, store) = fresh().await;
    let store: Arc<dyn Store> = Arc::new(store);
    conformance::racing_labelers_never_overfill(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_webhooks_and_their_queue() {
    let (_directory, store) = fresh().await;
    conformance::webhooks_and_their_queue(&store).await;
    let store: Arc<dyn Store> = Arc::new(store);
    conformance::racing_claims_take_each_delivery_once(vec![store]).await;
}

#[tokio::test]
async fn sqlite_keeps_quality_controls() {
    let (_dir, store) = fresh().await;
    conformance::quality_controls(&store).await;
}

/// 64 labelers under adaptive overlap: nobody twice, no record past `max`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_racing_under_adaptive_overlap() {
    let (_dir, store) = fresh().await;
    let store: Arc<dyn Store> = Arc::new(store);
    conformance::racing_under_adaptive_overlap(&[store], 64).await;
}

#[tokio::test]
async fn sqlite_keeps_swapped_repeats_apart() {
    let (_dir, store) = fresh().await;
    conformance::swapped_repeats(&store).await;
}

#[tokio::test]
async fn sqlite_keeps_reviewers_and_verdicts() {
    let (_dir, store) = fresh().await;
    conformance::reviews(&store).await;
}
