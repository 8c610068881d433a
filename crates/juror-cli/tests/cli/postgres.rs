//! Juror on PostgreSQL, end to end: replicas sharing one database under 64 labelers (and one of
//! them killed mid-run), and `juror copy` of a SQLite installation. The server is the one
//! `JUROR_TEST_POSTGRES_URL` names (`scripts/test.sh` starts a throwaway one); without it these
//! tests fail rather than skip.

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::faults::{batch, post, submitted_by, wait_for};
use crate::helpers::{data_dir, juror_plain, text, Served};

/// A new, empty database on the test server; its URL.
pub fn fresh_database() -> String {
    let admin = std::env::var("JUROR_TEST_POSTGRES_URL")
        .expect("JUROR_TEST_POSTGRES_URL must name a PostgreSQL server's maintenance database (scripts/test.sh starts one)");
    let name = format!("juror_cli_{}", std::process::id()) + &format!("_{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(juror_store_postgres::create_database(&admin, &name)).expect("a test database is created")
}

/// A labeler working through a dataset on several replicas in turn until nothing is left; when a
/// replica stops answering they go on with the next one. Returns what they got acknowledged.
fn label_across(urls: Vec<String>, dataset: String, key: String, answers: Arc<AtomicU64>) -> Vec<String> {
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let mut dead: HashSet<usize> = HashSet::new();
    let mut acknowledged = Vec::new();
    let mut turn = key.len();
    loop {
        let alive: Vec<usize> = (0..urls.len()).filter(|index| !dead.contains(index)).collect();
        assert!(!alive.is_empty(), "every replica went away");
        turn += 1;
        let replica = alive[turn % alive.len()];
        let url = &urls[replica];
        let Ok((status, body)) = post(&client, &format!("{url}/api/v1/me/datasets/{dataset}/records/next"), &key, &json!({})) else {
            dead.insert(replica);
            continue;
        };
        assert_eq!(status, 200, "next answered {status}: {body}");
        let Some(record) = body["record"]["id"].as_str().map(str::to_owned) else { return acknowledged };
        let answer = json!({"status": "submitted", "values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}});
        match post(&client, &format!("{url}/api/v1/records/{record}/responses"), &key, &answer) {
            Ok((201, _)) => {
                acknowledged.push(record);
                answers.fetch_add(1, Ordering::SeqCst);
            }
            // The answer may have committed before the replica died: the record is then
            // answered, and the next hand-out moves on.
            Err(_) => {
                dead.insert(replica);
            }
            Ok((status, body)) => panic!("a submit answered {status}: {body}"),
        }
    }
}

/// Two replicas on one database, `min_submitted=2` on `records` records, 64 labelers
/// alternating between them; with `kill`, the second replica is killed (SIGKILL) mid-run.
fn two_replicas(records: u64, kill: bool) {
    let database = fresh_database();
    let (first_dir, second_dir) = (data_dir(), data_dir());
    let first = Served::start(first_dir.path(), &["--database-url", &database]);
    let second = Served::start(second_dir.path(), &["--database-url", &database]);
    let dataset = first.comparison_dataset("replicated");
    assert_eq!(first.send("PATCH", &format!("/api/v1/datasets/{dataset}"), json!({"distribution": {"strategy": "overlap", "min_submitted": 2}})).0, 200);
    for start in (0..records).step_by(500) {
        assert_eq!(second.send("POST", &format!("/api/v1/datasets/{dataset}/records/bulk"), batch("r", start, 500, 50)).0, 201);
    }
    let workspace = first.get("/api/v1/me/workspaces").1["items"][0]["id"].as_str().unwrap().to_owned();
    let mut ids_by_key = HashMap::new();
    for index in 0..64 {
        let (status, user) = first.send("POST", "/api/v1/users", json!({"username": format!("labeler-{index}"), "first_name": "L", "password": "labeler-password"}));
        assert_eq!(status, 201, "{user}");
        assert_eq!(second.send("POST", &format!("/api/v1/workspaces/{workspace}/users"), json!({"user_id": user["id"]})).0, 201);
        ids_by_key.insert(user["api_key"].as_str().unwrap().to_owned(), user["id"].as_str().unwrap().to_owned());
    }

    let answers = Arc::new(AtomicU64::new(0));
    let killer = kill.then(|| {
        let (pid, answers) = (second.child.id(), answers.clone());
        std::thread::spawn(move || {
            wait_for("labeling to be under way", || answers.load(Ordering::SeqCst) >= records / 2);
            Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
        })
    });
    let urls = vec![first.url.clone(), second.url.clone()];
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let labelers: Vec<_> = ids_by_key
        .keys()
        .cloned()
        .map(|key| {
            let (urls, dataset, answers, acknowledged) = (urls.clone(), dataset.clone(), answers.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let records = label_across(urls, dataset, key.clone(), answers);
                acknowledged.lock().unwrap().extend(records.into_iter().map(|record| (record, key.clone())));
            })
        })
        .collect();
    for labeler in labelers {
        labeler.join().unwrap();
    }
    if let Some(killer) = killer {
        killer.join().unwrap();
    }

    let stored = submitted_by(&first, &dataset);
    assert_eq!(stored.len(), records as usize);
    for (record, key) in acknowledged.lock().unwrap().iter() {
        assert!(stored[record].contains(&ids_by_key[key]), "an acknowledged answer to {record} was lost");
    }
    for (record, users) in &stored {
        let distinct: HashSet<&String> = users.iter().collect();
        assert_eq!((users.len(), distinct.len()), (2, 2), "record {record}: {users:?}");
    }
}

#[test]
fn two_replicas_share_the_work_exactly() {
    two_replicas(2_000, false);
}

#[test]
fn a_replica_killed_mid_run_loses_no_acknowledged_answer() {
    two_replicas(1_000, true);
}

/// Reads everything a client sees of a dataset: its records with responses and suggestions.
fn everything(served: &Served, dataset: &str) -> Vec<Value> {
    let page = served.get(&format!("/api/v1/datasets/{dataset}/records?include=responses,suggestions,vectors&limit=1000")).1;
    page["items"].as_array().unwrap().clone()
}

#[test]
fn copy_moves_a_whole_sqlite_installation_and_every_count_matches() {
    let data = data_dir();
    let served = Served::start(data.path(), &["--demo"]);
    let dataset = served.comparison_dataset("copied");
    assert_eq!(served.send("POST", &format!("/api/v1/datasets/{dataset}/records/bulk"), batch("c", 0, 50, 20)).0, 201);
    // An answer, a lease and a quota, which the copy carries.
    let (status, body) = served.send("POST", &format!("/api/v1/me/datasets/{dataset}/records/next"), json!({}));
    assert_eq!(status, 200, "{body}");
    let record = body["record"]["id"].as_str().unwrap().to_owned();
    let answer = json!({"status": "submitted", "values": {"preference": {"value": [{"value": "response-2", "rank": 1}, {"value": "response-1", "rank": 2}]}}});
    assert_eq!(served.send("POST", &format!("/api/v1/records/{record}/responses"), answer).0, 201);
    let held = served.send("POST", &format!("/api/v1/me/datasets/{dataset}/records/next"), json!({})).1["record"]["id"].clone();
    assert!(held.is_string() && held != json!(record), "a second record is held: {held}");
    let datasets = served.get("/api/v1/me/datasets").1;
    let before: Vec<(String, Vec<Value>)> = datasets["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).map(|id| (id.clone(), everything(&served, &id))).collect();
    assert!(served.terminate());

    let target = fresh_database();
    let copied = juror_plain(&["copy", "--from", data.path().to_str().unwrap(), "--to", &target]);
    let output = text(&copied.stdout);
    assert!(copied.status.success(), "{output}{}", text(&copied.stderr));
    assert!(output.contains("every table's count matches"), "{output}");
    assert!(output.contains("records: 60 of 60 rows"), "the demo's 10 records and 50 more: {output}");
    let again = juror_plain(&["copy", "--from", data.path().to_str().unwrap(), "--to", &target]);
    assert!(!again.status.success() && text(&again.stderr).contains("already holds Juror data"), "a second copy is refused: {}", text(&again.stderr));

    // A server on the copy serves the same records and responses, the same API key works.
    let elsewhere = data_dir();
    let served = Served::start(elsewhere.path(), &["--database-url", &target]);
    for (id, records) in &before {
        assert_eq!(&everything(&served, id), records, "dataset {id} reads the same from the copy");
    }
    let progress = served.get(&format!("/api/v1/datasets/{dataset}/progress")).1;
    assert_eq!((progress["completed"].as_u64(), progress["total"].as_u64()), (Some(1), Some(50)), "{progress}");
    // The lease came along: the owner's next record is the one they held.
    assert_eq!(served.send("POST", &format!("/api/v1/me/datasets/{dataset}/records/next"), json!({})).1["record"]["id"], held);
}
