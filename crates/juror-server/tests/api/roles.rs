//! Authorization: what owners, admins and annotators may do, and that a refused write changes
//! nothing.

use serde_json::json;

use crate::helpers::{
    assert_forbidden, comparison_record, id_of, submitted_response, TestApp,
};


fn usernames(body: &serde_json::Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("users are listed under items")
        .iter()
        .map(|user| user["username"].as_str().unwrap().to_owned())
        .collect()
}

fn names(body: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = body["items"]
        .as_array()
        .expect("listed under items")
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn annotator_cannot_list_users() {
    let (app, annotator, _, _) = TestApp::with_annotator().await;

    assert_forbidden(&app.with_key(&annotator.api_key).get("/api/v1/users").await);
}

#[tokio::test]
async fn annotator_cannot_create_users() {
    let (app, annotator, _, _) = TestApp::with_annotator().await;
    let body = json!({"first_name": "Mallory", "username": "mallory", "role": "owner", "password": "password1234"});

    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .post("/api/v1/users", &body)
            .await,
    );

    let users = app.owner().get("/api/v1/users").await;
    assert_eq!(users.status, 200, "{users:?}");
    assert_eq!(usernames(&users.body), ["argilla", "annotator"]);
}

#[tokio::test]
async fn annotator_cannot_create_workspaces() {
    let (app, annotator, _, _) = TestApp::with_annotator().await;

    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .post("/api/v1/workspaces", &json!({"name": "mine"}))
            .await,
    );

    let workspaces = app.owner().get("/api/v1/me/workspaces").await;
    assert_eq!(names(&workspaces.body), ["argilla"]);
}

#[tokio::test]
async fn annotator_cannot_delete_a_workspace() {
    let (app, annotator, _, _) = TestApp::with_annotator().await;
    let empty_workspace_id = app.create_workspace("empty").await;
    app.add_member(&empty_workspace_id, &annotator).await;

    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .delete(&format!("/api/v1/workspaces/{empty_workspace_id}"))
            .await,
    );

    let workspace = app
        .owner()
        .get(&format!("/api/v1/workspaces/{empty_workspace_id}"))
        .await;
    assert_eq!(workspace.status, 200, "{workspace:?}");
    assert_eq!(workspace.body["name"], "empty");
}

#[tokio::test]
async fn annotator_cannot_create_a_dataset_in_their_own_workspace() {
    let (app, annotator, workspace_id, _) = TestApp::with_annotator().await;

    let answer = app
        .with_key(&annotator.api_key)
        .post(
            "/api/v1/datasets",
            &json!({"name": "annotators-own", "workspace_id": workspace_id}),
        )
        .await;

    assert_forbidden(&answer);
    assert_eq!(
        names(&app.owner().get("/api/v1/me/datasets").await.body),
        ["comparisons"]
    );
}

#[tokio::test]
async fn annotator_cannot_create_records() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let body = json!({"items": [comparison_record("from an annotator")]});

    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .post(
                &format!("/api/v1/datasets/{dataset_id}/records/bulk"),
                &body,
            )
            .await,
    );
    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .put(
                &format!("/api/v1/datasets/{dataset_id}/records/bulk"),
                &body,
            )
            .await,
    );
    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .post(&format!("/api/v1/datasets/{dataset_id}/records"), &body)
            .await,
    );

    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn annotator_cannot_list_records_with_all_responses() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    app.create_record(&dataset_id).await;

    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .get(&format!("/api/v1/datasets/{dataset_id}/records"))
            .await,
    );
    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .get(&format!(
                "/api/v1/datasets/{dataset_id}/records?include=responses"
            ))
            .await,
    );
}

#[tokio::test]
async fn annotator_sees_only_datasets_of_their_workspaces() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let other_workspace_id = app.create_workspace("other").await;
    let hidden_id = app
        .create_comparison_dataset(&other_workspace_id, "hidden")
        .await;

    let mine = app
        .with_key(&annotator.api_key)
        .get("/api/v1/me/datasets")
        .await;
    assert_eq!(mine.status, 200, "{mine:?}");
    let ids: Vec<String> = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ids, std::slice::from_ref(&dataset_id));
    assert_eq!(mine.body["items"][0]["name"], "comparisons");
    assert_eq!(mine.body["items"][0]["status"], "ready");

    let all = app.owner().get("/api/v1/me/datasets").await;
    let mut all_ids: Vec<String> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    all_ids.sort();
    let mut expected = vec![dataset_id, hidden_id];
    expected.sort();
    assert_eq!(all_ids, expected);
}

