//! `juror dataset|user|workspace`: administration without the SDK.

use crate::helpers::{data_dir, juror, text, Served};

#[test]
fn datasets_users_and_workspaces_can_be_made_from_the_command_line() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let output = juror(&["workspace", "add", "team"], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = juror(&["user", "add", "--username", "natalia", "--password", "correct-horse", "--workspace", "team"], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let key = stdout.rsplit("API key: ").next().unwrap().trim().to_owned();
    assert!(key.len() >= 43, "API keys carry 32 random bytes: {stdout}");

    let settings = data.path().join("settings.json");
    std::fs::write(
        &settings,
        r#"{"guidelines": "Rank them.", "fields": [{"name": "prompt"}, {"name": "response-1"}, {"name": "response-2"}],
            "questions": [{"name": "preference", "settings": {"type": "ranking", "options": [{"value": "response-1"}, {"value": "response-2"}]}}],
            "distribution": {"strategy": "overlap", "min_submitted": 2}}"#,
    )
    .unwrap();
    let output = juror(&["dataset", "create", "--name", "cli-made", "--workspace", "team", "--settings", settings.to_str().unwrap()], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));

    let client = reqwest::blocking::Client::new();
    let mine: serde_json::Value = client.get(format!("{}/api/v1/me/datasets", served.url)).header("X-Argilla-Api-Key", &key).send().unwrap().json().unwrap();
    let dataset = &mine["items"][0];
    assert_eq!(dataset["name"], "cli-made");
    assert_eq!(dataset["status"], "ready");
    assert_eq!(dataset["distribution"]["min_submitted"], 2);
    let listed = text(&juror(&["dataset", "list"], data.path()).stdout);
    assert!(listed.contains("cli-made") && listed.contains("0 records"), "{listed}");
}

#[test]
fn invalid_settings_create_nothing() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let settings = data.path().join("settings.json");
    std::fs::write(&settings, r#"{"fields": [{"name": "prompt"}], "questions": [{"name": "q", "settings": {"type": "ranking", "options": [{"value": "only-one"}]}}]}"#).unwrap();
    let output = juror(&["dataset", "create", "--name", "broken", "--settings", settings.to_str().unwrap()], data.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("at least 2 items"), "{}", text(&output.stderr));
    assert_eq!(served.get("/api/v1/me/datasets").1["items"].as_array().unwrap().len(), 0);
}
