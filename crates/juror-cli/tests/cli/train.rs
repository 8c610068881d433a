//! `juror train` and `juror score`: a reward model trained on rankings submitted over HTTP,
//! stopped and resumed, and its rankings written back as suggestions.

use std::collections::HashMap;
use std::path::Path;

use juror_train::checkpoint::{fresh_seeded, save};
use juror_train::tokenize::word_level;
use juror_train::{BertConfig, Device};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::{data_dir, juror, juror_plain, text, Served};

/// Words of the toy texts: a response with `good` in it is the better one.
const FILLER: [&str; 12] = ["the", "answer", "is", "maybe", "so", "then", "because", "it", "was", "here", "now", "and"];

fn words() -> Vec<&'static str> {
    let mut words = vec!["good", "bad", "question"];
    words.extend(FILLER);
    words.extend((0..80).map(|index| &*format!("q{index}").leak()));
    words
}

/// A tiny BERT backbone (random weights, seeded) with a whole-word tokenizer, as a checkpoint
/// directory like a downloaded one.
fn tiny_backbone(dir: &Path) {
    let tokenizer = word_level(&words()).unwrap();
    let config = BertConfig::tiny(tokenizer.get_vocab_size(true));
    let (model, varmap) = fresh_seeded(&config, &Device::Cpu, 3).unwrap();
    save(&model, &varmap, dir).unwrap();
    tokenizer.save(dir.join("tokenizer.json"), false).unwrap();
}

fn sentence(rng: &mut StdRng, marker: &str) -> String {
    let mut words: Vec<&str> = (0..rng.gen_range(4..8)).map(|_| FILLER[rng.gen_range(0..FILLER.len())]).collect();
    let place = rng.gen_range(0..=words.len());
    words.insert(place, marker);
    words.join(" ")
}

/// A comparison dataset of `count` records whose better response holds `good`, on either side,
/// ranked by the owner through the API; the records' ids by prompt.
fn ranked_dataset(served: &Served, count: usize, answered: usize) -> (String, HashMap<String, String>) {
    let dataset = served.comparison_dataset("guide");
    let mut rng = StdRng::seed_from_u64(9);
    let mut better = HashMap::new();
    let items: Vec<Value> = (0..count)
        .map(|index| {
            let (good, bad) = (sentence(&mut rng, "good"), sentence(&mut rng, "bad"));
            let first_is_good = rng.gen_bool(0.5);
            better.insert(format!("question q{index}"), if first_is_good { "response-1" } else { "response-2" });
            let (first, second) = if first_is_good { (good, bad) } else { (bad, good) };
            json!({"fields": {"prompt": format!("question q{index}"), "response-1": first, "response-2": second}})
        })
        .collect();
    assert_eq!(served.send("POST", &format!("/api/v1/datasets/{dataset}/records/bulk"), json!({"items": items})).0, 201);
    let records = served.get(&format!("/api/v1/datasets/{dataset}/records?limit=1000")).1;
    let ids: HashMap<String, String> =
        records["items"].as_array().unwrap().iter().map(|record| (record["fields"]["prompt"].as_str().unwrap().to_owned(), record["id"].as_str().unwrap().to_owned())).collect();
    for index in 0..answered {
        let prompt = format!("question q{index}");
        let best = better[&prompt];
        let worst = if best == "response-1" { "response-2" } else { "response-1" };
        let ranking = json!({"status": "submitted", "values": {"preference": {"value": [{"value": best, "rank": 1}, {"value": worst, "rank": 2}]}}});
        let (status, body) = served.send("POST", &format!("/api/v1/records/{}/responses", ids[&prompt]), ranking);
        assert_eq!(status, 201, "{body}");
    }
    (dataset, ids)
}

fn train_args<'a>(backbone: &'a str, output: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train", "--dataset", "guide", "--backbone", backbone, "--output", output, "--epochs", "12", "--batch-size", "8", "--learning-rate", "2e-3",
        "--head-learning-rate", "5e-3", "--warmup", "0.05", "--held-out", "0.25", "--seed", "1", "--max-length", "32",
    ];
    args.extend_from_slice(extra);
    args
}

fn report(output: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(output.join("report.json")).expect("report.json")).unwrap()
}

