//! The audit log: administrative actions are recorded with who did them, and only owners read it.

use serde_json::json;

use crate::helpers::{id_of, listed, TestApp};

#[tokio::test]
async fn administrative_actions_are_recorded_with_their_actor_and_only_owners_read_them() {
    let app = TestApp::spawn().await;
    let workspace = app.owner_workspace_id().await;
    let admin = app.create_member(&workspace, "admin", "admin").await;
    let annotator = app.create_member(&workspace, "annotator", "annotator").await;
    let owner = app.owner();
    let promoted = owner.patch(&format!("/api/v1/users/{}", annotator.id), &json!({"role": "admin", "password": "a new secret 99"})).await;
    assert_eq!(promoted.status, 200, "{promoted:?}");
    // The admin makes and deletes a dataset in their workspace.
    let as_admin = app.with_key(&admin.api_key);
    let dataset = as_admin.post("/api/v1/datasets", &json!({"name": "audited", "workspace_id": workspace})).await;
    assert_eq!(dataset.status, 201, "{dataset:?}");
    let dataset_id = id_of(&dataset.body);
    let field = as_admin.post(&format!("/api/v1/datasets/{dataset_id}/fields"), &json!({"name": "prompt", "title": "Prompt", "settings": {"type": "text"}})).await;
    assert_eq!(field.status, 201);
    assert_eq!(as_admin.delete(&format!("/api/v1/datasets/{dataset_id}")).await.status, 200);
    assert_eq!(owner.post(&format!("/api/v1/users/{}/api-key", admin.id), &json!({})).await.status, 200);

    let log = listed(&owner.get("/api/v1/audit-events").await);
    let summary: Vec<(String, String)> = log.iter().map(|entry| (entry["action"].as_str().unwrap().to_owned(), entry["actor_name"].as_str().unwrap().to_owned())).collect();
    let expected = [
        ("user.api_key_rotated", "argilla"),
        ("dataset.deleted", "admin"),
        ("setting.created", "admin"),
        ("dataset.created", "admin"),
        ("user.updated", "argilla"),
        ("workspace.member_added", "argilla"),
        ("user.created", "argilla"),
        ("workspace.member_added", "argilla"),
        ("user.created", "argilla"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(action, actor)| (action.to_string(), actor.to_string())).collect();
    assert_eq!(summary[..expected.len()], expected[..], "newest first");
    let promotion = &log[4];
    assert_eq!(promotion["target_id"], annotator.id.as_str());
    assert_eq!(promotion["details"]["changed"], json!(["role", "password"]));
    assert_eq!(promotion["details"]["role"], "admin");
    assert!(!promotion.to_string().contains("a new secret 99"), "no secret is ever logged");
    assert_eq!(log[1]["details"]["name"], "audited");
    assert_eq!(log[2]["target_kind"], "field");
    assert!(log.iter().all(|entry| !entry.to_string().contains(&admin.api_key)));

    // Paging: `before` a sequence gives the older entries.
    let first_page = listed(&owner.get("/api/v1/audit-events?limit=2").await);
    assert_eq!(first_page.len(), 2);
    let before = first_page[1]["sequence"].as_u64().unwrap();
    let next_page = listed(&owner.get(&format!("/api/v1/audit-events?limit=2&before={before}")).await);
    assert_eq!(next_page[0]["action"], "setting.created");
    assert!(next_page[0]["sequence"].as_u64().unwrap() < before);

    // Nobody else reads it.
    let as_promoted = app.with_key(&annotator.api_key);
    for caller in [app.with_key(&admin.api_key), as_promoted] {
        assert_ne!(caller.get("/api/v1/audit-events").await.status, 200);
    }
}
