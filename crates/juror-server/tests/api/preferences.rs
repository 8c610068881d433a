//! Preference pairs over HTTP: agreement metrics and JSONL downloads.

use serde_json::{json, Value};

use crate::helpers::{comparison_record, ranking, TestApp, TestUser};

/// Three labelers rank two records: 2-1 for response-1 on the first, unanimous for response-2 on
/// the second.
async fn answered(app: &TestApp) -> (String, Vec<TestUser>) {
    let workspace = app.owner_workspace_id().await;
    let dataset = app.create_comparison_dataset(&workspace, "prefs").await;
    let records = app.create_records(&dataset, vec![comparison_record("first prompt"), comparison_record("second prompt")]).await;
    let mut labelers = Vec::new();
    for (index, first_choice) in [("response-1", "response-2"), ("response-1", "response-2"), ("response-2", "response-1")].iter().enumerate() {
        let labeler = app.create_member(&workspace, &format!("labeler-{index}"), "annotator").await;
        for (record, (best, worst)) in records.iter().zip([*first_choice, ("response-2", "response-1")]) {
            let body = json!({"status": "submitted", "values": {"preference": {"value": ranking(&[(best, json!(1)), (worst, json!(2))])}}});
            let answer = app.with_key(&labeler.api_key).post(&format!("/api/v1/records/{record}/responses"), &body).await;
            assert_eq!(answer.status, 201, "{answer:?}");
        }
        labelers.push(labeler);
    }
    (dataset, labelers)
}

#[tokio::test]
async fn metrics_report_judgments_agreement_and_labelers() {
    let app = TestApp::spawn().await;
    let (dataset, labelers) = answered(&app).await;
    let answer = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/metrics")).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let report = &answer.body;
    assert_eq!(report["question"], "preference");
    assert_eq!(report["prompt_field"], "prompt");
    assert_eq!(report["judgments"], 6);
    assert_eq!(report["records"], 2);
    assert_eq!(report["pairs"], 2);
    let dissenter = report["labelers"].as_array().unwrap().iter().find(|labeler| labeler["username"] == "labeler-2").unwrap();
    assert_eq!(dissenter["agreement"], 0.5, "labeler-2 disagrees with the majority on one of two records");
    let refused = app.with_key(&labelers[0].api_key).get(&format!("/api/v1/datasets/{dataset}/preferences/metrics")).await;
    assert_eq!(refused.status, 403);
    let unknown = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/metrics?strategy=coin-flip")).await;
    assert_eq!(unknown.status, 422);
}

#[tokio::test]
async fn trl_export_downloads_one_pair_per_record_with_confidence() {
    let app = TestApp::spawn().await;
    let (dataset, _) = answered(&app).await;
    let answer = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/export?format=trl&with_confidence=true&strategy=reliability")).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let text = answer.body.as_str().expect("JSONL is not one JSON document");
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    let first = lines.iter().find(|line| line["prompt"] == "first prompt").unwrap();
    assert_eq!(first["chosen"], "first answer");
    assert_eq!(first["rejected"], "second answer");
    assert_eq!(first["judgments"], 3);
    assert!(first["p_chosen"].as_f64().unwrap() > 0.5);
    let second = lines.iter().find(|line| line["prompt"] == "second prompt").unwrap();
    assert_eq!(second["chosen"], "second answer");

    let raw = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/export?format=judgments")).await;
    assert_eq!(raw.body.as_str().unwrap().lines().count(), 6);
    let bad = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/export?format=csv")).await;
    assert_eq!(bad.status, 422);
}