#[test]
fn a_reward_model_learns_from_a_datasets_rankings_stops_resumes_and_suggests() {
    let data = data_dir();
    let served = Served::start(data.path(), &[]);
    let (_, ids) = ranked_dataset(&served, 100, 80);
    let work = tempfile::tempdir().unwrap();
    let backbone = work.path().join("backbone");
    tiny_backbone(&backbone);
    let (backbone_arg, model) = (backbone.to_str().unwrap(), work.path().join("model"));

    // Trained in one go: the held-out pairs (by prompt) end up ordered right.
    let output = juror(&train_args(backbone_arg, model.to_str().unwrap(), &[]), data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let whole = report(&model);
    assert_eq!(whole["outcome"], "finished");
    assert_eq!(whole["settings"]["pooling"], "response", "the response's tokens are pooled by default");
    assert_eq!(whole["settings"]["train"]["schedule"], "linear", "the rates decay linearly by default");
    assert_eq!((whole["data"]["train_pairs"].as_u64(), whole["data"]["held_out_pairs"].as_u64()), (Some(60), Some(20)), "{}", whole["data"]);
    let accuracy = whole["epochs"].as_array().unwrap().last().unwrap()["held_out"]["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.9, "held-out accuracy {accuracy}, before {}", whole["before"]);
    for file in ["model.safetensors", "config.json", "tokenizer.json", "reward_model.json", "checkpoints/epoch-12/state.json"] {
        assert!(model.join(file).is_file(), "{file} is written");
    }
    assert!(std::fs::read_to_string(model.join("chart.svg")).unwrap().contains("<svg"));
    let about: Value = serde_json::from_str(&std::fs::read_to_string(model.join("reward_model.json")).unwrap()).unwrap();
    let trained: Vec<&str> = about["trained_records"].as_array().unwrap().iter().map(|id| id.as_str().unwrap()).collect();
    assert_eq!(trained.len(), 60, "the records of the training pairs, not the held-out ones");

    // Stopped after 10 steps, then resumed: the same steps as the whole run, none done twice.
    let halves = work.path().join("halves");
    let output = juror(&train_args(backbone_arg, halves.to_str().unwrap(), &["--stop-after", "10"]), data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("--resume"), "{}", text(&output.stderr));
    assert!(halves.join("checkpoints/interrupted/state.json").is_file());
    assert_eq!(report(&halves)["outcome"], "interrupted");
    let again = juror(&train_args(backbone_arg, halves.to_str().unwrap(), &[]), data.path());
    assert!(!again.status.success() && text(&again.stderr).contains("--resume"), "{}", text(&again.stderr));
    let other = juror(&train_args(backbone_arg, halves.to_str().unwrap(), &["--resume", "--weight-decay", "0.1"]), data.path());
    assert!(!other.status.success() && text(&other.stderr).contains("other pairs or settings"), "{}", text(&other.stderr));
    let scheduled_otherwise = juror(&train_args(backbone_arg, halves.to_str().unwrap(), &["--resume", "--schedule", "constant"]), data.path());
    assert!(!scheduled_otherwise.status.success() && text(&scheduled_otherwise.stderr).contains("other pairs or settings"), "{}", text(&scheduled_otherwise.stderr));
    let pooled_otherwise = juror(&train_args(backbone_arg, halves.to_str().unwrap(), &["--resume", "--pooling", "mean"]), data.path());
    assert!(!pooled_otherwise.status.success() && text(&pooled_otherwise.stderr).contains("--pooling"), "{}", text(&pooled_otherwise.stderr));
    let output = juror(&train_args(backbone_arg, halves.to_str().unwrap(), &["--resume"]), data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("resuming after step 10"), "{}", text(&output.stderr));
    let resumed = report(&halves);
    let steps: Vec<u64> = resumed["steps"].as_array().unwrap().iter().map(|step| step["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, (1..=whole["steps"].as_array().unwrap().len() as u64).collect::<Vec<_>>());
    let figures = |report: &Value, step: usize| (report["steps"][step]["loss"].clone(), report["steps"][step]["learning_rate"].clone());
    for step in 0..steps.len() {
        assert_eq!(figures(&resumed, step), figures(&whole, step), "step {} is the whole run's: the schedule, the batches and the optimizer's moments go on where they stopped", step + 1);
    }
    assert_eq!(resumed["before"], whole["before"]);
    assert!(!halves.join("checkpoints/interrupted").exists(), "the epoch after the stop replaced it");

    // Scores for a file's rows, and suggestions on the 40 records not trained on.
    let rows = work.path().join("rows.jsonl");
    std::fs::write(&rows, "{\"prompt\": \"question q1\", \"response\": \"so good\", \"id\": 7}\n{\"prompt\": \"question q1\", \"chosen\": \"the good\", \"rejected\": \"the bad\"}\n").unwrap();
    let scores = work.path().join("scores.jsonl");
    let output = juror_plain(&["score", "--model", model.to_str().unwrap(), "--input", rows.to_str().unwrap(), "--output", scores.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<Value> = std::fs::read_to_string(&scores).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines[0]["id"], 7);
    assert!(lines[0]["score"].is_number());
    assert!(lines[1]["chosen_score"].as_f64().unwrap() > lines[1]["rejected_score"].as_f64().unwrap(), "{}", lines[1]);

    let output = juror(&["score", "--model", model.to_str().unwrap(), "--dataset", "guide", "--as-suggestions"], data.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("wrote 40 suggestions") && text(&output.stderr).contains("left out 60 records"), "{}", text(&output.stderr));
    let mut right = 0;
    for index in 0..100 {
        let prompt = format!("question q{index}");
        let suggestions = served.get(&format!("/api/v1/records/{}/suggestions", ids[&prompt])).1;
        let items = suggestions["items"].as_array().unwrap();
        if trained.contains(&ids[&prompt].as_str()) {
            assert!(items.is_empty(), "no suggestion on a record the model was trained on");
            continue;
        }
        let suggestion = &items[0];
        assert_eq!(suggestion["agent"], "juror-reward-model/model");
        assert_eq!(suggestion["type"], "model");
        assert_eq!(suggestion["score"].as_array().unwrap().len(), 2);
        let first = suggestion["value"][0]["value"].as_str().unwrap();
        let record = served.get(&format!("/api/v1/records/{}", ids[&prompt])).1;
        right += usize::from(record["fields"][first].as_str().unwrap().split(' ').any(|word| word == "good"));
    }
    assert!(right >= 36, "the model ranks the better response first on {right} of 40 records it never saw");

    // The metrics compare the labeler's answers with the model's suggestions (20 answered records).
    let output = juror(&["metrics", "--dataset", "guide"], data.path());
    let metrics = text(&output.stdout);
    assert!(metrics.contains("agreement with the reward model (juror-reward-model/model) on 20 records it was not trained on"), "{metrics}");
}

#[test]
fn bad_training_input_gets_a_clear_message() {
    let work = tempfile::tempdir().unwrap();
    let backbone = work.path().join("backbone");
    tiny_backbone(&backbone);
    let (backbone, out) = (backbone.to_str().unwrap(), work.path().join("out"));
    let run = |pairs: &str, backbone: &str| {
        let file = work.path().join("pairs.jsonl");
        std::fs::write(&file, pairs).unwrap();
        let output = juror_plain(&["train", "--pairs", file.to_str().unwrap(), "--backbone", backbone, "--output", out.to_str().unwrap(), "--held-out", "0"]);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        text(&output.stderr)
    };
    let missing = run("{\"prompt\": \"p\", \"chosen\": \"a\"}\n", backbone);
    assert!(missing.contains("line 1") && missing.contains("`rejected`"), "{missing}");
    assert!(run("\n", backbone).contains("no pairs"));
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(run("{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n", empty.to_str().unwrap()).contains("no config.json"));
    let small = work.path().join("small");
    std::fs::create_dir_all(&small).unwrap();
    std::fs::copy(Path::new(backbone).join("tokenizer.json"), small.join("tokenizer.json")).unwrap();
    std::fs::write(small.join("config.json"), serde_json::to_string(&BertConfig::tiny(10)).unwrap()).unwrap();
    let mismatch = run("{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n", small.to_str().unwrap());
    assert!(mismatch.contains("the tokenizer does not match the model"), "{mismatch}");
}
