//! `juror serve`: start-up, the default owner, the demo, graceful stop and crash durability.

use serde_json::json;

use crate::helpers::{data_dir, juror_plain, text, Served};

#[test]
fn help_describes_every_command() {
    let output = juror_plain(&["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for command in ["serve", "import", "dataset", "user", "workspace"] {
        assert!(help.contains(command), "`{command}` missing from:\n{help}");
    }
    let serve_help = text(&juror_plain(&["serve", "--help"]).stdout);
    for flag in ["--host", "--port", "--data-dir", "--demo"] {
        assert!(serve_help.contains(flag), "`{flag}` missing from:\n{serve_help}");
    }
}

#[test]
fn first_start_creates_the_default_owner_and_workspace() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let (status, me) = served.get("/api/v1/me");
    assert_eq!(status, 200);
    assert_eq!(me["username"], "argilla");
    assert_eq!(me["role"], "owner");
    let workspaces = served.get("/api/v1/me/workspaces").1;
    assert_eq!(workspaces["items"][0]["name"], "argilla");
}

#[test]
fn demo_loads_a_comparison_dataset_once() {
    let data = data_dir();
    let served = Served::start(data.path(), &["--demo"]);
    let datasets = served.get("/api/v1/me/datasets").1;
    let demo = datasets["items"].as_array().unwrap().iter().find(|dataset| dataset["name"] == "demo-comparisons").expect("demo dataset");
    let id = demo["id"].as_str().unwrap().to_owned();
    let count = served.record_count(&id);
    assert!(count >= 10, "demo has {count} records");
    assert!(served.terminate(), "juror exits cleanly on SIGTERM");
    let served = Served::start(data.path(), &["--demo"]);
    assert_eq!(served.record_count(&id), count, "a second --demo start adds nothing");
}

#[test]
fn acknowledged_records_survive_a_crash() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("crash-test");
    let items: Vec<_> = (0..200)
        .map(|index| json!({"external_id": format!("r{index}"), "fields": {"prompt": format!("p{index}"), "response-1": "a", "response-2": "b"}}))
        .collect();
    let (status, body) = served.send("PUT", &format!("/api/v1/datasets/{dataset}/records/bulk"), json!({"items": items}));
    assert_eq!(status, 200, "{body}");
    served.crash();
    let served = Served::start(data.path(), &[]);
    assert_eq!(served.record_count(&dataset), 200);
}
