//! Record status under the overlap distribution: a record is `completed` once it has
//! `min_submitted` submitted responses, and changing the distribution recomputes every status.

use serde_json::{json, Value};

use crate::helpers::{submitted_response, TestApp, TestUser};

/// A server with three annotators in the owner's workspace and a comparison dataset there.
async fn with_annotators() -> (TestApp, [TestUser; 3], String) {
    let app = TestApp::spawn().await;
    let workspace_id = app.owner_workspace_id().await;
    let alice = app.create_member(&workspace_id, "alice", "annotator").await;
    let bob = app.create_member(&workspace_id, "bob", "annotator").await;
    let carol = app.create_member(&workspace_id, "carol", "annotator").await;
    let dataset_id = app
        .create_comparison_dataset(&workspace_id, "comparisons")
        .await;
    (app, [alice, bob, carol], dataset_id)
}

async fn set_min_submitted(app: &TestApp, dataset_id: &str, min_submitted: u32) {
    let answer = app
        .owner()
        .patch(
            &format!("/api/v1/datasets/{dataset_id}"),
            &json!({"distribution": {"strategy": "overlap", "min_submitted": min_submitted}}),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.body["distribution"],
        json!({"strategy": "overlap", "min_submitted": min_submitted})
    );
}

async fn respond(app: &TestApp, user: &TestUser, record_id: &str, body: &Value) {
    let answer = app
        .with_key(&user.api_key)
        .post(&format!("/api/v1/records/{record_id}/responses"), body)
        .await;
    assert_eq!(answer.status, 201, "{answer:?}");
}

async fn status_of(app: &TestApp, record_id: &str) -> Value {
    app.record(record_id).await["status"].clone()
}

async fn progress(app: &TestApp, dataset_id: &str) -> Value {
    let answer = app
        .owner()
        .get(&format!("/api/v1/datasets/{dataset_id}/progress"))
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body
}

#[tokio::test]
async fn a_record_completes_only_with_min_submitted_submitted_responses() {
    let (app, [alice, bob, carol], dataset_id) = with_annotators().await;
    set_min_submitted(&app, &dataset_id, 2).await;
    let record_id = app.create_record(&dataset_id).await;
    assert_eq!(status_of(&app, &record_id).await, "pending");

    respond(&app, &alice, &record_id, &submitted_response()).await;
    assert_eq!(status_of(&app, &record_id).await, "pending");
    assert_eq!(
        progress(&app, &dataset_id).await,
        json!({"total": 1, "completed": 0, "pending": 1, "users": [{"username": alice.username}]})
    );

    respond(&app, &bob, &record_id, &json!({"status": "discarded"})).await;
    assert_eq!(
        status_of(&app, &record_id).await,
        "pending",
        "a discarded response does not count"
    );
    assert_eq!(progress(&app, &dataset_id).await["completed"], 0);

    respond(&app, &carol, &record_id, &submitted_response()).await;
    assert_eq!(status_of(&app, &record_id).await, "completed");
    assert_eq!(
        progress(&app, &dataset_id).await,
        json!({"total": 1, "completed": 1, "pending": 0, "users": [{"username": "alice"}, {"username": "bob"}, {"username": "carol"}]})
    );
}

#[tokio::test]
async fn a_draft_response_does_not_count_towards_completion() {
    let (app, [alice, ..], dataset_id) = with_annotators().await;
    let record_id = app.create_record(&dataset_id).await;

    respond(
        &app,
        &alice,
        &record_id,
        &json!({"status": "draft", "values": {}}),
    )
    .await;

    assert_eq!(status_of(&app, &record_id).await, "pending");
    assert_eq!(progress(&app, &dataset_id).await["completed"], 0);
}

#[tokio::test]
async fn changing_min_submitted_recomputes_statuses() {
    let (app, [alice, bob, _], dataset_id) = with_annotators().await;
    set_min_submitted(&app, &dataset_id, 2).await;
    let ids = app
        .create_records(
            &dataset_id,
            vec![
                crate::helpers::comparison_record("a"),
                crate::helpers::comparison_record("b"),
            ],
        )
        .await;
    respond(&app, &alice, &ids[0], &submitted_response()).await;
    respond(&app, &bob, &ids[1], &json!({"status": "discarded"})).await;
    assert_eq!(status_of(&app, &ids[0]).await, "pending");
    assert_eq!(progress(&app, &dataset_id).await["completed"], 0);

    set_min_submitted(&app, &dataset_id, 1).await;

    assert_eq!(status_of(&app, &ids[0]).await, "completed");
    assert_eq!(
        status_of(&app, &ids[1]).await,
        "pending",
        "a discarded response does not count"
    );
    let after_lowering = progress(&app, &dataset_id).await;
    assert_eq!(
        (
            after_lowering["total"].clone(),
            after_lowering["completed"].clone(),
            after_lowering["pending"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );

    set_min_submitted(&app, &dataset_id, 2).await;

    assert_eq!(status_of(&app, &ids[0]).await, "pending");
    assert_eq!(progress(&app, &dataset_id).await["completed"], 0);
}

#[tokio::test]
async fn deleting_a_response_recomputes_the_status() {
    let (app, [alice, ..], dataset_id) = with_annotators().await;
    let record_id = app.create_record(&dataset_id).await;
    let answer = app
        .with_key(&alice.api_key)
        .post(
            &format!("/api/v1/records/{record_id}/responses"),
            &submitted_response(),
        )
        .await;
    assert_eq!(status_of(&app, &record_id).await, "completed");

    let deleted = app
        .with_key(&alice.api_key)
        .delete(&format!(
            "/api/v1/responses/{}",
            answer.body["id"].as_str().unwrap()
        ))
        .await;

    assert_eq!(deleted.status, 200, "{deleted:?}");
    assert_eq!(deleted.body["id"], answer.body["id"]);
    assert_eq!(status_of(&app, &record_id).await, "pending");
}

#[tokio::test]
async fn min_submitted_below_one_is_rejected() {
    let (app, _, dataset_id) = with_annotators().await;

    let answer = app
        .owner()
        .patch(
            &format!("/api/v1/datasets/{dataset_id}"),
            &json!({"distribution": {"strategy": "overlap", "min_submitted": 0}}),
        )
        .await;

    let error = crate::helpers::assert_request_invalid(&answer);
    assert_eq!(error["loc"], json!(["body", "distribution"]));
    let dataset = app
        .owner()
        .get(&format!("/api/v1/datasets/{dataset_id}"))
        .await;
    assert_eq!(dataset.body["distribution"]["min_submitted"], 1);
}

#[tokio::test]
async fn deleting_a_user_recomputes_the_status_of_the_records_they_answered() {
    let (app, [alice, ..], dataset_id) = with_annotators().await;
    let record_id = app.create_record(&dataset_id).await;
    respond(&app, &alice, &record_id, &submitted_response()).await;
    assert_eq!(status_of(&app, &record_id).await, "completed");

    let deleted = app
        .owner()
        .delete(&format!("/api/v1/users/{}", alice.id))
        .await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    assert_eq!(deleted.body["username"], "alice");

    // The user's responses go with them (spec §2.3), so the record has no submitted response left.
    assert!(app.responses_of(&record_id).await.is_empty());
    assert_eq!(status_of(&app, &record_id).await, "pending");
    assert_eq!(
        progress(&app, &dataset_id).await,
        json!({"total": 1, "completed": 0, "pending": 1, "users": []})
    );
}
