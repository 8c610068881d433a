//! Quality control through the API: settings with clear refusals, adaptive overlap asking for
//! another labeler only while a verdict is unsettled, gold records kept out of exports, a labeler
//! paused by wrong gold answers and let go on by an owner.

use serde_json::{json, Value};

use crate::helpers::{assert_invalid, comparison_record, ranking, TestApp, TestUser};

async fn dataset_with(app: &TestApp, prompts: &[&str], labelers: usize) -> (String, Vec<String>, Vec<TestUser>) {
    let workspace = app.owner_workspace_id().await;
    let dataset = app.create_comparison_dataset(&workspace, "quality").await;
    let ids = app.create_records(&dataset, prompts.iter().map(|prompt| comparison_record(prompt)).collect()).await;
    let mut users = Vec::new();
    for index in 0..labelers {
        users.push(app.create_member(&workspace, &format!("labeler-{index}"), "annotator").await);
    }
    (dataset, ids, users)
}

/// A submitted ranking with `first` ranked above the other response.
fn prefers(first: &str) -> Value {
    let second = if first == "response-1" { "response-2" } else { "response-1" };
    json!({"status": "submitted", "values": {"preference": {"value": ranking(&[(first, json!(1)), (second, json!(2))])}}})
}

async fn next(app: &TestApp, user: &TestUser, dataset: &str) -> (u16, Option<String>, Value) {
    let answer = app.with_key(&user.api_key).post(&format!("/api/v1/me/datasets/{dataset}/records/next"), &json!({})).await;
    let record = answer.body["record"]["id"].as_str().map(str::to_owned);
    (answer.status, record, answer.body)
}

async fn answer(app: &TestApp, user: &TestUser, record: &str, body: &Value) -> u16 {
    app.with_key(&user.api_key).post(&format!("/api/v1/records/{record}/responses"), body).await.status
}

#[tokio::test]
async fn settings_are_checked_and_come_back_with_their_defaults() {
    let app = TestApp::spawn().await;
    let (dataset, _, _) = dataset_with(&app, &["p"], 0).await;
    let path = format!("/api/v1/datasets/{dataset}/quality");
    assert_eq!(app.owner().get(&path).await.body, json!({"adaptive": null, "gold": null, "repeats": null}));

    let not_ranking = app.owner().put(&path, &json!({"adaptive": {"question": "quality"}})).await;
    assert!(assert_invalid(&not_ranking).contains("not a ranking question"), "{not_ranking:?}");
    let inverted = app.owner().put(&path, &json!({"adaptive": {"question": "preference", "min": 4, "max": 2}})).await;
    assert!(assert_invalid(&inverted).contains("adaptive.max"), "{inverted:?}");
    let bad_rate = app.owner().put(&path, &json!({"gold": {"rate": 2}})).await;
    assert!(assert_invalid(&bad_rate).contains("gold.rate"), "{bad_rate:?}");
    assert_eq!(app.owner().get(&path).await.body, json!({"adaptive": null, "gold": null, "repeats": null}), "nothing stored by refused changes");

    let set = app.owner().put(&path, &json!({"adaptive": {"question": "preference", "max": 4}, "gold": {"pause": true}})).await;
    assert_eq!(set.status, 200, "{set:?}");
    let expected = json!({
        "adaptive": {"question": "preference", "min": 2, "max": 4, "confidence": 0.85},
        "gold": {"rate": 0.1, "threshold": 0.7, "min_answers": 14, "certainty": 0.8, "pause": true},
        "repeats": null,
    });
    assert_eq!(set.body, expected);
    assert_eq!(app.owner().get(&path).await.body, expected);
    let audit = app.owner().get("/api/v1/audit-events").await;
    assert_eq!(audit.body["items"][0]["action"], "dataset.quality_set", "{audit:?}");
}

#[tokio::test]
async fn adaptive_overlap_asks_for_another_labeler_only_while_the_verdict_is_unsettled() {
    let app = TestApp::spawn().await;
    let (dataset, ids, users) = dataset_with(&app, &["agreed", "split"], 5).await;
    let settings = json!({"adaptive": {"question": "preference", "min": 2, "max": 3, "confidence": 0.85}});
    assert_eq!(app.owner().put(&format!("/api/v1/datasets/{dataset}/quality"), &settings).await.status, 200);
    // The first record gets two agreeing votes from labelers without gold answers: 0.8 at best,
    // below 0.85, so it asks for a third labeler, and the fullest open record comes first.
    let status = |record: Value| record["status"].as_str().unwrap().to_owned();
    for user in &users[..2] {
        let (_, first, _) = next(&app, user, &dataset).await;
        assert_eq!(first.as_deref(), Some(ids[0].as_str()));
        assert_eq!(answer(&app, user, &ids[0], &prefers("response-1")).await, 201);
    }
    assert_eq!(status(app.record(&ids[0]).await), "pending");
    let (_, third, _) = next(&app, &users[2], &dataset).await;
    assert_eq!(third.as_deref(), Some(ids[0].as_str()), "an unsettled record gets one more labeler");
    assert_eq!(answer(&app, &users[2], &ids[0], &prefers("response-1")).await, 201);
    assert_eq!(status(app.record(&ids[0]).await), "completed", "three agreeing votes settle it");
    // The second record gets opposite votes, then a third, which reaches max (3): it stops there.
    for (user, first) in [(&users[3], "response-1"), (&users[4], "response-2"), (&users[0], "response-2")] {
        let (_, record, _) = next(&app, user, &dataset).await;
        assert_eq!(record.as_deref(), Some(ids[1].as_str()));
        assert_eq!(answer(&app, user, &ids[1], &prefers(first)).await, 201);
    }
    assert_eq!(status(app.record(&ids[1]).await), "completed");
    let (_, nothing, _) = next(&app, &users[1], &dataset).await;
    assert_eq!(nothing, None, "no record past max");
}

