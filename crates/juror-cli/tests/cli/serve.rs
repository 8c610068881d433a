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

/// `juror serve` with its standard output in `log`, on a free port; its URL.
fn serve_logging_to(data: &std::path::Path, log: &std::path::Path, extra: &[&str]) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_juror"))
        .args(["serve", "--port", &port.to_string(), "--data-dir"])
        .arg(data)
        .args(extra)
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    while reqwest::blocking::get(format!("{url}/api/_status")).map_or(true, |response| response.status() != 200) {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "juror serve did not become ready");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (child, url)
}

#[test]
fn every_request_is_logged_once_with_an_id_that_comes_back_and_marks_its_lines() {
    let data = data_dir();
    let log = data.path().join("juror.log");
    let (mut child, url) = serve_logging_to(data.path(), &log, &["--log-format", "json"]);
    let client = reqwest::blocking::Client::new();
    // The client's id is kept; a request without one gets a new one, sent back.
    let named = client.get(format!("{url}/api/v1/me")).header("X-Argilla-Api-Key", crate::helpers::KEY).header("x-request-id", "client-id-1").send().unwrap();
    assert_eq!(named.headers()["x-request-id"], "client-id-1");
    let unnamed = client.get(format!("{url}/api/v1/datasets/01a22abe-d9c8-7064-9a7d-b412ca073b92")).header("X-Argilla-Api-Key", crate::helpers::KEY).send().unwrap();
    assert_eq!(unnamed.status(), 404);
    let generated = unnamed.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    // A request that logs on its own way (an audited change) marks those lines with its id.
    let created = client
        .post(format!("{url}/api/v1/workspaces"))
        .header("X-Argilla-Api-Key", crate::helpers::KEY)
        .header("x-request-id", "client-id-2")
        .json(&json!({"name": "logged"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log).unwrap().lines().map(|line| serde_json::from_str(line).expect("every line is JSON")).collect();
    let served = |id: &str| lines.iter().filter(|line| line["span"]["id"] == id && line["fields"]["message"] == "served").collect::<Vec<_>>();
    let first = served("client-id-1");
    assert_eq!(first.len(), 1, "one line per request: {lines:?}");
    assert_eq!((&first[0]["level"], &first[0]["span"]["method"], &first[0]["span"]["route"], &first[0]["fields"]["status"]), (&json!("INFO"), &json!("GET"), &json!("/api/v1/me"), &json!(200)));
    assert!(first[0]["fields"]["latency_ms"].as_f64().is_some());
    let second = served(&generated);
    assert_eq!((second.len(), &second[0]["span"]["route"], &second[0]["fields"]["status"]), (1, &json!("/api/v1/datasets/{dataset_id}"), &json!(404)), "the route's pattern, not the raw path");
    let audited: Vec<_> = lines.iter().filter(|line| line["span"]["id"] == "client-id-2" && line["fields"]["message"] != "served").collect();
    assert!(audited.iter().any(|line| line["fields"]["action"] == "workspace.created"), "a line logged while serving names the request: {lines:?}");
}
