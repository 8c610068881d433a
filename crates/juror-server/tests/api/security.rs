//! What each role may see and do beyond the route-level checks: API keys only for their users and
//! owners, labelers blind to each other's answers and to hidden metadata, answers held to
//! assignments and quotas, and keys that can be rotated.

use serde_json::{json, Value};

use crate::helpers::{comparison_record, id_of, listed, submitted_response, TestApp, TestUser};

/// The `api_key` of each listed user, by username.
fn keys_by_username(users: &[Value]) -> Vec<(String, Value)> {
    users.iter().map(|user| (user["username"].as_str().unwrap().to_owned(), user["api_key"].clone())).collect()
}

#[tokio::test]
async fn an_admin_listing_members_sees_no_one_elses_api_key() {
    let app = TestApp::spawn().await;
    let workspace = app.owner_workspace_id().await;
    let admin = app.create_member(&workspace, "admin", "admin").await;
    app.create_member(&workspace, "annotator", "annotator").await;
    let as_admin = app.with_key(&admin.api_key);

    let members = listed(&as_admin.get(&format!("/api/v1/workspaces/{workspace}/users")).await);
    for (username, key) in keys_by_username(&members) {
        let expected = if username == "admin" { json!(admin.api_key) } else { Value::Null };
        assert_eq!(key, expected, "{username}'s key as listed to an admin");
    }
    // The legacy route the argilla-v1 SDK calls needs a string: an empty one.
    let legacy = listed(&as_admin.get(&format!("/api/workspaces/{workspace}/users")).await);
    for (username, key) in keys_by_username(&legacy) {
        let expected = if username == "admin" { json!(admin.api_key) } else { json!("") };
        assert_eq!(key, expected, "{username}'s key as listed to an admin (legacy)");
    }
    assert_eq!(legacy.len(), 3);
    // The owner's key read by the admin no longer opens anything; owners still see every key.
    let owner_members = listed(&app.owner().get(&format!("/api/v1/workspaces/{workspace}/users")).await);
    assert!(keys_by_username(&owner_members).iter().all(|(_, key)| key.as_str().is_some_and(|key| !key.is_empty())));
    let removed = as_admin.delete(&format!("/api/v1/workspaces/{workspace}/users/{}", id_of(members.iter().find(|user| user["username"] == "annotator").unwrap()))).await;
    assert_eq!(removed.status, 200, "{removed:?}");
    assert_eq!(removed.body["api_key"], Value::Null);
}

/// A comparison dataset in the owner's workspace with `count` records and two annotators.
async fn two_labelers(app: &TestApp, count: usize) -> (String, Vec<String>, TestUser, TestUser) {
    let workspace = app.owner_workspace_id().await;
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let bob = app.create_member(&workspace, "bob", "annotator").await;
    let dataset = app.create_comparison_dataset(&workspace, "comparisons").await;
    let records = app.create_records(&dataset, (0..count).map(|index| comparison_record(&format!("prompt {index}"))).collect()).await;
    (dataset, records, alice, bob)
}

