//! `juror split` and `juror consolidate`: one copy per labeler's workspace, and answers home.

use serde_json::{json, Value};

use crate::helpers::{data_dir, juror, text, Served};

fn api_key(output: &std::process::Output) -> String {
    text(&output.stdout).rsplit("API key: ").next().unwrap().trim().to_owned()
}

#[test]
fn split_into_workspaces_then_consolidate_brings_every_answer_home() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("guide");
    let items: Vec<Value> = (0..5).map(|index| json!({"fields": {"prompt": format!("p{index}"), "response-1": "a", "response-2": "b"}})).collect();
    assert_eq!(served.send("POST", &format!("/api/v1/datasets/{dataset}/records/bulk"), json!({"items": items})).0, 201);
    let mut keys = Vec::new();
    for name in ["natalia", "amelie"] {
        let output = juror(&["user", "add", "--username", name, "--password", "correct-horse"], data.path());
        assert!(output.status.success(), "{}", text(&output.stderr));
        keys.push(api_key(&output));
    }
    let output = juror(&["split", "--dataset", "guide", "--workspace", "argilla", "--among", "natalia,amelie", "--into-workspaces"], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));

    let client = reqwest::blocking::Client::new();
    let mut answered = 0;
    for key in &keys {
        let mine: Value = client.get(format!("{}/api/v1/me/datasets", served.url)).header("X-Argilla-Api-Key", key).send().unwrap().json().unwrap();
        let copies = mine["items"].as_array().unwrap();
        assert_eq!(copies.len(), 1, "each labeler sees only their own copy: {mine}");
        let copy = copies[0]["id"].as_str().unwrap().to_owned();
        loop {
            let next: Value = client.post(format!("{}/api/v1/me/datasets/{copy}/records/next", served.url)).header("X-Argilla-Api-Key", key).send().unwrap().json().unwrap();
            let Some(record) = next["record"]["id"].as_str() else { break };
            let ranking = json!({"status": "submitted", "values": {"preference": {"value": [{"value": "response-2", "rank": 1}, {"value": "response-1", "rank": 2}]}}});
            let response = client.post(format!("{}/api/v1/records/{record}/responses", served.url)).header("X-Argilla-Api-Key", key).json(&ranking).send().unwrap();
            assert_eq!(response.status().as_u16(), 201);
            answered += 1;
        }
    }
    assert_eq!(answered, 5, "the shares cover every record once");

    let output = juror(&["consolidate", "--dataset", "guide", "--workspace", "argilla", "--among", "natalia,amelie"], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let listed = served.get(&format!("/api/v1/datasets/{dataset}/records?include=responses")).1;
    let records = listed["items"].as_array().unwrap();
    assert_eq!(records.len(), 5);
    for record in records {
        let responses = record["responses"].as_array().unwrap();
        assert_eq!(responses.len(), 1, "{record}");
        assert_eq!(responses[0]["values"]["preference"]["value"][0]["value"], "response-2");
        assert_eq!(record["status"], "completed");
    }
}