#[tokio::test]
async fn gold_records_are_scored_kept_out_of_exports_and_pause_a_labeler_until_resumed() {
    let app = TestApp::spawn().await;
    let (dataset, ids, users) = dataset_with(&app, &["gold one", "gold two", "ordinary"], 2).await;
    // Two labelers per record, so the ordinary record stays open to the second labeler.
    let patch = json!({"distribution": {"strategy": "overlap", "min_submitted": 2}});
    assert_eq!(app.owner().patch(&format!("/api/v1/datasets/{dataset}"), &patch).await.status, 200);
    let gold_path = format!("/api/v1/datasets/{dataset}/gold");
    let verdict = json!({"question": "preference", "chosen": "response-2", "rejected": "response-1"});

    let unknown = app.owner().put(&gold_path, &json!({"items": [{"record_id": ids[0], "verdict": verdict}, {"record_id": "01890000-0000-7000-8000-000000000000", "verdict": verdict}]})).await;
    assert!(assert_invalid(&unknown).contains("item 1: no record with id"), "{unknown:?}");
    let wrong_option = app.owner().put(&gold_path, &json!({"items": [{"record_id": ids[0], "verdict": {"question": "preference", "chosen": "response-9", "rejected": "response-1"}}]})).await;
    assert!(assert_invalid(&wrong_option).contains("item 0"), "{wrong_option:?}");
    assert_eq!(app.owner().get(&gold_path).await.body, json!({"items": []}), "nothing stored by refused changes");
    let nameless = app.owner().put(&gold_path, &json!({"items": [{"verdict": verdict}]})).await;
    assert_eq!(nameless.status, 422, "{nameless:?}");
    let set = app.owner().put(&gold_path, &json!({"items": [{"record_id": ids[0], "verdict": verdict}, {"record_id": ids[1], "verdict": verdict}]})).await;
    assert_eq!(set.body, json!({"count": 2}), "{set:?}");
    assert_eq!(app.owner().get(&gold_path).await.body["items"][0], json!({"record_id": ids[0], "verdict": verdict}));

    // Strict rule for the test: one wrong answer of one is enough to flag.
    let settings = json!({"gold": {"rate": 0.5, "min_answers": 1, "certainty": 0.5, "pause": true}});
    assert_eq!(app.owner().put(&format!("/api/v1/datasets/{dataset}/quality"), &settings).await.status, 200);
    let (good, careless) = (&users[0], &users[1]);
    assert_eq!(answer(&app, good, &ids[0], &prefers("response-2")).await, 201);
    assert_eq!(answer(&app, good, &ids[2], &prefers("response-1")).await, 201);
    assert_eq!(answer(&app, careless, &ids[0], &prefers("response-1")).await, 201);

    let labelers = app.owner().get(&format!("/api/v1/datasets/{dataset}/quality/labelers")).await;
    let by_name = |name: &str| labelers.body["items"].as_array().unwrap().iter().find(|item| item["username"] == name).cloned().unwrap();
    let careful = by_name("labeler-0");
    assert_eq!((careful["gold_answered"].clone(), careful["gold_correct"].clone(), careful["paused"].clone()), (json!(1), json!(1), json!(false)));
    let flagged = by_name("labeler-1");
    assert_eq!((flagged["gold_answered"].clone(), flagged["gold_correct"].clone()), (json!(1), json!(0)));
    assert_eq!((flagged["flagged"].clone(), flagged["paused"].clone(), flagged["accuracy"].clone()), (json!(true), json!(true), json!(0.0)));

    // Paused: no record, no answer, each with the reason.
    let (status, _, body) = next(&app, careless, &dataset).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"]["params"]["detail"].as_str().unwrap().contains("paused"), "{body}");
    let refused = app.with_key(&careless.api_key).post(&format!("/api/v1/records/{}/responses", ids[2]), &prefers("response-1")).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.body["detail"]["params"]["detail"].as_str().unwrap().contains("paused"), "{refused:?}");

    // An owner lets them go on.
    let resumed = app.owner().post(&format!("/api/v1/datasets/{dataset}/quality/labelers/{}/resume", careless.id), &json!({})).await;
    assert_eq!(resumed.status, 200, "{resumed:?}");
    let (status, record, _) = next(&app, careless, &dataset).await;
    assert_eq!(status, 200);
    let record = record.expect("a record again");
    // Right this time either way: the gold verdict, or the good labeler's view of the ordinary record.
    let right = if record == ids[2] { "response-1" } else { "response-2" };
    assert_eq!(answer(&app, careless, &record, &prefers(right)).await, 201);

    // Exports and figures leave gold records out.
    let export = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/export?format=trl")).await;
    // JSON lines; a single line reads as one JSON document.
    let text = |body: &Value| body.as_str().map_or_else(|| body.to_string(), str::to_owned);
    let pairs = text(&export.body);
    assert!(pairs.contains("ordinary"), "{pairs}");
    assert!(!pairs.contains("gold"), "{pairs}");
    let judgments = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/export?format=judgments")).await;
    let judgments = text(&judgments.body);
    assert!(judgments.contains("labeler-0") && !judgments.contains(&ids[0]) && !judgments.contains(&ids[1]), "{judgments}");

    // Ordinary again.
    let unset = app.owner().delete(&format!("{gold_path}?ids={}", ids[1])).await;
    assert_eq!(unset.body, json!({"count": 1}), "{unset:?}");
    assert_eq!(app.owner().get(&gold_path).await.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_reviewer_settles_a_split_record_and_the_export_carries_the_verdict() {
    let app = TestApp::spawn().await;
    let (dataset, ids, users) = dataset_with(&app, &["split", "unanimous"], 3).await;
    for (index, user) in users.iter().enumerate() {
        assert_eq!(answer(&app, user, &ids[0], &prefers(if index < 2 { "response-1" } else { "response-2" })).await, 201);
        assert_eq!(answer(&app, user, &ids[1], &prefers("response-1")).await, 201);
    }
    let queue_path = format!("/api/v1/datasets/{dataset}/review-queue");
    let reviewer = &users[0];
    assert_eq!(app.with_key(&reviewer.api_key).get(&queue_path).await.status, 403, "labelers review only when named");
    assert_eq!(app.owner().put(&format!("/api/v1/datasets/{dataset}/reviewers/{}", reviewer.id), &json!({})).await.status, 204);
    assert_eq!(app.owner().get(&format!("/api/v1/datasets/{dataset}/reviewers")).await.body, json!({"items": [{"user_id": reviewer.id}]}));

    let queue = app.with_key(&reviewer.api_key).get(&queue_path).await;
    assert_eq!(queue.status, 200, "{queue:?}");
    assert_eq!(queue.body["items"].as_array().map(Vec::len), Some(1), "only the split record: {queue:?}");
    assert_eq!((&queue.body["items"][0]["record_id"], &queue.body["items"][0]["disputes"], &queue.body["items"][0]["judgments"]), (&json!(ids[0]), &json!(["split"]), &json!(3)));

    let verdict_path = format!("/api/v1/records/{}/adjudication", ids[0]);
    assert_eq!(app.with_key(&reviewer.api_key).get(&verdict_path).await.status, 404);
    let partial = app.with_key(&reviewer.api_key).put(&verdict_path, &json!({"value": [{"value": "response-2", "rank": 1}]})).await;
    assert!(assert_invalid(&partial).starts_with("verdict:"), "{partial:?}");
    let settled = app.with_key(&reviewer.api_key).put(&verdict_path, &json!({"value": ranking(&[("response-2", json!(1)), ("response-1", json!(2))]), "note": "  response-2 cites its source  "})).await;
    assert_eq!(settled.status, 200, "{settled:?}");
    assert_eq!((&settled.body["note"], &settled.body["reviewer"], &settled.body["question"]), (&json!("response-2 cites its source"), &json!("labeler-0"), &json!("preference")));
    assert_eq!(app.owner().get(&verdict_path).await.body["value"][0]["value"], "response-2");

    assert_eq!(app.with_key(&reviewer.api_key).get(&queue_path).await.body, json!({"items": []}), "settled records leave the queue");
    let all = app.with_key(&reviewer.api_key).get(&format!("{queue_path}?settled=true")).await;
    assert_eq!(all.body["items"][0]["adjudication"]["note"], "response-2 cites its source");
    assert_eq!(app.responses_of(&ids[0]).await.len(), 3, "the labelers' answers are kept as they were");

    let export = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/export?format=trl&with_confidence=true")).await;
    let lines: Vec<Value> = export.body.as_str().unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let split = lines.iter().find(|line| line["prompt"] == "split").unwrap();
    assert_eq!((&split["chosen"], &split["adjudicated"], &split["p_chosen"]), (&json!("second answer"), &json!(true), &json!(1.0)), "{split}");
    let unanimous = lines.iter().find(|line| line["prompt"] == "unanimous").unwrap();
    assert_eq!((&unanimous["chosen"], &unanimous["adjudicated"]), (&json!("first answer"), &json!(false)));
    let metrics = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/metrics")).await;
    assert_eq!(metrics.body["quality"]["adjudicated"], 1, "{metrics:?}");
}
