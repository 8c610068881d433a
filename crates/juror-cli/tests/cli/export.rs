//! `juror export` and `juror metrics`: rankings submitted over HTTP come out as training lines.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::helpers::{data_dir, juror, text, Served};

fn api_key(output: &std::process::Output) -> String {
    text(&output.stdout).rsplit("API key: ").next().unwrap().trim().to_owned()
}

/// A comparison dataset of 3 records answered by 3 labelers: on `p0` two prefer response-1 and one
/// response-2; `p1` is unanimous for response-2 and `p2` for response-1.
fn answered_dataset() -> (tempfile::TempDir, Served) {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let dataset = served.comparison_dataset("guide");
    let items: Vec<Value> = (0..3).map(|index| json!({"fields": {"prompt": format!("p{index}"), "response-1": format!("short {index}"), "response-2": format!("a longer answer {index}")}})).collect();
    assert_eq!(served.send("POST", &format!("/api/v1/datasets/{dataset}/records/bulk"), json!({"items": items})).0, 201);
    let records = served.get(&format!("/api/v1/datasets/{dataset}/records")).1;
    let ids: HashMap<String, String> =
        records["items"].as_array().unwrap().iter().map(|record| (record["fields"]["prompt"].as_str().unwrap().to_owned(), record["id"].as_str().unwrap().to_owned())).collect();
    let client = reqwest::blocking::Client::new();
    for (labeler, name) in ["natalia", "amelie", "dani"].iter().enumerate() {
        let output = juror(&["user", "add", "--username", name, "--password", "correct-horse", "--workspace", "argilla"], data.path());
        assert!(output.status.success(), "{}", text(&output.stderr));
        let key = api_key(&output);
        for (prompt, best) in [("p0", if labeler < 2 { "response-1" } else { "response-2" }), ("p1", "response-2"), ("p2", "response-1")] {
            let worst = if best == "response-1" { "response-2" } else { "response-1" };
            let ranking = json!({"status": "submitted", "values": {"preference": {"value": [{"value": best, "rank": 1}, {"value": worst, "rank": 2}]}}});
            let response = client.post(format!("{}/api/v1/records/{}/responses", served.url, ids[prompt])).header("X-Argilla-Api-Key", &key).json(&ranking).send().unwrap();
            assert_eq!(response.status().as_u16(), 201);
        }
    }
    (data, served)
}

