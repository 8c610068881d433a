//! Workload distribution: leased hand-outs, skips, assignments, quotas, and exactness under
//! concurrency with real HTTP clients, one per labeler.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{comparison_record, id_of, submitted_response, Answer, TestApp, TestUser};

async fn labelers(app: &TestApp, workspace: &str, count: usize) -> Vec<TestUser> {
    let mut users = Vec::with_capacity(count);
    for index in 0..count {
        users.push(app.create_member(workspace, &format!("labeler-{index}"), "annotator").await);
    }
    users
}

async fn dataset_with(app: &TestApp, records: usize, min_submitted: u32) -> (String, String) {
    let workspace = app.owner_workspace_id().await;
    let dataset = app.create_comparison_dataset(&workspace, "distributed").await;
    let patch = json!({"distribution": {"strategy": "overlap", "min_submitted": min_submitted}});
    assert_eq!(app.owner().patch(&format!("/api/v1/datasets/{dataset}"), &patch).await.status, 200);
    for chunk in (0..records).collect::<Vec<_>>().chunks(500) {
        let items = chunk.iter().map(|index| comparison_record(&format!("prompt {index}"))).collect();
        app.create_records(&dataset, items).await;
    }
    (workspace, dataset)
}

async fn next(app: &TestApp, user: &TestUser, dataset: &str) -> Option<String> {
    let answer = app.with_key(&user.api_key).post(&format!("/api/v1/me/datasets/{dataset}/records/next"), &json!({})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body["record"].as_object().map(|record| record["id"].as_str().unwrap().to_owned())
}

/// `user` answers `record` with `body` through the API.
async fn answer(app: &TestApp, user: &TestUser, record: &str, body: &Value) -> Answer {
    app.with_key(&user.api_key).post(&format!("/api/v1/records/{record}/responses"), body).await
}

async fn submit(app: &TestApp, user: &TestUser, record: &str) {
    let answer = answer(app, user, record, &submitted_response()).await;
    assert_eq!(answer.status, 201, "{answer:?}");
}

/// The submitted ranking, with another status.
fn response_with_status(status: &str) -> Value {
    let mut body = submitted_response();
    body["status"] = json!(status);
    body
}

#[tokio::test]
async fn next_leases_a_record_and_repeats_it_until_answered() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 3, 1).await;
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let answer = app.with_key(&alice.api_key).post(&format!("/api/v1/me/datasets/{dataset}/records/next"), &json!({})).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["lease"]["user_id"], alice.id.as_str());
    assert!(answer.body["lease"]["expires_at"].is_string());
    assert_eq!(answer.body["record"]["fields"]["prompt"], "prompt 0");
    let first = id_of(&answer.body["record"]);
    assert_eq!(next(&app, &alice, &dataset).await, Some(first.clone()), "a held lease is returned again");
    submit(&app, &alice, &first).await;
    let second = next(&app, &alice, &dataset).await.unwrap();
    assert_ne!(second, first, "an answered record is never handed out again to the same labeler");
    let leases = app.owner().get(&format!("/api/v1/datasets/{dataset}/leases")).await;
    assert_eq!(leases.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(leases.body["items"][0]["record_id"], second.as_str());
}

#[tokio::test]
async fn an_answer_to_a_handed_out_record_is_checked_like_any_other() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 2, 1).await;
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let first = next(&app, &alice, &dataset).await.unwrap();
    let stranger = app.create_member(&app.create_workspace("elsewhere").await, "mallory", "annotator").await;
    let refused = answer(&app, &stranger, &first, &submitted_response()).await;
    assert_eq!(refused.status, 403, "only members of the record's workspace may answer it: {refused:?}");
    let bad = json!({"status": "submitted", "values": {"preference": {"value": [{"value": "response-9", "rank": 1}]}}});
    let invalid = answer(&app, &alice, &first, &bad).await;
    assert_eq!(invalid.status, 422, "{invalid:?}");
    submit(&app, &alice, &first).await;
    let second = next(&app, &alice, &dataset).await.unwrap();
    assert_eq!(app.owner().delete(&format!("/api/v1/records/{second}")).await.status, 200);
    let gone = answer(&app, &alice, &second, &submitted_response()).await;
    assert_eq!(gone.status, 404, "a record deleted after the hand-out: {gone:?}");
}

