//! The store conformance story: one sequence of reads and writes that every backend must pass.
//! It runs on SQLite here; a PostgreSQL backend runs the same `story` against its own store.

mod story;

use juror_store::{SqliteStore, SqliteStoreOptions};

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