#[tokio::test]
async fn annotator_cannot_read_a_dataset_of_another_workspace() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let other_workspace_id = app.create_workspace("other").await;
    let hidden_id = app
        .create_comparison_dataset(&other_workspace_id, "hidden")
        .await;

    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .get(&format!("/api/v1/datasets/{hidden_id}"))
            .await,
    );

    let own = app
        .with_key(&annotator.api_key)
        .get(&format!("/api/v1/datasets/{dataset_id}"))
        .await;
    assert_eq!(own.status, 200, "{own:?}");
    assert_eq!(own.body["id"], dataset_id.as_str());
}

#[tokio::test]
async fn reading_an_unknown_dataset_is_not_found() {
    let (app, annotator, _, _) = TestApp::with_annotator().await;
    let unknown = uuid::Uuid::new_v4();

    for caller in [app.with_key(&annotator.api_key), app.owner()] {
        let answer = caller.get(&format!("/api/v1/datasets/{unknown}")).await;
        assert_eq!(answer.status, 404, "{answer:?}");
        assert_eq!(
            answer.body,
            json!({"detail": format!("Dataset with id `{unknown}` not found")})
        );
    }
}

#[tokio::test]
async fn admin_can_create_datasets_in_their_workspace() {
    let app = TestApp::spawn().await;
    let workspace_id = app.create_workspace("team").await;
    let admin = app.create_member(&workspace_id, "admin", "admin").await;

    let answer = app
        .with_key(&admin.api_key)
        .post(
            "/api/v1/datasets",
            &json!({"name": "admins", "workspace_id": workspace_id}),
        )
        .await;

    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(answer.body["name"], "admins");
    assert_eq!(answer.body["workspace_id"], workspace_id.as_str());
    assert_eq!(answer.body["status"], "draft");
    assert_eq!(
        answer.body["distribution"],
        json!({"strategy": "overlap", "min_submitted": 1})
    );
    let listed = app
        .with_key(&admin.api_key)
        .get("/api/v1/me/datasets")
        .await;
    assert_eq!(names(&listed.body), ["admins"]);
}

#[tokio::test]
async fn admin_cannot_create_datasets_in_a_workspace_they_do_not_belong_to() {
    let app = TestApp::spawn().await;
    let own_workspace_id = app.create_workspace("team").await;
    let foreign_workspace_id = app.create_workspace("elsewhere").await;
    let admin = app.create_member(&own_workspace_id, "admin", "admin").await;

    let answer = app
        .with_key(&admin.api_key)
        .post(
            "/api/v1/datasets",
            &json!({"name": "intruder", "workspace_id": foreign_workspace_id}),
        )
        .await;

    assert_forbidden(&answer);
    let datasets = app
        .owner()
        .get(&format!(
            "/api/v1/me/datasets?workspace_id={foreign_workspace_id}"
        ))
        .await;
    assert_eq!(datasets.body, json!({"items": []}));
}

#[tokio::test]
async fn annotator_can_answer_records_in_their_workspace() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let record_id = app.create_record(&dataset_id).await;

    let answer = app
        .with_key(&annotator.api_key)
        .post(
            &format!("/api/v1/records/{record_id}/responses"),
            &submitted_response(),
        )
        .await;

    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(answer.body["record_id"], record_id.as_str());
    assert_eq!(answer.body["user_id"], annotator.id.as_str());
    assert_eq!(answer.body["status"], "submitted");
    assert_eq!(answer.body["values"], submitted_response()["values"]);
    assert!(answer.body["id"].is_string() && answer.body["inserted_at"].is_string());
    let stored = app.responses_of(&record_id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], answer.body["id"]);
}

#[tokio::test]
async fn a_second_response_to_the_same_record_is_a_conflict() {
    let (app, annotator, _, dataset_id) = TestApp::with_annotator().await;
    let record_id = app.create_record(&dataset_id).await;
    let path = format!("/api/v1/records/{record_id}/responses");
    let first = app
        .with_key(&annotator.api_key)
        .post(&path, &submitted_response())
        .await;
    assert_eq!(first.status, 201, "{first:?}");

    let second = app
        .with_key(&annotator.api_key)
        .post(&path, &json!({"status": "discarded"}))
        .await;

    assert_eq!(second.status, 409, "{second:?}");
    assert_eq!(
        second.body,
        json!({"detail": format!("Response already exists for record with id `{record_id}` and by user with id `{}`", annotator.id)})
    );
    let stored = app.responses_of(&record_id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["status"], "submitted");
}

#[tokio::test]
async fn annotator_cannot_answer_records_outside_their_workspaces() {
    let (app, annotator, _, _) = TestApp::with_annotator().await;
    let other_workspace_id = app.create_workspace("other").await;
    let hidden_id = app
        .create_comparison_dataset(&other_workspace_id, "hidden")
        .await;
    let record_id = app.create_record(&hidden_id).await;

    assert_forbidden(
        &app.with_key(&annotator.api_key)
            .post(
                &format!("/api/v1/records/{record_id}/responses"),
                &submitted_response(),
            )
            .await,
    );

    assert!(app.responses_of(&record_id).await.is_empty());
}
