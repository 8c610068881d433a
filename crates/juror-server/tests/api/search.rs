//! Record search: text, filters, sorting and vector similarity, computed by Juror itself.

use serde_json::{json, Value};

use crate::helpers::{id_of, TestApp};

/// A dataset with a `source` terms property, a `length` integer property and a 2-d vector.
async fn searchable(app: &TestApp) -> (String, Vec<String>) {
    let dataset = app.owner_dataset().await;
    let owner = app.owner();
    let terms = json!({"name": "source", "title": "Source", "settings": {"type": "terms", "values": ["web", "book"]}});
    assert_eq!(owner.post(&format!("/api/v1/datasets/{dataset}/metadata-properties"), &terms).await.status, 201);
    let length = json!({"name": "length", "title": "Length", "settings": {"type": "integer", "min": 0, "max": 1000}});
    assert_eq!(owner.post(&format!("/api/v1/datasets/{dataset}/metadata-properties"), &length).await.status, 201);
    let vector = json!({"name": "embedding", "title": "Embedding", "dimensions": 2});
    assert_eq!(owner.post(&format!("/api/v1/datasets/{dataset}/vectors-settings"), &vector).await.status, 201);
    let record = |prompt: &str, source: &str, length: i64, vector: Option<[f64; 2]>| {
        let mut record = json!({"fields": {"prompt": prompt, "response-1": "a", "response-2": "b"}, "metadata": {"source": source, "length": length}});
        if let Some(vector) = vector {
            record["vectors"] = json!({"embedding": vector});
        }
        record
    };
    let ids = app
        .create_records(
            &dataset,
            vec![
                record("Write a haiku about autumn", "web", 30, Some([1.0, 0.0])),
                record("Explain autumn colours to a child", "book", 300, Some([0.9, 0.1])),
                record("Summarise the news", "web", 120, Some([0.0, 1.0])),
                record("A prompt without a vector", "book", 10, None),
            ],
        )
        .await;
    (dataset, ids)
}

fn hit_ids(body: &Value) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|item| id_of(&item["record"])).collect()
}

#[tokio::test]
async fn text_queries_need_every_word_and_can_target_a_field() {
    let app = TestApp::spawn().await;
    let (dataset, ids) = searchable(&app).await;
    let path = format!("/api/v1/datasets/{dataset}/records/search");
    let answer = app.owner().post(&path, &json!({"query": {"text": {"q": "AUTUMN", "field": null}, "vector": null}, "filters": null})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["total"], 2);
    let mut found = hit_ids(&answer.body);
    found.sort();
    let mut expected = vec![ids[0].clone(), ids[1].clone()];
    expected.sort();
    assert_eq!(found, expected);
    let both_words = app.owner().post(&path, &json!({"query": {"text": {"q": "autumn haiku"}}})).await;
    assert_eq!(hit_ids(&both_words.body), vec![ids[0].clone()]);
    let wrong_field = app.owner().post(&path, &json!({"query": {"text": {"q": "autumn", "field": "response-1"}}})).await;
    assert_eq!(wrong_field.body["total"], 0);
    let unknown_field = app.owner().post(&path, &json!({"query": {"text": {"q": "autumn", "field": "nope"}}})).await;
    assert_eq!(unknown_field.status, 422, "{unknown_field:?}");
}

