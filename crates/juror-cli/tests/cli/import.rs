//! `juror import`: JSONL and CSV into a dataset, idempotent by external id, errors by line.

use crate::helpers::{data_dir, juror, text, Served};

fn write(dir: &std::path::Path, name: &str, contents: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn jsonl_rows_become_records_and_a_rerun_adds_no_duplicates() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("imported");
    let rows: String = (0..25)
        .map(|index| format!("{{\"external_id\": \"e{index}\", \"prompt\": \"p{index}\", \"response-1\": \"a\", \"response-2\": \"b\", \"words\": {index}}}\n"))
        .collect();
    let file = write(data.path(), "rows.jsonl", &rows);
    for _ in 0..2 {
        let output = juror(&["import", "--dataset", "imported", "--batch-size", "10", file.to_str().unwrap()], data.path());
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("imported 25 records"), "{}", text(&output.stdout));
    }
    assert_eq!(served.record_count(&dataset), 25);
    let listed = served.get(&format!("/api/v1/datasets/{dataset}/records?limit=1")).1;
    assert_eq!(listed["items"][0]["fields"]["prompt"], "p0");
    assert_eq!(listed["items"][0]["metadata"]["words"], 0);
}

#[test]
fn csv_cells_are_typed_by_the_metadata_properties() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("from-csv");
    let file = write(data.path(), "rows.csv", "external_id,prompt,response-1,response-2,words\nc1,\"Hello, world\",a,b,12\nc2,second,c,d,7\n");
    let output = juror(&["import", "--dataset", "from-csv", file.to_str().unwrap()], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let listed = served.get(&format!("/api/v1/datasets/{dataset}/records")).1;
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["items"][0]["fields"]["prompt"], "Hello, world");
    assert_eq!(listed["items"][0]["metadata"]["words"], 12);
}

#[test]
fn a_bad_row_is_reported_by_line_and_stops_the_import() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("strict");
    let rows = "{\"prompt\": \"p\", \"response-1\": \"a\", \"response-2\": \"b\"}\n\n{\"prompt\": \"p\", \"response-1\": \"a\"}\n";
    let file = write(data.path(), "bad.jsonl", rows);
    let output = juror(&["import", "--dataset", "strict", file.to_str().unwrap()], data.path());
    assert_eq!(output.status.code(), Some(2));
    let error = text(&output.stderr);
    assert!(error.contains("line 3") && error.contains("response-2"), "{error}");
    assert_eq!(served.record_count(&dataset), 0, "the failing batch stores nothing");
    let broken = write(data.path(), "broken.jsonl", "{\"prompt\": \n");
    let output = juror(&["import", "--dataset", "strict", broken.to_str().unwrap()], data.path());
    assert!(text(&output.stderr).contains("line 1: invalid JSON"), "{}", text(&output.stderr));
}

#[test]
fn unknown_dataset_and_extension_are_clear_errors() {
    let data = data_dir();
    let _served = Served::start(data.path(), &[]);
    let file = write(data.path(), "rows.jsonl", "{}\n");
    let output = juror(&["import", "--dataset", "missing", file.to_str().unwrap()], data.path());
    assert!(text(&output.stderr).contains("no dataset named `missing`"), "{}", text(&output.stderr));
    let file = write(data.path(), "rows.xml", "<x/>");
    let output = juror(&["import", "--dataset", "missing", file.to_str().unwrap()], data.path());
    assert!(text(&output.stderr).contains("unknown extension"), "{}", text(&output.stderr));
}

#[test]
fn a_gold_column_makes_its_records_gold() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("with-gold");
    let verdict = r#"{"question": "preference", "chosen": "response-2", "rejected": "response-1"}"#;
    let rows = format!(
        "{{\"external_id\": \"g1\", \"prompt\": \"known\", \"response-1\": \"wrong\", \"response-2\": \"right\", \"gold\": {verdict}}}\n\
         {{\"external_id\": \"o1\", \"prompt\": \"open\", \"response-1\": \"a\", \"response-2\": \"b\"}}\n"
    );
    let file = write(data.path(), "rows.jsonl", &rows);
    let output = juror(&["import", "--dataset", "with-gold", file.to_str().unwrap()], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let gold = served.get(&format!("/api/v1/datasets/{dataset}/gold")).1;
    let records = served.get(&format!("/api/v1/datasets/{dataset}/records")).1;
    let g1 = records["items"].as_array().unwrap().iter().find(|record| record["external_id"] == "g1").unwrap()["id"].clone();
    assert_eq!(gold["items"].as_array().map(Vec::len), Some(1), "{gold}");
    assert_eq!((&gold["items"][0]["record_id"], &gold["items"][0]["verdict"]["chosen"]), (&g1, &serde_json::json!("response-2")));

    let bad = write(data.path(), "bad.csv", "external_id,prompt,response-1,response-2,gold\nb1,p,a,b,\"{\"\"question\"\": \"\"preference\"\", \"\"chosen\"\": \"\"response-9\"\", \"\"rejected\"\": \"\"response-1\"\"}\"\n");
    let output = juror(&["import", "--dataset", "with-gold", bad.to_str().unwrap()], data.path());
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("`response-9` is not an option"), "{}", text(&output.stderr));
}