fn response_users(record: &Value) -> Vec<String> {
    record["responses"].as_array().unwrap_or_else(|| panic!("no responses in {record}")).iter().map(|response| response["user_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_annotator_reads_a_record_with_only_their_own_response() {
    let app = TestApp::spawn().await;
    let (dataset, records, alice, bob) = two_labelers(&app, 1).await;
    let record = &records[0];
    for user in [&alice, &bob] {
        let answer = app.with_key(&user.api_key).post(&format!("/api/v1/records/{record}/responses"), &submitted_response()).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    let as_alice = app.with_key(&alice.api_key).get(&format!("/api/v1/records/{record}")).await;
    assert_eq!(as_alice.status, 200, "{as_alice:?}");
    assert_eq!(response_users(&as_alice.body), vec![alice.id.clone()]);
    let searched = app.with_key(&bob.api_key).post(&format!("/api/v1/me/datasets/{dataset}/records/search?include=responses"), &json!({})).await;
    assert_eq!(searched.status, 200, "{searched:?}");
    assert_eq!(response_users(&searched.body["items"][0]["record"]), vec![bob.id.clone()]);
    let as_owner = app.owner().get(&format!("/api/v1/records/{record}")).await;
    let mut everyone = response_users(&as_owner.body);
    everyone.sort();
    let mut expected = vec![alice.id.clone(), bob.id.clone()];
    expected.sort();
    assert_eq!(everyone, expected);
}

#[tokio::test]
async fn sorting_my_records_by_an_answer_never_reads_another_labelers_answers() {
    let app = TestApp::spawn().await;
    let (dataset, records, alice, bob) = two_labelers(&app, 3).await;
    // Bob rates the records 1, 5, 3; Alice has answered nothing.
    for (record, rating) in records.iter().zip([1, 5, 3]) {
        let mut response = submitted_response();
        response["values"]["quality"] = json!({"value": rating});
        let answer = app.with_key(&bob.api_key).post(&format!("/api/v1/records/{record}/responses"), &response).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    let order = |by_whom: &TestUser, order: &'static str| {
        let body = json!({"sort": [{"scope": {"entity": "response", "question": "quality"}, "order": order}]});
        let path = format!("/api/v1/me/datasets/{dataset}/records/search");
        let key = by_whom.api_key.clone();
        let app = &app;
        async move {
            let answer = app.with_key(&key).post(&path, &body).await;
            assert_eq!(answer.status, 200, "{answer:?}");
            answer.body["items"].as_array().unwrap().iter().map(|item| id_of(&item["record"])).collect::<Vec<_>>()
        }
    };
    // Bob's own answers order his view; Alice's view, with no answers, is insertion order both ways.
    assert_eq!(order(&bob, "desc").await, vec![records[1].clone(), records[2].clone(), records[0].clone()]);
    assert_eq!(order(&alice, "desc").await, records);
    assert_eq!(order(&alice, "asc").await, records);
}

/// A dataset whose records carry a visible `topic` and a hidden `source`.
async fn hidden_metadata(app: &TestApp) -> (String, String, String, TestUser) {
    let workspace = app.owner_workspace_id().await;
    let annotator = app.create_member(&workspace, "annotator", "annotator").await;
    let dataset = app.create_comparison_dataset(&workspace, "comparisons").await;
    let owner = app.owner();
    let topic = json!({"name": "topic", "title": "Topic", "settings": {"type": "terms"}});
    let source = json!({"name": "source", "title": "Source", "settings": {"type": "terms"}, "visible_for_annotators": false});
    assert_eq!(owner.post(&format!("/api/v1/datasets/{dataset}/metadata-properties"), &topic).await.status, 201);
    let created = owner.post(&format!("/api/v1/datasets/{dataset}/metadata-properties"), &source).await;
    assert_eq!(created.status, 201, "{created:?}");
    let mut record = comparison_record("Which is better?");
    record["metadata"] = json!({"topic": "math", "source": "vendor-a"});
    let record = app.create_records(&dataset, vec![record]).await.remove(0);
    (dataset, record, id_of(&created.body), annotator)
}

#[tokio::test]
async fn metadata_hidden_from_annotators_is_hidden_everywhere() {
    let app = TestApp::spawn().await;
    let (dataset, record, source_property, annotator) = hidden_metadata(&app).await;
    let as_annotator = app.with_key(&annotator.api_key);

    let read = as_annotator.get(&format!("/api/v1/records/{record}")).await;
    assert_eq!(read.body["metadata"], json!({"topic": "math"}), "{read:?}");
    let search = format!("/api/v1/me/datasets/{dataset}/records/search");
    let searched = as_annotator.post(&search, &json!({})).await;
    assert_eq!(searched.body["items"][0]["record"]["metadata"], json!({"topic": "math"}), "{searched:?}");
    let next = as_annotator.post(&format!("/api/v1/me/datasets/{dataset}/records/next"), &json!({})).await;
    assert_eq!(next.status, 200, "{next:?}");
    assert_eq!(next.body["record"]["metadata"], json!({"topic": "math"}), "{next:?}");

    // Filtering or sorting by it reads as an unknown property: no oracle for its values.
    let by_source = json!({"filters": {"and": [{"type": "terms", "scope": {"entity": "metadata", "metadata_property": "source"}, "values": ["vendor-a"]}]}});
    let filtered = as_annotator.post(&search, &by_source).await;
    assert_eq!(filtered.status, 422, "{filtered:?}");
    let unknown = json!({"filters": {"and": [{"type": "terms", "scope": {"entity": "metadata", "metadata_property": "nothing"}, "values": ["x"]}]}});
    assert_eq!(as_annotator.post(&search, &unknown).await.body["detail"].as_str().map(|message| message.replace("nothing", "source")), filtered.body["detail"].as_str().map(str::to_owned));
    let sorted = as_annotator.post(&search, &json!({"sort": [{"scope": {"entity": "metadata", "metadata_property": "source"}}]})).await;
    assert_eq!(sorted.status, 422, "{sorted:?}");
    let metrics = as_annotator.get(&format!("/api/v1/metadata-properties/{source_property}/metrics")).await;
    assert_eq!(metrics.status, 403, "{metrics:?}");

    // Owners see and use it.
    let owner = app.owner();
    assert_eq!(owner.get(&format!("/api/v1/records/{record}")).await.body["metadata"], json!({"topic": "math", "source": "vendor-a"}));
    let as_owner = owner.post(&search, &by_source).await;
    assert_eq!(as_owner.status, 200, "{as_owner:?}");
    assert_eq!(owner.get(&format!("/api/v1/metadata-properties/{source_property}/metrics")).await.status, 200);
}

#[tokio::test]
async fn answers_without_a_hand_out_obey_assignments() {
    let app = TestApp::spawn().await;
    let (dataset, records, alice, bob) = two_labelers(&app, 2).await;
    let assign = json!({"items": [{"record_id": records[0], "user_ids": [bob.id]}]});
    let answer = app.owner().put(&format!("/api/v1/datasets/{dataset}/assignments"), &assign).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    let as_alice = app.with_key(&alice.api_key);
    let refused = as_alice.post(&format!("/api/v1/records/{}/responses", records[0]), &submitted_response()).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.body["detail"]["params"]["detail"], "the record is assigned to other labelers");
    let draft = json!({"status": "draft", "values": {}});
    assert_eq!(as_alice.post(&format!("/api/v1/records/{}/responses", records[0]), &draft).await.status, 403);
    let bulk = as_alice.post("/api/v1/me/responses/bulk", &json!({"items": [{"record_id": records[0], "status": "submitted", "values": submitted_response()["values"]}]})).await;
    assert_eq!(bulk.status, 200, "{bulk:?}");
    assert!(bulk.body["items"][0]["error"].is_object() || bulk.body["items"][0]["error"].is_string(), "{bulk:?}");
    // Nothing of Alice's was stored; the unassigned record and Bob's own are open to them.
    assert!(app.responses_of(&records[0]).await.is_empty());
    assert_eq!(as_alice.post(&format!("/api/v1/records/{}/responses", records[1]), &submitted_response()).await.status, 201);
    assert_eq!(app.with_key(&bob.api_key).post(&format!("/api/v1/records/{}/responses", records[0]), &submitted_response()).await.status, 201);
}

#[tokio::test]
async fn answers_without_a_hand_out_obey_quotas() {
    let app = TestApp::spawn().await;
    let (dataset, records, alice, _) = two_labelers(&app, 3).await;
    let quota_path = format!("/api/v1/datasets/{dataset}/quotas/{}", alice.id);
    assert_eq!(app.owner().put(&quota_path, &json!({"max_records": 1})).await.status, 200);
    let as_alice = app.with_key(&alice.api_key);
    let first = as_alice.post(&format!("/api/v1/records/{}/responses", records[0]), &submitted_response()).await;
    assert_eq!(first.status, 201, "{first:?}");
    let second = as_alice.post(&format!("/api/v1/records/{}/responses", records[1]), &submitted_response()).await;
    assert_eq!(second.status, 403, "{second:?}");
    assert_eq!(second.body["detail"]["params"]["detail"], "the labeler's quota of 1 submitted records in this dataset is reached");
    // A draft is kept; submitting it is refused; editing the submitted answer is not.
    let draft = as_alice.post(&format!("/api/v1/records/{}/responses", records[1]), &json!({"status": "draft", "values": {}})).await;
    assert_eq!(draft.status, 201, "{draft:?}");
    let draft_id = id_of(&draft.body);
    assert_eq!(as_alice.put(&format!("/api/v1/responses/{draft_id}"), &submitted_response()).await.status, 403);
    assert_eq!(as_alice.put(&format!("/api/v1/responses/{}", id_of(&first.body)), &submitted_response()).await.status, 200);
    // Lifted, the draft goes through.
    assert_eq!(app.owner().put(&quota_path, &json!({"max_records": null})).await.status, 200);
    assert_eq!(as_alice.put(&format!("/api/v1/responses/{draft_id}"), &submitted_response()).await.status, 200);
}

#[tokio::test]
async fn a_rotated_api_key_replaces_the_old_one_at_once() {
    let app = TestApp::spawn().await;
    let workspace = app.owner_workspace_id().await;
    let annotator = app.create_member(&workspace, "annotator", "annotator").await;
    let other = app.create_member(&workspace, "other", "annotator").await;
    let rotate = |user: &TestUser| format!("/api/v1/users/{}/api-key", user.id);

    // Nobody rotates another user's key but an owner.
    assert_eq!(app.with_key(&other.api_key).post(&rotate(&annotator), &json!({})).await.status, 403);
    let rotated = app.with_key(&annotator.api_key).post(&rotate(&annotator), &json!({})).await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new_key = rotated.body["api_key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, annotator.api_key);
    assert_eq!(app.with_key(&annotator.api_key).get("/api/v1/me").await.status, 401);
    assert_eq!(app.with_key(&new_key).get("/api/v1/me").await.body["username"], "annotator");
    let by_owner = app.owner().post(&rotate(&annotator), &json!({})).await;
    assert_eq!(by_owner.status, 200);
    assert_eq!(app.with_key(&new_key).get("/api/v1/me").await.status, 401);
}

#[tokio::test]
async fn a_dataset_update_never_undoes_a_change_made_by_another_process_a_moment_before() {
    let app = TestApp::spawn().await;
    let dataset = app.owner_dataset().await;
    // The server has the dataset in its one-second cache.
    assert_eq!(app.owner().get(&format!("/api/v1/datasets/{dataset}")).await.status, 200);
    let other = app.other_process().await;
    let owner = other.store().find_user_by_username("argilla").await.unwrap().unwrap();
    let patch = juror_app::DatasetPatch { guidelines: Some(Some("Changed elsewhere.".into())), ..Default::default() };
    other.update_dataset(&juror_app::Caller { user: owner }, dataset.parse().unwrap(), patch).await.unwrap();
    let answer = app.owner().patch(&format!("/api/v1/datasets/{dataset}"), &json!({"distribution": {"strategy": "overlap", "min_submitted": 3}})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["guidelines"], "Changed elsewhere.");
    assert_eq!(answer.body["distribution"]["min_submitted"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_submissions_cannot_pass_a_quota_together() {
    let app = TestApp::spawn().await;
    let (dataset, records, alice, _) = two_labelers(&app, 12).await;
    let quota = app.owner().put(&format!("/api/v1/datasets/{dataset}/quotas/{}", alice.id), &json!({"max_records": 2})).await;
    assert_eq!(quota.status, 200);
    let client = reqwest::Client::new();
    let submits = records.iter().map(|record| {
        client.post(format!("{}/api/v1/records/{record}/responses", app.base_url)).header("X-Argilla-Api-Key", &alice.api_key).json(&submitted_response()).send()
    });
    let statuses: Vec<u16> = futures_statuses(submits).await;
    assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|status| **status == 403).count(), records.len() - 2, "{statuses:?}");
    let progress = app.owner().get(&format!("/api/v1/datasets/{dataset}/users/progress")).await;
    assert_eq!(progress.body["users"][0]["pending"]["submitted"].as_u64().unwrap() + progress.body["users"][0]["completed"]["submitted"].as_u64().unwrap(), 2);
}

/// Sends every request at once and returns their statuses.
async fn futures_statuses(requests: impl Iterator<Item = impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static>) -> Vec<u16> {
    let tasks: Vec<_> = requests.map(tokio::spawn).collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().unwrap().status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn metrics_are_not_served_unless_turned_on() {
    let app = TestApp::spawn().await;
    assert_eq!(app.owner().get("/metrics").await.status, 404, "off by default, even for the owner");
    let open = TestApp::spawn_with(juror_server::ServerConfig { metrics: juror_server::MetricsAccess::Open, ..TestApp::config() }).await;
    let scraped = open.anonymous().get("/metrics").await;
    assert_eq!(scraped.status, 200, "{scraped:?}");
}