/// Runs `juror export --dataset guide ARGS --output -` and returns its lines as JSON.
fn export(data: &std::path::Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["export", "--dataset", "guide", "--workspace", "argilla", "--output", "-"];
    all.extend_from_slice(args);
    let output = juror(&all, data);
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

#[test]
fn export_writes_resolved_pairs_and_raw_judgments() {
    let (data, _served) = answered_dataset();

    let lines = export(data.path(), &["--format", "trl", "--with-confidence"]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let by_prompt: HashMap<&str, &Value> = lines.iter().map(|line| (line["prompt"].as_str().unwrap(), line)).collect();
    let expected = [("p0", "short 0", "a longer answer 0", 3), ("p1", "a longer answer 1", "short 1", 3), ("p2", "short 2", "a longer answer 2", 3)];
    for (prompt, chosen, rejected, judgments) in expected {
        let line = by_prompt[prompt];
        assert_eq!((line["chosen"].as_str().unwrap(), line["rejected"].as_str().unwrap()), (chosen, rejected), "{line}");
        assert_eq!(line["judgments"], judgments, "{line}");
        assert!(line["p_chosen"].as_f64().unwrap() > 0.5, "{line}");
    }
    assert!((by_prompt["p0"]["p_chosen"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(by_prompt["p1"]["agreement"], 1.0);

    let lines = export(data.path(), &["--format", "openai-dpo"]);
    assert_eq!(lines.len(), 3);
    let p0 = lines.iter().find(|line| line["input"]["messages"][0]["content"] == "p0").expect("p0 is exported");
    assert_eq!(
        p0,
        &json!({
            "input": {"messages": [{"role": "user", "content": "p0"}]},
            "preferred_output": [{"role": "assistant", "content": "short 0"}],
            "non_preferred_output": [{"role": "assistant", "content": "a longer answer 0"}]
        })
    );

    let lines = export(data.path(), &["--format", "judgments"]);
    assert_eq!(lines.len(), 9, "one line per response");
    assert!(lines.iter().all(|line| line["status"] == "submitted" && line["values"]["preference"]["value"].is_array()));
    assert_eq!(lines.iter().filter(|line| line["user"] == "dani").count(), 3);
}

/// Reads a Parquet file's rows as JSON objects, with its schema printed.
fn read_parquet(path: &std::path::Path) -> (Vec<Value>, String) {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut schema = Vec::new();
    parquet::schema::printer::print_schema(&mut schema, reader.metadata().file_metadata().schema());
    (reader.into_iter().map(|row| row.unwrap().to_json_value()).collect(), text(&schema))
}

#[test]
fn export_writes_flat_pairs_as_parquet() {
    let (data, _served) = answered_dataset();
    let out = tempfile::tempdir().unwrap();

    // Inferred from the extension.
    let path = out.path().join("pairs.parquet");
    let output = juror(&["export", "--dataset", "guide", "--format", "trl", "--with-confidence", "--output", path.to_str().unwrap()], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("wrote 3 trl Parquet rows"), "{}", text(&output.stderr));
    let (rows, schema) = read_parquet(&path);
    for column in ["BYTE_ARRAY prompt (STRING)", "BYTE_ARRAY chosen (STRING)", "BYTE_ARRAY rejected (STRING)", "DOUBLE p_chosen", "DOUBLE margin", "INT64 judgments", "DOUBLE agreement"] {
        assert!(schema.contains(column), "{schema}");
    }
    assert_eq!(rows.len(), 3);
    let p1 = rows.iter().find(|row| row["prompt"] == "p1").expect("p1 is exported");
    assert_eq!((&p1["chosen"], &p1["rejected"], &p1["judgments"], &p1["agreement"]), (&json!("a longer answer 1"), &json!("short 1"), &json!(3), &json!(1.0)));
    let jsonl = export(data.path(), &["--format", "trl", "--with-confidence"]);
    let mut from_json: Vec<String> = jsonl.iter().map(Value::to_string).collect();
    let mut from_parquet: Vec<String> = rows.iter().map(Value::to_string).collect();
    from_json.sort();
    from_parquet.sort();
    assert_eq!(from_json, from_parquet, "Parquet holds the same rows as JSON lines");

    // Asked for explicitly, whatever the name.
    let path = out.path().join("implicit.bin");
    let output = juror(&["export", "--dataset", "guide", "--format", "trl-implicit", "--file-format", "parquet", "--output", path.to_str().unwrap()], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (rows, _) = read_parquet(&path);
    assert!(rows.contains(&json!({"chosen": "p0\n\nshort 0", "rejected": "p0\n\na longer answer 0"})), "{rows:?}");

    // `--file-format jsonl` wins over the extension.
    let path = out.path().join("lines.parquet");
    let output = juror(&["export", "--dataset", "guide", "--format", "trl", "--file-format", "jsonl", "--output", path.to_str().unwrap()], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);

    // Message formats are lists of structs (see tests/sdk/test_export_formats.py).
    for format in ["openai-dpo", "trl-conversational"] {
        let path = out.path().join(format!("{format}.parquet"));
        let output = juror(&["export", "--dataset", "guide", "--format", format, "--output", path.to_str().unwrap()], data.path());
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert_eq!(read_parquet(&path).0.len(), 3);
    }
    // Judgments have no Parquet layout: refused before any file is created.
    let path = out.path().join("judgments.parquet");
    let output = juror(&["export", "--dataset", "guide", "--format", "judgments", "--output", path.to_str().unwrap()], data.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`--format judgments` cannot be written as Parquet"), "{}", text(&output.stderr));
    assert!(!path.exists());
}

#[test]
fn metrics_reports_judgments_and_agreement() {
    let (data, _served) = answered_dataset();
    let output = juror(&["metrics", "--dataset", "guide", "--strategy", "borda"], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report = text(&output.stdout);
    assert!(report.contains("judgments: 9 on 3 records"), "{report}");
    assert!(report.contains("pairs: 3"), "{report}");
    assert!(report.contains("krippendorff's alpha"), "{report}");
    assert!(report.contains("dani\t0.667 over 3 pairs"), "{report}");
    assert!(report.contains("longer-response win rate"), "{report}");
}

#[test]
fn export_errors_exit_2_with_a_message() {
    let (data, _served) = answered_dataset();
    let output = juror(&["export", "--dataset", "guide", "--format", "parquet", "--output", "-"], data.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown export format `parquet`"), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("--file-format parquet"), "{}", text(&output.stderr));
    let output = juror(&["export", "--dataset", "guide", "--format", "trl", "--question", "nope", "--output", "-"], data.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no question named `nope`"), "{}", text(&output.stderr));
}

#[test]
fn quality_commands_mark_gold_from_a_file_and_metrics_report_standings_and_savings() {
    let (data, served) = answered_dataset();
    let listed = served.get("/api/v1/me/datasets").1;
    let dataset = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let records = served.get(&format!("/api/v1/datasets/{dataset}/records")).1;
    let p0 = records["items"].as_array().unwrap().iter().find(|record| record["fields"]["prompt"] == "p0").unwrap()["id"].as_str().unwrap().to_owned();

    let file = data.path().join("gold.jsonl");
    std::fs::write(&file, format!("{}\n\n", json!({"record_id": p0, "verdict": {"question": "preference", "chosen": "response-1", "rejected": "response-2"}}))).unwrap();
    let output = juror(&["quality", "gold", "--dataset", "guide", file.to_str().unwrap()], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("1 gold records in `guide`"), "{}", text(&output.stdout));

    let bad = data.path().join("bad.jsonl");
    std::fs::write(&bad, format!("{}\n", json!({"record_id": p0, "verdict": {"question": "preference", "chosen": "response-7", "rejected": "response-2"}}))).unwrap();
    let output = juror(&["quality", "gold", "--dataset", "guide", bad.to_str().unwrap()], data.path());
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("item 0: `response-7` is not an option"), "{}", text(&output.stderr));

    let output = juror(&["quality", "set", "--dataset", "guide", r#"{"adaptive": {"question": "preference", "max": 5}}"#], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = juror(&["quality", "set", "--dataset", "guide", r#"{"adaptive": {"question": "nope"}}"#], data.path());
    assert!(text(&output.stderr).contains("not a ranking question"), "{}", text(&output.stderr));

    let output = juror(&["metrics", "--dataset", "guide"], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report = text(&output.stdout);
    assert!(report.contains("judgments: 6 on 2 records"), "the gold record is left out: {report}");
    assert!(report.contains("adaptive overlap: 6 judgments on 2 records, 4 fewer than a fixed overlap of the maximum (10)"), "{report}");
    assert!(report.contains("gold: 1 records (left out of these figures), 0 labelers flagged, 0 paused"), "{report}");
    assert!(report.contains("dani\t0 of 1 gold answers right"), "{report}");
    assert!(report.contains("natalia\t1 of 1 gold answers right"), "{report}");

    let output = juror(&["quality", "show", "--dataset", "guide"], data.path());
    let shown = text(&output.stdout);
    assert!(shown.contains(r#""question":"preference""#) && shown.contains("gold records: 1"), "{shown}");
    let output = juror(&["quality", "resume", "--dataset", "guide", "--user", "dani"], data.path());
    assert!(text(&output.stdout).contains("`dani` may go on in `guide`"), "{}", text(&output.stderr));
}
