//! Authentication: the API-key header, the 401 body, and the endpoints that need no key.

use serde_json::json;

use crate::helpers::{assert_unauthorized, comparison_record, TestApp};

#[tokio::test]
async fn requests_without_an_api_key_are_unauthorized() {
    let app = TestApp::spawn().await;

    assert_unauthorized(&app.anonymous().get("/api/v1/me").await);
    assert_unauthorized(&app.anonymous().get("/api/v1/me/datasets").await);
}

#[tokio::test]
async fn requests_with_an_unknown_api_key_are_unauthorized() {
    let app = TestApp::spawn().await;

    assert_unauthorized(&app.with_key("not-a-key").get("/api/v1/me").await);
    assert_unauthorized(&app.with_key("").get("/api/v1/users").await);
}

#[tokio::test]
async fn unauthenticated_writes_store_nothing() {
    let app = TestApp::spawn().await;
    let dataset_id = app.owner_dataset().await;
    let body = json!({"items": [comparison_record("sneaky")]});

    assert_unauthorized(
        &app.anonymous()
            .post(
                &format!("/api/v1/datasets/{dataset_id}/records/bulk"),
                &body,
            )
            .await,
    );
    assert_unauthorized(
        &app.with_key("wrong")
            .post(
                &format!("/api/v1/datasets/{dataset_id}/records/bulk"),
                &body,
            )
            .await,
    );

    assert_eq!(app.record_count(&dataset_id).await, 0);
}

#[tokio::test]
async fn the_default_owner_authenticates_with_its_api_key() {
    let app = TestApp::spawn().await;

    let answer = app.owner().get("/api/v1/me").await;

    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["username"], "argilla");
    assert_eq!(answer.body["role"], "owner");
    assert_eq!(answer.body["api_key"], "argilla.apikey");
    assert!(answer.body["id"].is_string() && answer.body["inserted_at"].is_string());
}

#[tokio::test]
async fn the_legacy_status_and_info_endpoints_need_no_credentials() {
    let app = TestApp::spawn().await;

    let status = app.anonymous().get("/api/_status").await;
    assert_eq!(status.status, 200, "{status:?}");
    assert!(
        status.body["version"]
            .as_str()
            .is_some_and(|version| version.starts_with("1.29.")),
        "{status:?}"
    );
    assert!(
        status.body["elasticsearch"].is_object() && status.body["mem_info"].is_object(),
        "{status:?}"
    );

    let info = app.anonymous().get("/api/_info").await;
    assert_eq!(info.status, 200, "{info:?}");
    assert_eq!(info.body, json!({"version": status.body["version"]}));
}

#[tokio::test]
async fn the_v1_version_and_status_endpoints_need_no_credentials() {
    let app = TestApp::spawn().await;

    let version = app.anonymous().get("/api/v1/version").await;
    assert_eq!(version.status, 200, "{version:?}");
    assert_eq!(version.body, json!({"version": "2.8.0"}));

    let status = app.anonymous().get("/api/v1/status").await;
    assert_eq!(status.status, 200, "{status:?}");
    assert_eq!(status.body["version"], "2.8.0");
}

#[tokio::test]
async fn a_bearer_api_key_is_accepted() {
    let app = TestApp::spawn().await;

    let answer = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base_url))
        .header("Authorization", "Bearer argilla.apikey")
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap()["username"],
        "argilla"
    );
}

#[tokio::test]
async fn a_deleted_user_can_no_longer_authenticate() {
    let app = TestApp::spawn().await;
    let user = app.create_user("leaving", "admin").await;
    assert_eq!(
        app.with_key(&user.api_key).get("/api/v1/me").await.status,
        200
    );

    let deleted = app
        .owner()
        .delete(&format!("/api/v1/users/{}", user.id))
        .await;
    assert_eq!(deleted.status, 200, "{deleted:?}");

    assert_unauthorized(&app.with_key(&user.api_key).get("/api/v1/me").await);
}

#[tokio::test]
async fn a_demoted_user_loses_their_rights_at_once() {
    let app = TestApp::spawn().await;
    let user = app.create_user("demoted", "owner").await;
    assert_eq!(
        app.with_key(&user.api_key)
            .get("/api/v1/users")
            .await
            .status,
        200
    );

    let patched = app
        .owner()
        .patch(
            &format!("/api/v1/users/{}", user.id),
            &json!({"role": "annotator"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{patched:?}");
    assert_eq!(patched.body["role"], "annotator");

    crate::helpers::assert_forbidden(&app.with_key(&user.api_key).get("/api/v1/users").await);
}
