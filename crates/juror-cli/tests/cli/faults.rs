//! Faults, each against the real process: SIGKILL during imports and during labeling, a full
//! disk, clients that go away mid-request, and an import from the command line beside the server.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{data_dir, juror, text, Served, KEY};

const BATCH: u64 = 100;

pub(crate) fn batch(tag: &str, start: u64, size: u64, text_len: usize) -> Value {
    let items: Vec<Value> = (start..start + size)
        .map(|index| json!({"external_id": format!("{tag}-{index}"), "fields": {"prompt": format!("{tag} {index} {}", "x".repeat(text_len)), "response-1": "a", "response-2": "b"}}))
        .collect();
    json!({"items": items})
}

pub(crate) fn post(client: &reqwest::blocking::Client, url: &str, key: &str, body: &Value) -> Result<(u16, Value), reqwest::Error> {
    let response = client.post(url).header("X-Argilla-Api-Key", key).json(body).send()?;
    let status = response.status().as_u16();
    Ok((status, response.json().unwrap_or(Value::Null)))
}

/// Posts batches of `BATCH` records until stopped or the server goes away; counts acknowledged ones.
fn keep_importing(url: String, dataset: String, tag: &'static str, acknowledged: Arc<AtomicU64>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::new();
        let path = format!("{url}/api/v1/datasets/{dataset}/records/bulk");
        while !stop.load(Ordering::SeqCst) {
            let start = acknowledged.load(Ordering::SeqCst);
            match post(&client, &path, KEY, &batch(tag, start, BATCH, 200)) {
                Ok((201, _)) => {
                    acknowledged.fetch_add(BATCH, Ordering::SeqCst);
                }
                _ => return,
            }
        }
    })
}

pub(crate) fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigkill_during_a_bulk_import_keeps_every_acknowledged_batch_and_no_half_batch() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("killed");
    let (acknowledged, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let importer = keep_importing(served.url.clone(), dataset.clone(), "api", acknowledged.clone(), stop.clone());
    wait_for("ten acknowledged batches", || acknowledged.load(Ordering::SeqCst) >= 10 * BATCH);
    served.crash();
    importer.join().unwrap();
    let acknowledged = acknowledged.load(Ordering::SeqCst);

    let served = Served::start(data.path(), &[]);
    let count = served.record_count(&dataset);
    assert!(count >= acknowledged, "acknowledged {acknowledged}, found {count}");
    assert!(count <= acknowledged + BATCH, "at most the batch in flight was added: {count}");
    assert_eq!(count % BATCH, 0, "no half-written batch: {count}");
}

#[test]
fn sigkill_during_a_command_line_import_leaves_whole_batches_and_a_rerun_completes_it() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("imported");
    drop(served);
    let rows: String = (0..20_000).map(|index| format!("{{\"external_id\": \"e{index}\", \"prompt\": \"p{index}\", \"response-1\": \"a\", \"response-2\": \"b\"}}\n")).collect();
    let file = data.path().join("rows.jsonl");
    std::fs::write(&file, rows).unwrap();
    let mut import = Command::new(env!("CARGO_BIN_EXE_juror"))
        .args(["import", "--dataset", "imported", "--batch-size", "250", "--data-dir"])
        .arg(data.path())
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some batches are in: the database file grows as they commit.
    let database = data.path().join("juror.db");
    let wal = data.path().join("juror.db-wal");
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    let start_size = size(&database) + size(&wal);
    wait_for("the import to write", || size(&database) + size(&wal) > start_size + 200_000 || import.try_wait().unwrap().is_some());
    import.kill().unwrap();
    import.wait().unwrap();

    let served = Served::start(data.path(), &[]);
    let count = served.record_count(&dataset);
    assert_eq!(count % 250, 0, "no half-written batch: {count}");
    drop(served);
    let output = juror(&["import", "--dataset", "imported", "--batch-size", "250", file.to_str().unwrap()], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let served = Served::start(data.path(), &[]);
    assert_eq!(served.record_count(&dataset), 20_000, "the rerun adds the rest, nothing twice");
}