/// Claims follow every way an answer can end a lease: a draft keeps the claim, a draft turned
/// submitted completes the record, a discard gives the claim back, withdrawing a submission
/// reopens the record.
#[tokio::test]
async fn drafts_keep_a_claim_discards_give_it_back_and_withdrawals_reopen() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 2, 1).await;
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let bob = app.create_member(&workspace, "bob", "annotator").await;
    let first = next(&app, &alice, &dataset).await.unwrap();
    let created = answer(&app, &alice, &first, &response_with_status("draft")).await;
    assert_eq!(created.status, 201, "{created:?}");
    let second = next(&app, &bob, &dataset).await.unwrap();
    assert_ne!(second, first, "alice's draft keeps her claim");
    let submitted = app.with_key(&alice.api_key).put(&format!("/api/v1/responses/{}", id_of(&created.body)), &submitted_response()).await;
    assert_eq!(submitted.status, 200, "{submitted:?}");
    let discarded = answer(&app, &bob, &second, &response_with_status("discarded")).await;
    assert_eq!(discarded.status, 201, "{discarded:?}");
    assert_eq!(next(&app, &alice, &dataset).await, Some(second.clone()), "bob's discard gave the claim back");
    submit(&app, &alice, &second).await;
    assert_eq!(next(&app, &bob, &dataset).await, None, "both records are complete");
    assert_eq!(app.with_key(&alice.api_key).delete(&format!("/api/v1/responses/{}", id_of(&created.body))).await.status, 200);
    assert_eq!(next(&app, &bob, &dataset).await, Some(first), "a withdrawn submission reopens the record");
}

#[tokio::test]
async fn a_record_goes_to_at_most_min_submitted_labelers_at_once() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 2, 2).await;
    let users = labelers(&app, &workspace, 5).await;
    let mut holders: HashMap<String, usize> = HashMap::new();
    let mut empty = 0;
    for user in &users {
        match next(&app, user, &dataset).await {
            Some(record) => *holders.entry(record).or_default() += 1,
            None => empty += 1,
        }
    }
    assert_eq!(holders.values().copied().collect::<Vec<_>>().iter().sum::<usize>(), 4);
    assert!(holders.values().all(|count| *count == 2), "{holders:?}");
    assert_eq!(empty, 1, "the fifth labeler finds nothing open");
}

#[tokio::test]
async fn skipped_records_come_back_last_and_releasing_frees_the_claim() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 2, 1).await;
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let bob = app.create_member(&workspace, "bob", "annotator").await;
    let first = next(&app, &alice, &dataset).await.unwrap();
    let skipped = app.with_key(&alice.api_key).post(&format!("/api/v1/records/{first}/skip"), &json!({})).await;
    assert_eq!(skipped.body, json!({"released": true, "skipped": true}));
    let second = next(&app, &alice, &dataset).await.unwrap();
    assert_ne!(second, first, "the skipped record waits behind the others");
    submit(&app, &alice, &second).await;
    assert_eq!(next(&app, &alice, &dataset).await, Some(first.clone()), "with nothing else left, the skipped record returns");
    assert_eq!(next(&app, &bob, &dataset).await, None, "alice holds the only open record");
    let released = app.with_key(&alice.api_key).delete(&format!("/api/v1/records/{first}/lease")).await;
    assert_eq!(released.body["released"], true);
    assert_eq!(next(&app, &bob, &dataset).await, Some(first), "a released record is open again");
}

#[tokio::test]
async fn expired_leases_are_reclaimed() {
    // Long enough that a slow machine still asks for bob inside alice's lease.
    let app = TestApp::spawn_with_lease(Duration::from_secs(2)).await;
    let (workspace, dataset) = dataset_with(&app, 1, 1).await;
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let bob = app.create_member(&workspace, "bob", "annotator").await;
    let record = next(&app, &alice, &dataset).await.unwrap();
    assert_eq!(next(&app, &bob, &dataset).await, None);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(next(&app, &bob, &dataset).await, Some(record));
}

