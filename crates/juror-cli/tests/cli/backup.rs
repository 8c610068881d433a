//! `juror backup` under load and `juror restore`, with the data directory's lock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::{data_dir, juror, text, Served};

const BATCH: u64 = 50;

fn batch(start: u64) -> Value {
    let items: Vec<Value> = (start..start + BATCH).map(|index| json!({"fields": {"prompt": format!("prompt {index}"), "response-1": "a", "response-2": "b"}})).collect();
    json!({"items": items})
}

/// The numbers after "backed up ...: " or "restored ...: " as (users, datasets, records, responses).
fn counts(output: &std::process::Output) -> Vec<u64> {
    let stdout = text(&output.stdout);
    let summary = stdout.lines().last().unwrap_or_default().rsplit(": ").next().unwrap_or_default().to_owned();
    summary.split(", ").map(|part| part.split(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("no count in {stdout}"))).collect()
}

#[test]
fn a_backup_taken_under_writes_holds_whole_batches_and_restores_into_a_working_server() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("busy");
    let acknowledged = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (url, dataset, acknowledged, stop) = (served.url.clone(), dataset.clone(), acknowledged.clone(), stop.clone());
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            while !stop.load(Ordering::SeqCst) {
                let start = acknowledged.load(Ordering::SeqCst);
                let answer = client.post(format!("{url}/api/v1/datasets/{dataset}/records/bulk")).header("X-Argilla-Api-Key", crate::helpers::KEY).json(&batch(start)).send().unwrap();
                assert_eq!(answer.status().as_u16(), 201);
                acknowledged.fetch_add(BATCH, Ordering::SeqCst);
            }
        })
    };
    while acknowledged.load(Ordering::SeqCst) < 4 * BATCH {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let copies = data_dir();
    let mut backups = Vec::new();
    for index in 0..3 {
        let before = acknowledged.load(Ordering::SeqCst);
        let file = copies.path().join(format!("backup-{index}.db"));
        let output = juror(&["backup", "--to", file.to_str().unwrap()], data.path());
        assert!(output.status.success(), "{}", text(&output.stderr));
        let records = counts(&output)[2];
        assert!(records >= before, "every record acknowledged before the backup began is in it: {records} < {before}");
        assert_eq!(records % BATCH, 0, "a backup holds whole batches: {records}");
        backups.push((file, records));
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let live = served.record_count(&dataset);
    let (file, records) = backups.pop().unwrap();
    assert!(records <= live);
    let again = juror(&["backup", "--to", file.to_str().unwrap()], data.path());
    assert!(!again.status.success() && text(&again.stderr).contains("exists already"), "a backup never overwrites a file");

    // Restored into a new directory, the copy serves the records it holds.
    let restored_dir = data_dir();
    let output = juror(&["restore", "--from", file.to_str().unwrap()], restored_dir.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(counts(&output)[2], records);
    let restored = Served::start(restored_dir.path(), &[]);
    assert_eq!(restored.record_count(&dataset), records);
}

#[test]
fn restore_refuses_a_running_server_an_existing_database_and_files_that_are_not_backups() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    served.comparison_dataset("kept");
    let copies = data_dir();
    let file = copies.path().join("backup.db");
    assert!(juror(&["backup", "--to", file.to_str().unwrap()], data.path()).status.success());

    let refused = juror(&["restore", "--from", file.to_str().unwrap(), "--force"], data.path());
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("a `juror serve` is running"), "{}", text(&refused.stderr));
    let second = juror(&["serve", "--port", "0"], data.path());
    assert!(text(&second.stderr).contains("a `juror serve` is running"), "two servers never share a database: {}", text(&second.stderr));
    drop(served);

    let refused = juror(&["restore", "--from", file.to_str().unwrap()], data.path());
    assert!(text(&refused.stderr).contains("pass --force"), "{}", text(&refused.stderr));
    let not_a_database = copies.path().join("notes.txt");
    std::fs::write(&not_a_database, "not a database at all, but long enough to look like one to a careless reader").unwrap();
    let refused = juror(&["restore", "--from", not_a_database.to_str().unwrap(), "--force"], data.path());
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("cannot be restored"), "{}", text(&refused.stderr));

    let output = juror(&["restore", "--from", file.to_str().unwrap(), "--force"], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let kept: Vec<_> = std::fs::read_dir(data.path()).unwrap().filter_map(|entry| entry.ok()?.file_name().into_string().ok()).filter(|name| name.starts_with("juror.db.before-restore-")).collect();
    assert_eq!(kept.len(), 1, "the replaced database is kept beside");
    let served = Served::start(data.path(), &[]);
    assert_eq!(served.get("/api/v1/me/datasets").1["items"][0]["name"], "kept");
}
