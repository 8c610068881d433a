//! Running the `juror` binary: one-shot commands and a served instance on a free port.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const KEY: &str = "argilla.apikey";

/// A fresh data directory.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// How long a one-shot command may run before the test fails instead of hanging.
const COMMAND_LIMIT: Duration = Duration::from_secs(120);

/// Runs `juror ARGS` to completion.
pub fn juror(args: &[&str], data: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_juror"));
    command.args(args).arg("--data-dir").arg(data);
    run_bounded(command, args)
}

/// Runs `juror ARGS` with no data directory flag (for `--help`).
pub fn juror_plain(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_juror"));
    command.args(args);
    run_bounded(command, args)
}

/// Runs a command, failing the test (after killing it) when it outlives `COMMAND_LIMIT`.
fn run_bounded(mut command: Command, args: &[&str]) -> Output {
    let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("juror runs");
    let pid = child.id();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(COMMAND_LIMIT) {
        Ok(output) => output.expect("juror runs"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("`juror {}` did not finish within {COMMAND_LIMIT:?}", args.join(" "));
        }
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `juror serve` process on a free port; killed when dropped.
pub struct Served {
    pub child: Child,
    pub url: String,
}

impl Served {
    /// Starts `juror serve` on `data` and waits until `/api/_status` answers.
    pub fn start(data: &Path, extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_juror"))
            .args(["serve", "--port", &port.to_string(), "--data-dir"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("juror serve starts");
        let served = Self { child, url: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        while served.get("/api/_status").0 != 200 {
            assert!(started.elapsed() < Duration::from_secs(20), "juror serve did not become ready");
            std::thread::sleep(Duration::from_millis(20));
        }
        served
    }

    fn client() -> reqwest::blocking::Client {
        reqwest::blocking::Client::new()
    }

    /// GET with the owner key: (status, JSON body or null).
    pub fn get(&self, path: &str) -> (u16, Value) {
        match Self::client().get(format!("{}{path}", self.url)).header("X-Argilla-Api-Key", KEY).send() {
            Ok(response) => (response.status().as_u16(), response.json().unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    }

    /// A request with a JSON body and the owner key.
    pub fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = Self::client().request(method, format!("{}{path}", self.url)).header("X-Argilla-Api-Key", KEY).json(&body).send().expect("request");
        (response.status().as_u16(), response.json().unwrap_or(Value::Null))
    }

    /// Kills the process without letting it shut down (a crash).
    pub fn crash(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// Sends SIGTERM and waits for a clean exit; returns whether it exited successfully.
    pub fn terminate(mut self) -> bool {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill -TERM");
        assert!(status.success());
        self.child.wait().expect("wait").success()
    }

    /// The record count of a dataset.
    pub fn record_count(&self, dataset: &str) -> u64 {
        self.get(&format!("/api/v1/me/datasets/{dataset}/metrics")).1["records"]["count"].as_u64().expect("count")
    }

    /// Creates and publishes a prompt/response-1/response-2 dataset with a ranking question.
    pub fn comparison_dataset(&self, name: &str) -> String {
        let workspaces = self.get("/api/v1/me/workspaces").1;
        let workspace = workspaces["items"][0]["id"].as_str().unwrap().to_owned();
        let (status, dataset) = self.send("POST", "/api/v1/datasets", json!({"name": name, "workspace_id": workspace}));
        assert_eq!(status, 201, "{dataset}");
        let id = dataset["id"].as_str().unwrap().to_owned();
        for field in ["prompt", "response-1", "response-2"] {
            let body = json!({"name": field, "title": field, "required": true, "settings": {"type": "text"}});
            assert_eq!(self.send("POST", &format!("/api/v1/datasets/{id}/fields"), body).0, 201);
        }
        let ranking = json!({"type": "ranking", "options": [{"value": "response-1"}, {"value": "response-2"}]});
        let question = json!({"name": "preference", "title": "Rank", "required": true, "settings": ranking});
        assert_eq!(self.send("POST", &format!("/api/v1/datasets/{id}/questions"), question).0, 201);
        let metadata = json!({"name": "words", "title": "Words", "settings": {"type": "integer"}});
        assert_eq!(self.send("POST", &format!("/api/v1/datasets/{id}/metadata-properties"), metadata).0, 201);
        assert_eq!(self.send("PUT", &format!("/api/v1/datasets/{id}/publish"), Value::Null).0, 200);
        id
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