#[tokio::test]
async fn assignments_and_splits_restrict_who_gets_a_record() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 9, 1).await;
    let users = labelers(&app, &workspace, 3).await;
    let ids: Vec<&str> = users.iter().map(|user| user.id.as_str()).collect();
    let split = app.owner().post(&format!("/api/v1/datasets/{dataset}/assignments/split"), &json!({"user_ids": ids, "overlap": 1})).await;
    assert_eq!(split.status, 200, "{split:?}");
    let counts: Vec<u64> = split.body["items"].as_array().unwrap().iter().map(|item| item["records"].as_u64().unwrap()).collect();
    assert_eq!(counts, vec![3, 3, 3]);
    let assignments = app.owner().get(&format!("/api/v1/datasets/{dataset}/assignments")).await;
    let assigned: HashMap<String, String> = assignments.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["record_id"].as_str().unwrap().to_owned(), item["user_id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(assigned.len(), 9);
    for user in &users {
        let mut mine = 0;
        while let Some(record) = next(&app, user, &dataset).await {
            assert_eq!(assigned[&record], user.id, "a record goes only to its labeler");
            submit(&app, user, &record).await;
            mine += 1;
        }
        assert_eq!(mine, 3);
    }
    let annotator = &users[0];
    let refused = app.with_key(&annotator.api_key).put(&format!("/api/v1/datasets/{dataset}/assignments"), &json!({"items": []})).await;
    assert_eq!(refused.status, 403);
    let too_many = app.owner().post(&format!("/api/v1/datasets/{dataset}/assignments/split"), &json!({"user_ids": [ids[0]], "overlap": 2})).await;
    assert_eq!(too_many.status, 422);
}

#[tokio::test]
async fn quotas_cap_what_a_labeler_takes() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 5, 1).await;
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let quota = app.owner().put(&format!("/api/v1/datasets/{dataset}/quotas/{}", alice.id), &json!({"max_records": 2})).await;
    assert_eq!(quota.status, 200, "{quota:?}");
    for _ in 0..2 {
        let record = next(&app, &alice, &dataset).await.unwrap();
        submit(&app, &alice, &record).await;
    }
    assert_eq!(next(&app, &alice, &dataset).await, None);
    let lifted = app.owner().put(&format!("/api/v1/datasets/{dataset}/quotas/{}", alice.id), &json!({"max_records": null})).await;
    assert_eq!(lifted.status, 200);
    assert!(next(&app, &alice, &dataset).await.is_some());
}