/// Labelers who ask for a record and submit it until nothing is left or the server goes away;
/// returns every acknowledged (record, labeler).
fn label(url: &str, dataset: &str, keys: &[String], answers: &Arc<AtomicU64>) -> Vec<(String, String)> {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = keys
        .iter()
        .cloned()
        .map(|key| {
            let (url, dataset, acknowledged, answers) = (url.to_owned(), dataset.to_owned(), acknowledged.clone(), answers.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
                loop {
                    let Ok((200, body)) = post(&client, &format!("{url}/api/v1/me/datasets/{dataset}/records/next"), &key, &json!({})) else { return };
                    let Some(record) = body["record"]["id"].as_str().map(str::to_owned) else { return };
                    let answer = json!({"status": "submitted", "values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}});
                    match post(&client, &format!("{url}/api/v1/records/{record}/responses"), &key, &answer) {
                        Ok((201, _)) => {
                            acknowledged.lock().unwrap().push((record, key.clone()));
                            answers.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((status, body)) => panic!("a submit answered {status}: {body}"),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    Arc::try_unwrap(acknowledged).unwrap().into_inner().unwrap()
}

/// Every record's submitted labelers, as the owner reads them.
pub(crate) fn submitted_by(served: &Served, dataset: &str) -> HashMap<String, Vec<String>> {
    let mut offset = 0;
    let mut by_record = HashMap::new();
    loop {
        let page = served.get(&format!("/api/v1/datasets/{dataset}/records?include=responses&limit=1000&offset={offset}")).1;
        let items = page["items"].as_array().unwrap().clone();
        for record in &items {
            let users = record["responses"].as_array().unwrap().iter().filter(|response| response["status"] == "submitted").map(|response| response["user_id"].as_str().unwrap().to_owned()).collect();
            by_record.insert(record["id"].as_str().unwrap().to_owned(), users);
        }
        offset += items.len();
        if items.len() < 1000 {
            return by_record;
        }
    }
}

#[test]
fn sigkill_during_64_labelers_keeps_every_acknowledged_answer_and_the_overlap_exact() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("labeled");
    assert_eq!(served.send("PATCH", &format!("/api/v1/datasets/{dataset}"), json!({"distribution": {"strategy": "overlap", "min_submitted": 2}})).0, 200);
    let records = 600;
    for start in (0..records).step_by(200) {
        assert_eq!(served.send("POST", &format!("/api/v1/datasets/{dataset}/records/bulk"), batch("r", start, 200, 50)).0, 201);
    }
    let workspace = served.get("/api/v1/me/workspaces").1["items"][0]["id"].as_str().unwrap().to_owned();
    let mut keys = Vec::new();
    let mut ids_by_key = HashMap::new();
    for index in 0..64 {
        let (status, user) = served.send("POST", "/api/v1/users", json!({"username": format!("labeler-{index}"), "first_name": "L", "password": "labeler-password"}));
        assert_eq!(status, 201, "{user}");
        assert_eq!(served.send("POST", &format!("/api/v1/workspaces/{workspace}/users"), json!({"user_id": user["id"]})).0, 201);
        keys.push(user["api_key"].as_str().unwrap().to_owned());
        ids_by_key.insert(user["api_key"].as_str().unwrap().to_owned(), user["id"].as_str().unwrap().to_owned());
    }

    let answers = Arc::new(AtomicU64::new(0));
    let killer = {
        let (pid, answers) = (served.child.id(), answers.clone());
        std::thread::spawn(move || {
            // Once a good part of the answers is in, kill the server.
            wait_for("labeling to be under way", || answers.load(Ordering::SeqCst) >= 400);
            Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
        })
    };
    let before_crash = label(&served.url, &dataset, &keys, &answers);
    killer.join().unwrap();
    drop(served);
    assert!(!before_crash.is_empty() && before_crash.len() < (records * 2) as usize, "killed mid-run: {} answers", before_crash.len());

    let served = Served::start(data.path(), &[]);
    let stored = submitted_by(&served, &dataset);
    for (record, key) in &before_crash {
        assert!(stored[record].contains(&ids_by_key[key]), "an acknowledged answer to {record} was lost");
    }
    // The rest of the work, after the restart.
    let after = label(&served.url, &dataset, &keys, &Arc::new(AtomicU64::new(0)));
    // An answer can commit while the kill takes its acknowledgement with it: at most one per
    // labeler in flight, never more answers than the overlap asks for.
    let acknowledged = before_crash.len() + after.len();
    assert!(acknowledged <= (records * 2) as usize && acknowledged + keys.len() >= (records * 2) as usize, "{acknowledged} acknowledged answers");
    let stored = submitted_by(&served, &dataset);
    assert_eq!(stored.len(), records as usize);
    for (record, users) in &stored {
        let distinct: HashSet<&String> = users.iter().collect();
        assert_eq!((users.len(), distinct.len()), (2, 2), "record {record}: {users:?}");
    }
}

/// A size-limited tmpfs, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Self {
        let parent = data_dir();
        let path = parent.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"]).arg(&path).status();
        assert!(mounted.is_ok_and(|status| status.success()), "this test mounts a small tmpfs to fill the disk: it needs root (CI and the development machines run as root)");
        Self { path, _parent: parent }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[test]
fn a_full_disk_refuses_writes_clearly_serves_reads_and_loses_nothing() {
    let disk = SmallDisk::mount(32);
    let data = disk.path.join("data");
    let served = Served::start(&data, &[]);
    let dataset = served.comparison_dataset("full");
    // Fill the disk but for about 3 MB, in 1 MB files to give back later.
    let mut fillers = Vec::new();
    loop {
        let path = disk.path.join(format!("filler-{}", fillers.len()));
        let mut file = std::fs::File::create(&path).unwrap();
        let written = file.write_all(&vec![7u8; 1 << 20]).and_then(|()| file.sync_all());
        fillers.push(path);
        if written.is_err() {
            break;
        }
    }
    for path in fillers.drain(fillers.len().saturating_sub(4)..) {
        std::fs::remove_file(path).unwrap();
    }

    let client = reqwest::blocking::Client::new();
    let path = format!("{}/api/v1/datasets/{dataset}/records/bulk", served.url);
    let mut acknowledged = 0;
    let refusal = loop {
        let (status, body) = post(&client, &path, KEY, &batch("full", acknowledged, 20, 10_000)).unwrap();
        match status {
            201 => acknowledged += 20,
            _ => break (status, body),
        }
        assert!(acknowledged < 2_000, "the disk never filled up");
    };
    assert_eq!(refusal.0, 507, "{refusal:?}");
    assert!(refusal.1["detail"].as_str().unwrap().contains("disk is full"), "{refusal:?}");
    // Reads go on.
    assert_eq!(served.record_count(&dataset), acknowledged);
    assert_eq!(served.get("/api/v1/me").0, 200);
    assert!(acknowledged > 0);

    // Space back: writes work again, and nothing acknowledged was lost.
    for path in fillers {
        std::fs::remove_file(path).unwrap();
    }
    let (status, body) = post(&client, &path, KEY, &batch("full", acknowledged, 20, 10_000)).unwrap();
    assert_eq!(status, 201, "{body}");
    served.crash();
    let served = Served::start(&data, &[]);
    assert_eq!(served.record_count(&dataset), acknowledged + 20);
    drop(served);
}

#[test]
fn clients_that_go_away_mid_request_change_nothing_and_harm_no_one() {
    use std::io::Read;

    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("abandoned");
    let address = served.url.trim_start_matches("http://").to_owned();
    let body = serde_json::to_vec(&batch("gone", 0, BATCH, 500)).unwrap();
    let head = format!(
        "POST /api/v1/datasets/{dataset}/records/bulk HTTP/1.1\r\nhost: juror\r\nx-argilla-api-key: {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    for _ in 0..20 {
        // Half a body, then the connection closes.
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body[..body.len() / 2]).unwrap();
        drop(stream);
    }
    // A whole request whose client leaves before the answer: it is written whole or not at all.
    for _ in 0..5 {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        stream.shutdown(std::net::Shutdown::Both).unwrap();
        let _ = stream.read(&mut [0u8; 16]);
    }
    std::thread::sleep(Duration::from_millis(300));
    let count = served.record_count(&dataset);
    assert!(count == 0 || count == BATCH, "the same batch, whole or not at all: {count}");
    assert_eq!(served.send("POST", &format!("/api/v1/datasets/{dataset}/records/bulk"), batch("after", 0, 10, 10)).0, 201);
    assert_eq!(served.record_count(&dataset), count + 10);
}

#[test]
fn a_command_line_import_beside_api_writes_completes_both() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("shared");
    let rows: String = (0..5_000).map(|index| format!("{{\"external_id\": \"cli-{index}\", \"prompt\": \"p{index}\", \"response-1\": \"a\", \"response-2\": \"b\"}}\n")).collect();
    let file = data.path().join("rows.jsonl");
    std::fs::write(&file, rows).unwrap();
    let (acknowledged, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let writer = keep_importing(served.url.clone(), dataset.clone(), "api", acknowledged.clone(), stop.clone());
    let output = juror(&["import", "--dataset", "shared", "--batch-size", "500", file.to_str().unwrap()], data.path());
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("imported 5000 records"), "{}", text(&output.stdout));
    let acknowledged = acknowledged.load(Ordering::SeqCst);
    assert!(acknowledged > 0, "the server took writes meanwhile");
    assert_eq!(served.record_count(&dataset), 5_000 + acknowledged);
}
