//! Request validation: malformed and ill-typed bodies, invalid records, bad path ids, unknown
//! routes and oversized bodies. Every rejected write leaves the dataset as it was.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    assert_invalid, assert_request_invalid, comparison_record, TestApp, MAX_BODY_BYTES,
};

use crate::helpers::bulk_path;

#[tokio::test]
async fn malformed_json_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let answer = app
        .owner()
        .send_raw(
            Method::POST,
            &bulk_path(&dataset_id),
            r#"{"items": [{"fields": "#,
        )
        .await;

    let error = assert_request_invalid(&answer);
    assert_eq!(error["type"], "json_invalid");
    assert_eq!(error["loc"][0], "body");
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn a_fields_value_that_is_not_an_object_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let answer = app.bulk_post(&dataset_id, &json!({"items": [{"fields": "x"}]})).await;

    let error = assert_request_invalid(&answer);
    assert_eq!(error["loc"], json!(["body", "items", 0, "fields"]));
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn items_that_are_not_a_list_are_a_validation_error() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let answer = app.bulk_post(&dataset_id, &json!({"items": {}})).await;

    let error = assert_request_invalid(&answer);
    assert_eq!(error["loc"], json!(["body", "items"]));
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn a_body_without_items_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let answer = app.bulk_post(&dataset_id, &json!({"records": [comparison_record("p")]})).await;

    assert_request_invalid(&answer);
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn a_record_with_an_unknown_field_is_rejected() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let mut record = comparison_record("p");
    record["fields"]["unknown"] = json!("surprise");

    let answer = app.bulk_post(&dataset_id, &json!({"items": [record]})).await;

    let message = assert_invalid(&answer);
    assert!(message.starts_with("Record at position 0 is not valid because found fields values for non configured fields"), "{message}");
    assert!(message.contains("unknown"), "{message}");
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn a_record_missing_a_required_field_is_rejected() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let record = json!({"fields": {"prompt": "p", "response-1": "only one answer"}});

    let answer = app.bulk_post(&dataset_id, &json!({"items": [record]})).await;

    let message = assert_invalid(&answer);
    assert!(
        message.starts_with(
            "Record at position 0 is not valid because missing required value for field"
        ),
        "{message}"
    );
    assert!(message.contains("response-2"), "{message}");
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn a_record_with_empty_fields_is_rejected() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let answer = app.bulk_post(&dataset_id, &json!({"items": [{"fields": {}}]})).await;

    let message = assert_invalid(&answer);
    assert_eq!(
        message,
        "Record at position 0 is not valid because fields cannot be empty"
    );
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn one_bad_record_rejects_the_whole_batch() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let mut bad = comparison_record("third");
    bad["fields"]["nope"] = json!("x");
    let items = json!([comparison_record("first"), comparison_record("second"), bad]);

    let answer = app.bulk_post(&dataset_id, &json!({"items": items})).await;

    let message = assert_invalid(&answer);
    assert!(
        message.starts_with("Record at position 2 is not valid because"),
        "{message}"
    );
    assert_eq!(app.record_count(&dataset_id).await, 0);
    assert!(app.list_records(&dataset_id).await.is_empty());
}

#[tokio::test]
async fn one_bad_record_rejects_the_whole_upsert_batch() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let mut first = comparison_record("first");
    first["external_id"] = json!("first");
    let bad = json!({"external_id": "bad", "fields": {"prompt": 42.5, "response-1": ["not", "text"], "response-2": "x"}});

    let answer = app.bulk_put(&dataset_id, &json!({"items": [first, bad]})).await;

    let message = assert_invalid(&answer);
    assert!(
        message.starts_with("Record at position 1 is not valid because"),
        "{message}"
    );
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn an_empty_batch_is_rejected() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let answer = app.bulk_post(&dataset_id, &json!({"items": []})).await;

    let error = assert_request_invalid(&answer);
    assert_eq!(error["loc"], json!(["body", "items"]));
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn records_cannot_be_created_in_a_draft_dataset() {
    let app = TestApp::spawn().await;
    let workspace_id = app.owner_workspace_id().await;
    let draft = app
        .owner()
        .post(
            "/api/v1/datasets",
            &json!({"name": "draft", "workspace_id": workspace_id}),
        )
        .await;
    let dataset_id = draft.body["id"].as_str().unwrap().to_owned();

    let answer = app.bulk_post(&dataset_id, &json!({"items": [{"fields": {"prompt": "p"}}]})).await;

    assert_eq!(
        assert_invalid(&answer),
        "records cannot be created for a non published dataset"
    );
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn a_path_id_that_is_not_a_uuid_is_a_validation_error() {
    let app = TestApp::spawn().await;

    let answer = app.owner().get("/api/v1/datasets/not-a-uuid").await;

    let error = assert_request_invalid(&answer);
    assert_eq!(error["loc"], json!(["path", "dataset_id"]));
    assert_eq!(error["type"], "uuid_parsing");

    let answer = app
        .owner()
        .post(
            "/api/v1/records/123/responses",
            &json!({"status": "discarded"}),
        )
        .await;
    assert_eq!(
        assert_request_invalid(&answer)["loc"],
        json!(["path", "record_id"])
    );
}

#[tokio::test]
async fn an_unknown_route_is_not_found() {
    let app = TestApp::spawn().await;

    for answer in [
        app.owner().get("/api/v1/nothing-here").await,
        app.anonymous().get("/nope").await,
    ] {
        assert_eq!(answer.status, 404, "{answer:?}");
        assert_eq!(answer.body, json!({"detail": "Not Found"}));
    }
}

#[tokio::test]
async fn a_wrong_method_is_not_allowed() {
    let app = TestApp::spawn().await;

    for answer in [
        app.owner().put("/api/v1/users", &json!({})).await,
        app.owner().delete("/api/v1/me").await,
    ] {
        assert_eq!(answer.status, 405, "{answer:?}");
        assert_eq!(answer.body, json!({"detail": "Method Not Allowed"}));
    }
}

#[tokio::test]
async fn an_oversized_bulk_create_is_rejected_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    // Valid records, so only the size can be the reason for refusing them.
    let long_prompt = "x".repeat(8 * 1024);
    let items: Vec<_> = (0..200).map(|_| comparison_record(&long_prompt)).collect();
    let body = serde_json::to_vec(&json!({"items": items})).unwrap();
    assert!(body.len() > MAX_BODY_BYTES);

    let answer = app
        .owner()
        .send_raw(Method::POST, &bulk_path(&dataset_id), body)
        .await;

    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(answer.body, json!({"detail": "Request body is too large"}));
    assert_eq!(app.record_count(&dataset_id).await, 0);
}
