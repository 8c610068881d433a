//! The store conformance story (`juror_store::conformance`) on PostgreSQL: each part on a fresh
//! database of the server `JUROR_TEST_POSTGRES_URL` names (its maintenance database, e.g.
//! `postgres://juror@127.0.0.1:5432/postgres`; `scripts/test.sh` starts a throwaway server and
//! sets it). Without it these tests fail: they are never skipped.

use std::sync::Arc;

use juror_store::conformance;
use juror_store::{DistributionStore, Lifecycle, Store};
use juror_store_postgres::{create_database, PostgresStore, PostgresStoreOptions};

/// The URL of a new, empty database on the test server.
async fn fresh_database() -> String {
    let admin = std::env::var("JUROR_TEST_POSTGRES_URL")
        .expect("JUROR_TEST_POSTGRES_URL must name a PostgreSQL server's maintenance database (scripts/test.sh starts one)");
    let name = format!("juror_test_{}", juror_core::ids::RecordId::new().to_string().replace('-', ""));
    create_database(&admin, &name).await.expect("a test database is created")
}

async fn fresh() -> (String, PostgresStore) {
    let url = fresh_database().await;
    let store = PostgresStore::open(&PostgresStoreOptions::new(&url)).await.unwrap();
    (url, store)
}

#[tokio::test]
async fn postgres_passes_the_main_story_and_keeps_it() {
    let (url, store) = fresh().await;
    assert!(store.is_empty().await.unwrap());
    let written = conformance::main_story(&store).await;
    store.close().await;
    let reopened = PostgresStore::open(&PostgresStoreOptions::new(&url)).await.unwrap();
    assert!(!reopened.is_empty().await.unwrap());
    conformance::check_persisted(&reopened, &written).await;
}

#[tokio::test]
async fn postgres_passes_the_rest_of_the_trait() {
    let (_url, store) = fresh().await;
    conformance::rest_of_the_trait(&store).await;
}

#[tokio::test]
async fn postgres_hands_out_by_the_rule() {
    let (_url, store) = fresh().await;
    for seed in conformance::WALK_SEEDS {
        conformance::hand_outs_follow_the_rule(&store, seed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_racing_labelers_never_overfill() {
    let (_url, store) = fresh().await;
    let store: Arc<dyn Store> = Arc::new(store);
    conformance::racing_labelers_never_overfill(store).await;
}

/// Two stores on one database stand for two replicas: labelers alternating between them never
/// overfill a record either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_replicas_racing_never_overfill() {
    let (url, first) = fresh().await;
    let second = PostgresStore::open(&PostgresStoreOptions::new(&url)).await.unwrap();
    conformance::racing_across_stores_never_overfill(Arc::new(first), Arc::new(second)).await;
}

/// A labeler's quota holds however many replicas take their answers at once: of 12 parallel
/// submissions through two stores with a quota of 2, exactly 2 are stored, the rest refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_quotas_hold_across_replicas() {
    use juror_core::distribution::AnswerRefusal;
    use juror_core::response::{Response, ResponseStatus};
    use juror_core::time::Timestamp;
    use juror_store::StoreError;

    let (url, first) = fresh().await;
    let second = PostgresStore::open(&PostgresStoreOptions::new(&url)).await.unwrap();
    let (dataset, records, labeler) = conformance::labeled_dataset(&first, "quota", 12).await;
    first.set_quota(dataset, labeler, Some(2)).await.unwrap();
    let stores: [Arc<dyn Store>; 2] = [Arc::new(first), Arc::new(second)];
    let tasks: Vec<_> = records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let store = stores[index % 2].clone();
            let now = Timestamp::now();
            let response = Response { id: Default::default(), record_id: *record, user_id: labeler, values: None, status: ResponseStatus::Submitted, presentation: None, inserted_at: now, updated_at: now };
            tokio::spawn(async move { store.create_response(&response).await })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => stored += 1,
            Err(StoreError::Refused(AnswerRefusal::QuotaReached(2))) => {}
            Err(other) => panic!("an answer failed otherwise: {other:?}"),
        }
    }
    assert_eq!(stored, 2, "exactly the quota's two submissions are stored");
    assert_eq!(stores[0].user_response_counts(dataset, labeler).await.unwrap().submitted, 2);
}

/// The webhook queue's story, then four servers' worth of claims from two stores on one
/// database: each delivery is claimed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_webhooks_and_their_queue() {
    let (url, store) = fresh().await;
    conformance::webhooks_and_their_queue(&store).await;
    let second = PostgresStore::open(&PostgresStoreOptions::new(&url)).await.unwrap();
    conformance::racing_claims_take_each_delivery_once(vec![Arc::new(store), Arc::new(second)]).await;
}

#[tokio::test]
async fn postgres_keeps_quality_controls() {
    let (_url, store) = fresh().await;
    conformance::quality_controls(&store).await;
}

/// 64 labelers under adaptive overlap, through two replicas: nobody twice, no record past `max`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_racing_under_adaptive_overlap() {
    let (url, first) = fresh().await;
    let second = PostgresStore::open(&PostgresStoreOptions::new(&url)).await.unwrap();
    let stores: [Arc<dyn Store>; 2] = [Arc::new(first), Arc::new(second)];
    conformance::racing_under_adaptive_overlap(&stores, 64).await;
}

#[tokio::test]
async fn postgres_keeps_swapped_repeats_apart() {
    let (_url, store) = fresh().await;
    conformance::swapped_repeats(&store).await;
}

#[tokio::test]
async fn postgres_keeps_reviewers_and_verdicts() {
    let (_url, store) = fresh().await;
    conformance::reviews(&store).await;
}