/// The report reads the dataset a page of 1,000 records at a time: 1,200 records, two labelers
/// who agree on the even records and disagree on the odd ones, must count every page.
#[tokio::test]
async fn the_metrics_report_counts_every_page() {
    let app = TestApp::spawn().await;
    let workspace = app.owner_workspace_id().await;
    let dataset = app.create_comparison_dataset(&workspace, "paged").await;
    let mut users = Vec::new();
    for index in 0..2 {
        users.push(app.create_member(&workspace, &format!("labeler-{index}"), "annotator").await.id);
    }
    let vote = |best: &str, worst: &str| json!({"preference": {"value": ranking(&[(best, json!(1)), (worst, json!(2))])}});
    for chunk in (0..1200).collect::<Vec<usize>>().chunks(400) {
        let items: Vec<Value> = chunk
            .iter()
            .map(|index| {
                let second = if index % 2 == 0 { vote("response-1", "response-2") } else { vote("response-2", "response-1") };
                let mut record = comparison_record(&format!("prompt {index}"));
                record["responses"] = json!([
                    {"user_id": users[0], "status": "submitted", "values": vote("response-1", "response-2")},
                    {"user_id": users[1], "status": "submitted", "values": second},
                ]);
                record
            })
            .collect();
        let answer = app.owner().put(&format!("/api/v1/datasets/{dataset}/records/bulk"), &json!({"items": items})).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    let report = app.owner().get(&format!("/api/v1/datasets/{dataset}/preferences/metrics")).await.body;
    assert_eq!((report["judgments"].as_u64(), report["records"].as_u64()), (Some(2400), Some(1200)));
    assert_eq!(report["pairs"], 1200, "the metrics count ties as pairs");
    assert_eq!(report["ties"], 600);
    assert_eq!(report["agreement"]["percent"], 0.5);
    for labeler in report["labelers"].as_array().unwrap() {
        assert_eq!((labeler["compared"].as_u64(), labeler["agreement"].as_f64()), (Some(1200), Some(0.5)), "{labeler}");
    }
}

/// Three labelers whose rankings of three responses go round on one record (a Condorcet
/// cycle: each response beats one other by two votes to one) and agree on another: the report
/// counts the first as a cycle and names it.
#[tokio::test]
async fn metrics_name_the_records_whose_verdicts_go_round() {
    let app = TestApp::spawn().await;
    let owner = app.owner();
    let workspace = app.owner_workspace_id().await;
    let dataset = owner.post("/api/v1/datasets", &json!({"name": "three-way", "workspace_id": workspace})).await.body["id"].as_str().unwrap().to_owned();
    for field in ["prompt", "response-1", "response-2", "response-3"] {
        let answer = owner.post(&format!("/api/v1/datasets/{dataset}/fields"), &json!({"name": field, "title": field, "required": true, "settings": {"type": "text"}})).await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    let options: Vec<Value> = (1..=3).map(|n| json!({"value": format!("response-{n}"), "text": format!("Response {n}")})).collect();
    let question = owner.post(&format!("/api/v1/datasets/{dataset}/questions"), &json!({"name": "preference", "title": "Rank", "required": true, "settings": {"type": "ranking", "options": options}})).await;
    assert_eq!(question.status, 201, "{question:?}");
    assert_eq!(owner.put(&format!("/api/v1/datasets/{dataset}/publish"), &json!({})).await.status, 200);
    let record = |prompt: &str| json!({"fields": {"prompt": prompt, "response-1": "a", "response-2": "b", "response-3": "c"}});
    let records = app.create_records(&dataset, vec![record("round"), record("ordered")]).await;
    let orders = [
        [["response-1", "response-2", "response-3"], ["response-1", "response-2", "response-3"]],
        [["response-2", "response-3", "response-1"], ["response-1", "response-3", "response-2"]],
        [["response-3", "response-1", "response-2"], ["response-2", "response-1", "response-3"]],
    ];
    for (index, per_record) in orders.iter().enumerate() {
        let labeler = app.create_member(&workspace, &format!("ranker-{index}"), "annotator").await;
        for (record, order) in records.iter().zip(per_record) {
            let value: Vec<Value> = order.iter().enumerate().map(|(rank, option)| json!({"value": option, "rank": rank + 1})).collect();
            let answer = app.with_key(&labeler.api_key).post(&format!("/api/v1/records/{record}/responses"), &json!({"status": "submitted", "values": {"preference": {"value": value}}})).await;
            assert_eq!(answer.status, 201, "{answer:?}");
        }
    }
    let report = owner.get(&format!("/api/v1/datasets/{dataset}/preferences/metrics")).await.body;
    assert_eq!(report["cycles"], 1, "{report}");
    assert_eq!(report["cyclic_records"], json!([records[0]]));
}