#[tokio::test]
async fn metadata_filters_and_sorts_select_and_order_records() {
    let app = TestApp::spawn().await;
    let (dataset, ids) = searchable(&app).await;
    let path = format!("/api/v1/datasets/{dataset}/records/search");
    let body = json!({
        "filters": {"and": [
            {"type": "terms", "scope": {"entity": "metadata", "metadata_property": "source"}, "values": ["web"]},
            {"type": "range", "scope": {"entity": "metadata", "metadata_property": "length"}, "ge": 100, "le": null},
        ]},
    });
    let answer = app.owner().post(&path, &body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(hit_ids(&answer.body), vec![ids[2].clone()]);
    let sorted = app
        .owner()
        .post(&path, &json!({"sort": [{"scope": {"entity": "metadata", "metadata_property": "length"}, "order": "desc"}]}))
        .await;
    assert_eq!(hit_ids(&sorted.body), vec![ids[1].clone(), ids[2].clone(), ids[0].clone(), ids[3].clone()]);
    let unknown = json!({"filters": {"and": [{"type": "terms", "scope": {"entity": "metadata", "metadata_property": "nope"}, "values": ["x"]}]}});
    assert_eq!(app.owner().post(&path, &unknown).await.status, 422);
    // The argilla-v1 list filters reach the same search.
    let legacy = app.owner().get(&format!("/api/v1/datasets/{dataset}/records?metadata=source:book&sort_by=metadata.length:asc")).await;
    assert_eq!(legacy.status, 200, "{legacy:?}");
    let listed: Vec<String> = legacy.body["items"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(listed, vec![ids[3].clone(), ids[1].clone()]);
}

#[tokio::test]
async fn response_status_filters_tell_answered_from_pending_records() {
    let app = TestApp::spawn().await;
    let (dataset, ids) = searchable(&app).await;
    let answer = app.owner().post(&format!("/api/v1/records/{}/responses", ids[1]), &crate::helpers::submitted_response()).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    let path = format!("/api/v1/datasets/{dataset}/records/search");
    let status = |value: &str| json!({"filters": {"and": [{"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": [value]}]}});
    assert_eq!(hit_ids(&app.owner().post(&path, &status("submitted")).await.body), vec![ids[1].clone()]);
    assert_eq!(app.owner().post(&path, &status("pending")).await.body["total"], 3);
    let legacy = app.owner().get(&format!("/api/v1/datasets/{dataset}/records?response_status=submitted")).await;
    assert_eq!(legacy.body["total"], 1);
}

#[tokio::test]
async fn vector_queries_rank_by_cosine_similarity_both_ways() {
    let app = TestApp::spawn().await;
    let (dataset, ids) = searchable(&app).await;
    let path = format!("/api/v1/datasets/{dataset}/records/search");
    let most = app.owner().post(&path, &json!({"query": {"vector": {"name": "embedding", "value": [1.0, 0.0], "order": "most_similar"}}})).await;
    assert_eq!(most.status, 200, "{most:?}");
    assert_eq!(hit_ids(&most.body), vec![ids[0].clone(), ids[1].clone(), ids[2].clone()], "records without the vector are not candidates");
    let top_score = most.body["items"][0]["query_score"].as_f64().unwrap();
    assert!((top_score - 1.0).abs() < 1e-6, "cosine of identical directions is 1, got {top_score}");
    let least = app.owner().post(&path, &json!({"query": {"vector": {"name": "embedding", "value": [1.0, 0.0], "order": "least_similar"}}})).await;
    assert_eq!(hit_ids(&least.body)[0], ids[2]);
    let by_record = app.owner().post(&path, &json!({"query": {"vector": {"name": "embedding", "record_id": ids[0]}}})).await;
    assert_eq!(hit_ids(&by_record.body), vec![ids[1].clone(), ids[2].clone()], "the query record is not its own neighbour");
}

#[tokio::test]
async fn similarity_by_a_record_without_the_vector_is_a_missing_vector_error() {
    let app = TestApp::spawn().await;
    let (dataset, ids) = searchable(&app).await;
    let path = format!("/api/v1/datasets/{dataset}/records/search");
    let answer = app.owner().post(&path, &json!({"query": {"vector": {"name": "embedding", "record_id": ids[3]}}})).await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["code"], "missing_vector");
    let both = app.owner().post(&path, &json!({"query": {"vector": {"name": "embedding", "value": [1.0, 0.0], "record_id": ids[0]}}})).await;
    assert_eq!(both.status, 422);
    let unknown = app.owner().post(&path, &json!({"query": {"vector": {"name": "nope", "value": [1.0, 0.0]}}})).await;
    assert_eq!(unknown.status, 422);
}

#[tokio::test]
async fn my_search_shows_only_my_own_responses() {
    let app = TestApp::spawn().await;
    let (dataset, ids) = searchable(&app).await;
    let workspace = app.owner_workspace_id().await;
    let alice = app.create_member(&workspace, "alice", "annotator").await;
    let answer = app.with_key(&alice.api_key).post(&format!("/api/v1/records/{}/responses", ids[0]), &crate::helpers::submitted_response()).await;
    assert_eq!(answer.status, 201);
    assert_eq!(app.owner().post(&format!("/api/v1/records/{}/responses", ids[1]), &crate::helpers::submitted_response()).await.status, 201);
    let path = format!("/api/v1/me/datasets/{dataset}/records/search?include=responses");
    let pending = json!({"filters": {"and": [{"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]}]}});
    let mine = app.with_key(&alice.api_key).post(&path, &pending).await;
    assert_eq!(mine.status, 200, "{mine:?}");
    assert_eq!(mine.body["total"], 3, "the owner's answer does not count as alice's");
    let all = app.with_key(&alice.api_key).post(&path, &json!({})).await;
    for item in all.body["items"].as_array().unwrap() {
        for response in item["record"]["responses"].as_array().unwrap() {
            assert_eq!(response["user_id"], alice.id.as_str());
        }
    }
}
