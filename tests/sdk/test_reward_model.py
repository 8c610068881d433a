"""Reward models through real clients.

- Rankings submitted through the argilla 2.x SDK's own call train a reward model with
  `juror train --dataset` (a tiny encoder made from scratch, so the test takes seconds).
- `juror score --as-suggestions` writes the model's ranking of each record it was not trained
  on, and the argilla 2.x SDK reads those suggestions back: agent, ranking and scores.
- `juror generate --strategy best-of-k --reward-model` keeps, out of a real llama-server's
  samples, the two candidates the model scores highest and lowest, with their scores in the
  provenance; `juror score` gives the same scores for the kept texts.
"""
import json
import random
import subprocess
import uuid

import argilla as rg
from argilla._models import UserResponseModel
import httpx
import pytest

from test_generate import MODEL_ALIAS, llama, write_prompts  # noqa: F401 (fixture)
from test_web_ui import OWNER_API_KEY, create_ranking_dataset, ok

FILLER = ["the", "answer", "is", "maybe", "so", "then", "because", "it", "was", "here", "now", "and"]


def tiny_backbone(path):
    """A BERT config and a whole-word tokenizer: `juror train --from-scratch` starts from them."""
    path.mkdir()
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad", "question", *FILLER, *(f"q{i}" for i in range(100))]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}, "decoder": None,
        "model": {"type": "WordLevel", "vocab": {word: index for index, word in enumerate(words)}, "unk_token": "[UNK]"},
    }
    (path / "tokenizer.json").write_text(json.dumps(tokenizer))
    config = {"vocab_size": len(words), "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
              "max_position_embeddings": 64, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
    (path / "config.json").write_text(json.dumps(config))
    return path


def sentence(rng, marker):
    words = [rng.choice(FILLER) for _ in range(rng.randint(4, 7))]
    words.insert(rng.randint(0, len(words)), marker)
    return " ".join(words)


def juror(juror_server, *args, timeout=600):
    command = [str(juror_server.binary), *args[:1], "--data-dir", str(juror_server.data_dir), *args[1:]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def trained(juror_server, argilla_url, tmp_path_factory):
    """A dataset of 80 records, 60 ranked through the SDK, and a model trained on 45 of them."""
    api = httpx.Client(base_url=argilla_url, headers={"X-Argilla-Api-Key": OWNER_API_KEY}, timeout=30)
    rng = random.Random(5)
    name = f"reward-{uuid.uuid4().hex[:6]}"
    items, better = [], {}
    for index in range(80):
        good, bad = sentence(rng, "good"), sentence(rng, "bad")
        first_is_good = rng.random() < 0.5
        prompt = f"question q{index}"
        better[prompt] = "response-1" if first_is_good else "response-2"
        items.append({"external_id": f"{name}-{index}", "fields": {"prompt": prompt, "response-1": good if first_is_good else bad, "response-2": bad if first_is_good else good}})
    dataset = create_ranking_dataset(api, name, 2, [], items=items)
    records = ok(api.get(f"/api/v1/datasets/{dataset}/records", params={"limit": 1000}))["items"]
    ids = {record["fields"]["prompt"]: record["id"] for record in records}
    owner = rg.Argilla(api_url=argilla_url, api_key=OWNER_API_KEY)
    owner_id = ok(api.get("/api/v1/me"))["id"]
    for index in range(60):
        prompt = f"question q{index}"
        best = better[prompt]
        worst = "response-2" if best == "response-1" else "response-1"
        response = UserResponseModel(values={"preference": {"value": [{"value": best, "rank": 1}, {"value": worst, "rank": 2}]}}, status="submitted", user_id=owner_id)
        owner.api.records.create_record_response(record_id=ids[prompt], user_response=response)

    work = tmp_path_factory.mktemp("reward")
    backbone = tiny_backbone(work / "backbone")
    model = work / "tiny-rm"
    result = juror(juror_server, "train", "--dataset", name, "--backbone", str(backbone), "--from-scratch", "--output", str(model),
                   "--epochs", "12", "--batch-size", "8", "--learning-rate", "2e-3", "--head-learning-rate", "5e-3", "--held-out", "15",
                   "--max-length", "32", "--seed", "1")
    assert "wrote the reward model" in result.stderr, result.stderr
    yield {"api": api, "name": name, "dataset": dataset, "ids": ids, "better": better, "model": model, "work": work}
    api.close()


def test_a_model_trained_on_sdk_rankings_writes_suggestions_the_sdk_reads(juror_server, client, trained):
    report = json.loads((trained["model"] / "report.json").read_text())
    assert report["data"]["train_pairs"] == 45 and report["data"]["held_out_pairs"] == 15, report["data"]
    assert report["epochs"][-1]["held_out"]["accuracy"] > 0.9, report["epochs"][-1]
    trained_records = set(json.loads((trained["model"] / "reward_model.json").read_text())["trained_records"])
    assert len(trained_records) == 45

    result = juror(juror_server, "score", "--model", str(trained["model"]), "--dataset", trained["name"], "--as-suggestions")
    assert "wrote 35 suggestions as juror-reward-model/tiny-rm" in result.stderr, result.stderr

    dataset = client.datasets(trained["name"])
    seen, right = 0, 0
    for record in dataset.records(with_suggestions=True):
        suggestions = {suggestion.question_name: suggestion for suggestion in record.suggestions}
        if str(record._server_id) in trained_records:
            assert not suggestions, record.id
            continue
        suggestion = suggestions["preference"]
        seen += 1
        assert suggestion.agent == "juror-reward-model/tiny-rm" and suggestion.type == "model"
        ranked = [entry["value"] if isinstance(entry, dict) else entry for entry in suggestion.value]
        assert sorted(ranked) == ["response-1", "response-2"], suggestion.value
        assert len(suggestion.score) == 2 and all(0 <= score <= 1 for score in suggestion.score), suggestion.score
        right += ranked[0] == trained["better"][record.fields["prompt"]]
    assert seen == 35
    assert right >= 31, f"the model ranks the better response first on {right} of 35 records it never saw"

    # The quality report compares the labeler's answers on the 15 held-out answered records.
    metrics = ok(trained["api"].get(f"/api/v1/datasets/{trained['dataset']}/preferences/metrics"))
    model = metrics["reward_model"]
    assert model["agents"] == ["juror-reward-model/tiny-rm"] and model["records"] == 15, model
    assert model["agreement"] >= 0.8 and model["labelers"][0]["compared"] == 15, model


def test_best_of_k_keeps_the_pair_the_reward_model_scores_apart(juror_server, client, trained, llama, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    write_prompts(prompts, ["Say something good.", "Say something bad."])
    name = f"bok-{uuid.uuid4().hex[:6]}"
    command = [str(juror_server.binary), "generate", "--data-dir", str(juror_server.data_dir), "--endpoint", llama.url, "--model", MODEL_ALIAS,
               "--max-tokens", "24", "--temperature", "1.0", "--seed", "3", "--prompts", str(prompts), "--dataset", name,
               "--strategy", "best-of-k", "--k", "4", "--reward-model", str(trained["model"])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = []
    for record in client.datasets(name).records:
        responses = record.metadata["generation"]["responses"]
        for field in ("response-1", "response-2"):
            assert isinstance(responses[field]["reward_score"], float), responses[field]
            rows.append({"prompt": record.fields["prompt"], "response": record.fields[field], "kept": responses[field]["reward_score"]})
    assert len(rows) == 4
    scored_in = tmp_path / "kept.jsonl"
    scored_in.write_text("".join(json.dumps(row) + "\n" for row in rows))
    scored_out = tmp_path / "scores.jsonl"
    subprocess.run([str(juror_server.binary), "score", "--model", str(trained["model"]), "--input", str(scored_in), "--output", str(scored_out)], check=True, timeout=120)
    for line in scored_out.read_text().splitlines():
        row = json.loads(line)
        assert abs(row["score"] - row["kept"]) < 1e-4, row