/// Runs `labelers` concurrent HTTP clients until the dataset has nothing left for any of them.
/// A labeler whose index is a multiple of `walk_away_every` (when set) abandons every third lease.
async fn work_concurrently(app: &TestApp, users: Vec<TestUser>, dataset: &str, walk_away_every: Option<usize>) -> Vec<(String, String)> {
    let submitted = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let mut tasks = Vec::new();
    for (index, user) in users.into_iter().enumerate() {
        let (client, base, dataset, submitted) = (client.clone(), app.base_url.clone(), dataset.to_owned(), submitted.clone());
        let walks_away = walk_away_every.is_some_and(|every| index % every == 0);
        tasks.push(tokio::spawn(async move {
            let mut handed = 0usize;
            let mut idle_rounds = 0;
            loop {
                let response = client
                    .post(format!("{base}/api/v1/me/datasets/{dataset}/records/next"))
                    .header("X-Argilla-Api-Key", &user.api_key)
                    .send()
                    .await
                    .expect("next failed");
                assert_eq!(response.status(), 200, "next answered {}", response.status());
                let body: Value = response.json().await.unwrap();
                let Some(record) = body["record"]["id"].as_str().map(str::to_owned) else {
                    // Nothing open now; abandoned leases may still come back after they expire.
                    idle_rounds += 1;
                    if idle_rounds > 8 {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    continue;
                };
                idle_rounds = 0;
                handed += 1;
                if walks_away && handed.is_multiple_of(3) {
                    // Walk away: keep the lease and ask for another record, which returns the same one
                    // until it expires; so stop asking for a while.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    continue;
                }
                let response = client
                    .post(format!("{base}/api/v1/records/{record}/responses"))
                    .header("X-Argilla-Api-Key", &user.api_key)
                    .json(&submitted_response())
                    .send()
                    .await
                    .expect("submit failed");
                assert_eq!(response.status(), 201, "submit answered {}: {}", response.status(), response.text().await.unwrap_or_default());
                submitted.lock().await.push((record, user.id.clone()));
            }
        }));
    }
    for task in tasks {
        task.await.expect("a labeler failed");
    }
    Arc::try_unwrap(submitted).unwrap().into_inner()
}

async fn check_exact(app: &TestApp, dataset: &str, submitted: &[(String, String)], records: usize, min_submitted: usize) {
    let mut per_record: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (record, user) in submitted {
        assert!(per_record.entry(record).or_default().insert(user), "{user} answered {record} twice");
    }
    assert_eq!(per_record.len(), records, "every record was answered");
    assert!(per_record.values().all(|users| users.len() == min_submitted), "every record has exactly {min_submitted} submissions");
    let progress = app.owner().get(&format!("/api/v1/datasets/{dataset}/progress")).await;
    assert_eq!(progress.body["completed"], records as u64);
    assert_eq!(progress.body["pending"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_labelers_give_every_record_exactly_two_submissions() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 2000, 2).await;
    let users = labelers(&app, &workspace, 64).await;
    let submitted = work_concurrently(&app, users, &dataset, None).await;
    assert_eq!(submitted.len(), 4000);
    check_exact(&app, &dataset, &submitted, 2000, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_leases_are_reclaimed_and_every_record_is_answered_once() {
    let app = TestApp::spawn_with_lease(Duration::from_millis(300)).await;
    let (workspace, dataset) = dataset_with(&app, 2000, 1).await;
    let users = labelers(&app, &workspace, 64).await;
    let submitted = work_concurrently(&app, users, &dataset, Some(4)).await;
    assert_eq!(submitted.len(), 2000);
    check_exact(&app, &dataset, &submitted, 2000, 1).await;
}

#[tokio::test]
async fn the_handed_out_record_carries_its_suggestions_and_my_draft() {
    let app = TestApp::spawn().await;
    let (workspace, dataset) = dataset_with(&app, 0, 1).await;
    let questions = app.owner().get(&format!("/api/v1/datasets/{dataset}/questions")).await;
    let quality = questions.body["items"].as_array().unwrap().iter().find(|question| question["name"] == "quality").unwrap()["id"].as_str().unwrap().to_owned();
    let mut record = comparison_record("suggested");
    record["suggestions"] = json!([{"question_id": quality, "value": 4, "agent": "judge-model", "score": 0.75}]);
    let record_id = app.create_records(&dataset, vec![record]).await.remove(0);
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let labeler = app.with_key(&alice.api_key);

    let answer = labeler.post(&format!("/api/v1/me/datasets/{dataset}/records/next"), &json!({})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let handed = &answer.body["record"];
    assert_eq!(handed["id"], record_id.as_str());
    assert_eq!(handed["responses"], json!([]));
    let suggestion = &handed["suggestions"][0];
    assert_eq!((suggestion["value"].clone(), suggestion["agent"].clone(), suggestion["score"].clone()), (json!(4), json!("judge-model"), json!(0.75)));
    assert_eq!(suggestion["question_id"], quality.as_str());

    // A draft keeps the lease; the next call hands the same record back with the draft.
    let draft = json!({"status": "draft", "values": {"quality": {"value": 2}}});
    assert_eq!(labeler.post(&format!("/api/v1/records/{record_id}/responses"), &draft).await.status, 201);
    let again = labeler.post(&format!("/api/v1/me/datasets/{dataset}/records/next"), &json!({})).await;
    assert_eq!(again.body["record"]["id"], record_id.as_str());
    let mine = &again.body["record"]["responses"];
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["status"], "draft");
    assert_eq!(mine[0]["values"]["quality"]["value"], 2);
    assert_eq!(mine[0]["user_id"], alice.id.as_str());
}
