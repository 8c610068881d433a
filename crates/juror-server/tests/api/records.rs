//! Records: bulk create and upsert by external id, deleting by ids, and durability across a
//! server restart on the same database file.

use serde_json::{json, Value};

use crate::helpers::{assert_invalid, comparison_record, id_of, submitted_response, TestApp};


fn external(external_id: &str, prompt: &str) -> Value {
    let mut record = comparison_record(prompt);
    record["external_id"] = json!(external_id);
    record
}

/// Checks the shape of a record returned by the bulk endpoints.
fn assert_bulk_record(record: &Value, dataset_id: &str) {
    assert!(
        record["id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()),
        "{record}"
    );
    assert_eq!(record["dataset_id"], dataset_id, "{record}");
    assert!(
        record["status"] == "pending" || record["status"] == "completed",
        "{record}"
    );
    assert!(
        record["responses"].is_array()
            && record["suggestions"].is_array()
            && record["vectors"].is_object(),
        "{record}"
    );
    assert!(
        record["inserted_at"].is_string() && record["updated_at"].is_string(),
        "{record}"
    );
}

#[tokio::test]
async fn bulk_create_returns_the_records_with_ids_in_order() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let answer = app.bulk_post(&dataset_id, &json!({"items": [external("a", "first"), comparison_record("second")]})).await;

    assert_eq!(answer.status, 201, "{answer:?}");
    let items = answer.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_bulk_record(item, &dataset_id);
        assert_eq!(item["status"], "pending");
    }
    assert_eq!(items[0]["fields"]["prompt"], "first");
    assert_eq!(items[0]["external_id"], "a");
    assert_eq!(items[1]["fields"]["prompt"], "second");
    assert_eq!(items[1]["external_id"], Value::Null);
    assert_ne!(items[0]["id"], items[1]["id"]);
    assert_eq!(app.record_count(&dataset_id).await, 2);
}

#[tokio::test]
async fn bulk_create_refuses_an_external_id_that_already_exists() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    app.create_records(&dataset_id, vec![external("a", "first")])
        .await;

    let answer = app.bulk_post(&dataset_id, &json!({"items": [external("b", "new"), external("a", "again")]})).await;

    assert_eq!(
        assert_invalid(&answer),
        "Record at position 1 is not valid because a record with external_id `a` already exists"
    );
    assert_eq!(app.record_count(&dataset_id).await, 1);
}

#[tokio::test]
async fn upserting_the_same_external_id_twice_updates_the_record() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let first = app.bulk_put(&dataset_id, &json!({"items": [external("r1", "version one")]})).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_bulk_record(&first.body["items"][0], &dataset_id);
    let record_id = id_of(&first.body["items"][0]);

    let second = app.bulk_put(&dataset_id, &json!({"items": [external("r1", "version two"), external("r2", "another")]})).await;

    assert_eq!(second.status, 200, "{second:?}");
    let items = second.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    items
        .iter()
        .for_each(|item| assert_bulk_record(item, &dataset_id));
    assert_eq!(id_of(&items[0]), record_id);
    assert_eq!(items[0]["external_id"], "r1");
    assert_eq!(items[0]["fields"]["prompt"], "version two");
    assert_ne!(id_of(&items[1]), record_id);
    assert_eq!(app.record_count(&dataset_id).await, 2);
    let listed = app.list_records(&dataset_id).await;
    let r1: Vec<&Value> = listed
        .iter()
        .filter(|record| record["external_id"] == "r1")
        .collect();
    assert_eq!(r1.len(), 1);
    assert_eq!(r1[0]["fields"]["prompt"], "version two");
}

#[tokio::test]
async fn upserting_with_responses_recomputes_the_status() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let first = app.bulk_put(&dataset_id, &json!({"items": [external("r1", "p")]})).await;
    assert_eq!(first.body["items"][0]["status"], "pending");

    let mut record = external("r1", "p");
    record["responses"] = json!([submitted_response()]);
    let second = app.bulk_put(&dataset_id, &json!({"items": [record]})).await;

    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(second.body["items"][0]["status"], "completed");
    assert_eq!(
        second.body["items"][0]["responses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(app.record_count(&dataset_id).await, 1);
}

#[tokio::test]
async fn deleting_records_by_id_removes_them() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let ids = app
        .create_records(
            &dataset_id,
            vec![
                comparison_record("a"),
                comparison_record("b"),
                comparison_record("c"),
            ],
        )
        .await;

    let answer = app
        .owner()
        .delete(&format!(
            "/api/v1/datasets/{dataset_id}/records?ids={},{}",
            ids[0], ids[1]
        ))
        .await;

    assert_eq!(answer.status, 204, "{answer:?}");
    assert_eq!(answer.body, Value::Null);
    assert_eq!(app.record_count(&dataset_id).await, 1);
    let remaining: Vec<String> = app
        .list_records(&dataset_id)
        .await
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(remaining, [ids[2].clone()]);
    let gone = app
        .owner()
        .get(&format!("/api/v1/records/{}", ids[0]))
        .await;
    assert_eq!(gone.status, 404, "{gone:?}");
    assert_eq!(
        gone.body,
        json!({"detail": format!("Record with id `{}` not found", ids[0])})
    );
}

#[tokio::test]
async fn deleting_more_than_100_records_at_once_is_rejected() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let ids = app
        .create_records(&dataset_id, vec![comparison_record("a")])
        .await;
    let mut many: Vec<String> = (0..100).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    many.push(ids[0].clone());

    let answer = app
        .owner()
        .delete(&format!(
            "/api/v1/datasets/{dataset_id}/records?ids={}",
            many.join(",")
        ))
        .await;

    assert_eq!(
        assert_invalid(&answer),
        "number of record ids must be between 1 and 100, got 101"
    );
    assert_eq!(app.record_count(&dataset_id).await, 1);
}

#[tokio::test]
async fn deleting_without_ids_is_rejected() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    app.create_records(&dataset_id, vec![comparison_record("a")])
        .await;

    let answer = app
        .owner()
        .delete(&format!("/api/v1/datasets/{dataset_id}/records"))
        .await;

    assert_eq!(
        assert_invalid(&answer),
        "number of record ids must be between 1 and 100, got 0"
    );
    assert_eq!(app.record_count(&dataset_id).await, 1);
}

#[tokio::test]
async fn records_survive_a_restart() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let items: Vec<Value> = (0..25)
        .map(|index| external(&format!("r{index}"), &format!("prompt {index}")))
        .collect();
    let ids = app.create_records(&dataset_id, items).await;
    let answered = &ids[0];
    let response = app
        .owner()
        .post(
            &format!("/api/v1/records/{answered}/responses"),
            &submitted_response(),
        )
        .await;
    assert_eq!(response.status, 201, "{response:?}");

    let app = app.restart().await;

    assert_eq!(app.record_count(&dataset_id).await, 25);
    let listed = app.list_records(&dataset_id).await;
    let listed_ids: Vec<String> = listed.iter().map(id_of).collect();
    assert_eq!(listed_ids, ids);
    for (index, record) in listed.iter().enumerate() {
        assert_eq!(record["external_id"], format!("r{index}"));
        assert_eq!(record["fields"]["prompt"], format!("prompt {index}"));
    }
    assert_eq!(listed[0]["status"], "completed");
    assert_eq!(
        listed[0]["responses"][0]["values"],
        submitted_response()["values"]
    );
    assert_eq!(listed[1]["status"], "pending");
}

#[tokio::test]
async fn bulk_create_refuses_more_than_500_records() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let items: Vec<Value> = (0..501)
        .map(|index| comparison_record(&index.to_string()))
        .collect();

    let answer = app.bulk_post(&dataset_id, &json!({"items": items})).await;

    let error = crate::helpers::assert_request_invalid(&answer);
    assert_eq!(error["loc"], json!(["body", "items"]));
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn upserting_an_external_id_twice_in_one_request_is_rejected_whole() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;

    let answer = app.bulk_put(&dataset_id, &json!({"items": [external("new", "a"), external("dup", "b"), external("dup", "c")]})).await;

    // The message names the constraint rather than the position (`Record at position 2 ...`).
    let message = assert_invalid(&answer);
    assert!(message.contains("external_id"), "{message}");
    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn upserting_with_the_id_of_another_datasets_record_creates_a_new_record() {
    let app = TestApp::spawn().await;
    let workspace_id = app.owner_workspace_id().await;
    let source_id = app.create_comparison_dataset(&workspace_id, "source").await;
    let copy_id = app.create_comparison_dataset(&workspace_id, "copy").await;
    let source_record_id = app.create_record(&source_id).await;
    let mut record = comparison_record("copied");
    record["id"] = json!(source_record_id);

    let answer = app.bulk_put(&copy_id, &json!({"items": [record]})).await;

    assert_eq!(answer.status, 200, "{answer:?}");
    assert_ne!(id_of(&answer.body["items"][0]), source_record_id);
    assert_eq!(answer.body["items"][0]["dataset_id"], copy_id.as_str());
    assert_eq!(app.record_count(&copy_id).await, 1);
    assert_eq!(
        app.record(&source_record_id).await["fields"]["prompt"],
        "Which is better?"
    );
}

#[tokio::test]
async fn deleting_through_another_dataset_deletes_nothing() {
    let app = TestApp::spawn().await;
    let own_workspace_id = app.create_workspace("team").await;
    let admin = app.create_member(&own_workspace_id, "admin", "admin").await;
    let own_dataset_id = app
        .create_comparison_dataset(&own_workspace_id, "own")
        .await;
    let foreign_dataset_id = app.owner_dataset().await;
    let foreign_ids = app
        .create_records(&foreign_dataset_id, vec![comparison_record("keep me")])
        .await;

    let answer = app
        .with_key(&admin.api_key)
        .delete(&format!(
            "/api/v1/datasets/{own_dataset_id}/records?ids={}",
            foreign_ids[0]
        ))
        .await;

    assert_eq!(answer.status, 204, "{answer:?}");
    assert_eq!(app.record_count(&foreign_dataset_id).await, 1);
    crate::helpers::assert_forbidden(
        &app.with_key(&admin.api_key)
            .delete(&format!(
                "/api/v1/datasets/{foreign_dataset_id}/records?ids={}",
                foreign_ids[0]
            ))
            .await,
    );
    assert_eq!(app.record_count(&foreign_dataset_id).await, 1);
}
