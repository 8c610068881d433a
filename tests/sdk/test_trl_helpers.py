"""TRL's own dataset helpers (`trl.data_utils`, the functions its DPO and reward trainers map over a
dataset before training) run on `juror export --format trl | trl-implicit | trl-conversational`.

Runs in the TRL environment (tests/trl/requirements.txt), not in the SDK one: TRL's data helpers
need `datasets` and `transformers` but not PyTorch, so that environment has no torch.

Two datasets are made with `juror dataset create` and `juror import`, three labelers are added
with `juror user add`, and each submits a ranking of every record over the HTTP API:

- `text`: a text prompt and two responses. The verdicts (response-1 / response-2 / tie):
  `t0` 2-1 for response-1, `t1` 2-0 for response-2 with one tie, `t2` 3-0 for response-2 (both
  responses open with "The sky is"), `t3` two ties and one vote for response-1.
- `chat`: a chat prompt (a list of messages, a system turn first) and two responses.

The chat template is Qwen2.5's, as TRL ships it in `trl/chat_templates/qwen2_5.jinja`; it is
rendered by a `transformers` fast tokenizer built here (no model files can be downloaded).
"""
import importlib.resources
import json
import re
import subprocess
import sys
import uuid

import pytest
import requests
from datasets import load_dataset
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from transformers import PreTrainedTokenizerFast

import trl
from trl import (
    apply_chat_template,
    extract_prompt,
    is_conversational,
    maybe_apply_chat_template,
    maybe_convert_to_chatml,
    maybe_extract_prompt,
    maybe_unpair_preference_dataset,
    unpair_preference_dataset,
)

OWNER_API_KEY = "argilla.apikey"
LABELERS = ["natalia", "amelie", "dani"]
R1, R2, TIE = "response-1", "response-2", "tie"

TEXT_RECORDS = {
    "t0": ("What is 2 + 2?", "4", "Five."),
    "t1": ("Capital of France?", "Lyon.", "Paris."),
    "t2": ("Describe the sky.", "The sky is green.", "The sky is blue."),
    "t3": ("Is a tomato a fruit?", "Yes, botanically.", "No."),
}
# external id -> each labeler's verdict, in LABELERS order.
TEXT_VERDICTS = {
    "t0": [R1, R1, R2],
    "t1": [R2, R2, TIE],
    "t2": [R2, R2, R2],
    "t3": [TIE, TIE, R1],
}
# prompt -> (chosen, rejected) after majority resolution; t3 resolves to a tie.
TEXT_PAIRS = {
    "What is 2 + 2?": ("4", "Five."),
    "Capital of France?": ("Paris.", "Lyon."),
    "Describe the sky.": ("The sky is blue.", "The sky is green."),
}

CHAT_RECORDS = {
    "c0": ([{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Name a prime number."}],
           "Seven.", "Nine."),
    "c1": ([{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello. How can I help?"},
            {"role": "user", "content": "Recommend a book."}],
           "Dune, by Frank Herbert.", "I cannot recommend books."),
}
CHAT_VERDICTS = {"c0": [R1, R1, R1], "c1": [R1, R2, R1]}

QWEN_DEFAULT_SYSTEM = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"


def _juror(server, *args):
    result = subprocess.run([str(server.binary), *args, "--data-dir", str(server.data_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def _make_dataset(server, tmp, name, prompt_type, records):
    settings = {
        "fields": [{"name": "prompt", "settings": {"type": prompt_type}}, {"name": R1}, {"name": R2}],
        "questions": [{"name": "preference", "settings": {"type": "ranking", "options": [{"value": R1}, {"value": R2}]}}],
    }
    settings_path = tmp / f"{name}-settings.json"
    settings_path.write_text(json.dumps(settings))
    _juror(server, "dataset", "create", "--name", name, "--workspace", "argilla", "--settings", str(settings_path))
    rows_path = tmp / f"{name}.jsonl"
    rows_path.write_text("".join(
        json.dumps({"external_id": key, "prompt": prompt, R1: first, R2: second}) + "\n"
        for key, (prompt, first, second) in records.items()))
    imported = _juror(server, "import", "--dataset", name, "--workspace", "argilla", str(rows_path))
    assert f"imported {len(records)} records" in imported.stdout


def _record_ids(server, name):
    headers = {"X-Argilla-Api-Key": OWNER_API_KEY}
    datasets = requests.get(f"{server.url}/api/v1/me/datasets", headers=headers, timeout=10).json()["items"]
    dataset_id = next(item["id"] for item in datasets if item["name"] == name)
    records = requests.get(f"{server.url}/api/v1/datasets/{dataset_id}/records", headers=headers, timeout=10).json()["items"]
    return {record["external_id"]: record["id"] for record in records}


def _ranking(verdict):
    if verdict == TIE:
        ranks = [(R1, 1), (R2, 1)]
    else:
        ranks = [(verdict, 1), (R2 if verdict == R1 else R1, 2)]
    return {"status": "submitted", "values": {"preference": {"value": [{"value": v, "rank": r} for v, r in ranks]}}}


@pytest.fixture(scope="module")
def ranked(juror_server, tmp_path_factory):
    """The names of the `text` and `chat` datasets, every record ranked by every labeler."""
    if juror_server.data_dir is None:
        pytest.fail("this test runs `juror dataset create`, `juror import` and `juror export` on the server's data directory: run it without JUROR_TEST_URL")
    tmp = tmp_path_factory.mktemp("trl-datasets")
    suffix = uuid.uuid4().hex[:8]
    names = {"text": f"trl-text-{suffix}", "chat": f"trl-chat-{suffix}"}
    _make_dataset(juror_server, tmp, names["text"], "text", TEXT_RECORDS)
    _make_dataset(juror_server, tmp, names["chat"], "chat", CHAT_RECORDS)
    ids = {kind: _record_ids(juror_server, name) for kind, name in names.items()}
    verdicts = {"text": TEXT_VERDICTS, "chat": CHAT_VERDICTS}

    for index, labeler in enumerate(LABELERS):
        added = _juror(juror_server, "user", "add", "--username", f"{labeler}-{suffix}", "--password", "correct-horse",
                       "--workspace", "argilla")
        key = re.search(r"API key: (\S+)", added.stdout).group(1)
        for kind in names:
            for external_id, record_id in ids[kind].items():
                response = requests.post(f"{juror_server.url}/api/v1/records/{record_id}/responses",
                                         headers={"X-Argilla-Api-Key": key},
                                         json=_ranking(verdicts[kind][external_id][index]), timeout=10)
                assert response.status_code == 201, response.text
    return names


@pytest.fixture(scope="module")
def exported(juror_server, ranked, tmp_path_factory):
    """Loads `juror export` output with `datasets.load_dataset`: load(kind, format, ext, *flags)."""
    tmp = tmp_path_factory.mktemp("trl-exports")
    cache = str(tmp / "hf-cache")

    def load(kind, format, ext="jsonl", *flags):
        path = tmp / f"{kind}-{format}-{'-'.join(flags) or 'plain'}.{ext}"
        _juror(juror_server, "export", "--dataset", ranked[kind], "--workspace", "argilla", "--format", format,
               "--output", str(path), *flags)
        return load_dataset("json" if ext == "jsonl" else "parquet", data_files=str(path), split="train", cache_dir=cache)

    return load


@pytest.fixture(scope="module")
def qwen_tokenizer():
    """A transformers fast tokenizer carrying Qwen2.5's chat template, as shipped inside TRL."""
    template = (importlib.resources.files("trl") / "chat_templates" / "qwen2_5.jinja").read_text()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    backend = Tokenizer(WordLevel({token: i for i, token in enumerate(["<unk>", *special])}, unk_token="<unk>"))
    backend.pre_tokenizer = Whitespace()
    backend.add_special_tokens(special)
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", chat_template=template)


def _pairs(ds):
    return {row["prompt"]: (row["chosen"], row["rejected"]) for row in ds}


def test_trl_is_used_without_pytorch():
    assert trl.__version__ == "1.16.0"
    assert "torch" not in sys.modules, "TRL's data helpers ran with PyTorch imported"


@pytest.mark.parametrize("ext", ["jsonl", "parquet"])
def test_explicit_export_is_standard_preference_data(exported, ext):
    ds = exported("text", "trl", ext)
    assert ds.column_names == ["prompt", "chosen", "rejected"]
    assert _pairs(ds) == TEXT_PAIRS
    assert not any(is_conversational(row) for row in ds)
    # Both helpers leave an explicit standard pair as it is, so DPO trains on exactly these strings.
    assert ds.map(maybe_extract_prompt).to_list() == ds.to_list()
    assert ds.map(maybe_convert_to_chatml).to_list() == ds.to_list()


def test_ties_are_left_out_unless_kept(exported):
    kept = exported("text", "trl", "jsonl", "--keep-ties")
    assert kept.num_rows == len(TEXT_PAIRS) + 1
    tied = [row for row in kept if row["prompt"] == "Is a tomato a fruit?"]
    assert len(tied) == 1 and {tied[0]["chosen"], tied[0]["rejected"]} == {"Yes, botanically.", "No."}


@pytest.mark.parametrize("ext", ["jsonl", "parquet"])
def test_implicit_prompt_is_recovered_by_trl(exported, ext):
    implicit = exported("text", "trl-implicit", ext)
    assert implicit.column_names == ["chosen", "rejected"]
    assert not any(is_conversational(row) for row in implicit)
    extracted = implicit.map(maybe_extract_prompt)
    assert sorted(extracted.column_names) == ["chosen", "prompt", "rejected"]
    rows = {row["prompt"]: row for row in extracted}
    # TRL takes the longest common character prefix of chosen and rejected as the prompt. Juror
    # joins prompt and response with a blank line, so the prompt comes back with it, and
    # prompt + chosen is the explicit export's prompt, that blank line, and its chosen response.
    for prompt, (chosen, rejected) in TEXT_PAIRS.items():
        if prompt == "Describe the sky.":
            continue
        row = rows[prompt + "\n\n"]
        assert (row["chosen"], row["rejected"]) == (chosen, rejected)
    # Responses that open alike ("The sky is ...") lend that opening to the extracted prompt; the
    # text TRL trains on (prompt + completion) is still exactly the exported one.
    sky = rows["Describe the sky.\n\nThe sky is"]
    assert (sky["chosen"], sky["rejected"]) == (" blue.", " green.")
    assert len(rows) == len(TEXT_PAIRS)
    for row, source in zip(extracted, implicit):
        assert row["prompt"] + row["chosen"] == source["chosen"]
        assert row["prompt"] + row["rejected"] == source["rejected"]


def test_implicit_parquet_and_jsonl_give_trl_the_same_rows(exported):
    from_json = exported("text", "trl-implicit", "jsonl", "--with-confidence").map(maybe_extract_prompt)
    from_parquet = exported("text", "trl-implicit", "parquet", "--with-confidence").map(maybe_extract_prompt)
    assert from_json.column_names == from_parquet.column_names
    assert sorted(map(str, from_json)) == sorted(map(str, from_parquet))
    assert {"p_chosen", "margin", "judgments", "agreement"} <= set(from_parquet.column_names)


@pytest.mark.parametrize("format,ext", [("trl", "jsonl"), ("trl", "parquet"), ("trl-implicit", "jsonl"), ("trl-conversational", "jsonl")])
def test_unpairing_gives_one_labelled_row_per_side(exported, format, ext):
    pairs = exported("text", format, ext, "--with-confidence")
    unpaired = maybe_unpair_preference_dataset(pairs)
    assert unpaired.num_rows == 2 * pairs.num_rows
    expected = {"completion", "label", "p_chosen", "margin", "judgments", "agreement", "adjudicated"} | ({"prompt"} if "prompt" in pairs.column_names else set())
    assert set(unpaired.column_names) == expected
    # Each pair gives a desirable row (its chosen side) and an undesirable one (its rejected side),
    # both keeping the pair's prompt and confidence columns.
    wanted = sorted(
        [(json.dumps(row.get("prompt")), json.dumps(row["chosen"]), True, row["judgments"]) for row in pairs]
        + [(json.dumps(row.get("prompt")), json.dumps(row["rejected"]), False, row["judgments"]) for row in pairs])
    got = sorted((json.dumps(row.get("prompt")), json.dumps(row["completion"]), row["label"], row["judgments"]) for row in unpaired)
    assert got == wanted
    assert sum(unpaired["label"]) == pairs.num_rows
    # Unpaired data is left as it is by the `maybe_` helper, and unpairing it again is an error.
    assert maybe_unpair_preference_dataset(unpaired) is unpaired
    with pytest.raises(KeyError, match="chosen"):
        unpair_preference_dataset(unpaired)


def test_conversational_export_renders_through_a_chat_template(exported, qwen_tokenizer):
    ds = exported("text", "trl-conversational")
    assert all(is_conversational(row) for row in ds)
    assert ds.map(maybe_convert_to_chatml).to_list() == ds.to_list(), "already role/content messages"
    # Explicit prompt: TRL does not try to extract one.
    assert ds.map(maybe_extract_prompt).to_list() == ds.to_list()
    rendered = ds.map(maybe_apply_chat_template, fn_kwargs={"processing_class": qwen_tokenizer})
    assert sorted(rendered.column_names) == ["chosen", "prompt", "rejected"]
    assert not any(is_conversational(row) for row in rendered)
    rows = {row["prompt"]: row for row in rendered}
    for prompt, (chosen, rejected) in TEXT_PAIRS.items():
        text = f"{QWEN_DEFAULT_SYSTEM}<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
        assert rows[text]["chosen"] == f"{chosen}<|im_end|>\n"
        assert rows[text]["rejected"] == f"{rejected}<|im_end|>\n"
    assert len(rows) == len(TEXT_PAIRS)


def test_chat_prompts_keep_their_turns_through_the_chat_template(exported, qwen_tokenizer):
    ds = exported("chat", "trl-conversational")
    assert ds.num_rows == 2
    assert all(is_conversational(row) for row in ds)
    by_last_turn = {row["prompt"][-1]["content"]: row for row in ds}
    c1 = by_last_turn["Recommend a book."]
    assert [message["role"] for message in c1["prompt"]] == ["user", "assistant", "user"]
    assert c1["chosen"] == [{"role": "assistant", "content": "Dune, by Frank Herbert."}]

    rendered = {row["chosen"]: row for row in (apply_chat_template(row, qwen_tokenizer) for row in ds)}
    c0 = rendered["Seven.<|im_end|>\n"]
    # The record's own system turn replaces the template's default one.
    assert c0["prompt"] == ("<|im_start|>system\nAnswer in one word.<|im_end|>\n"
                            "<|im_start|>user\nName a prime number.<|im_end|>\n<|im_start|>assistant\n")
    assert c0["rejected"] == "Nine.<|im_end|>\n"
    c1 = rendered["Dune, by Frank Herbert.<|im_end|>\n"]
    assert c1["prompt"] == (QWEN_DEFAULT_SYSTEM + "<|im_start|>user\nHi!<|im_end|>\n"
                            "<|im_start|>assistant\nHello. How can I help?<|im_end|>\n"
                            "<|im_start|>user\nRecommend a book.<|im_end|>\n<|im_start|>assistant\n")
    assert c1["rejected"] == "I cannot recommend books.<|im_end|>\n"

    # The flat export of the same chat prompt is plain text, and TRL treats it as such.
    flat = exported("chat", "trl")
    assert not any(is_conversational(row) for row in flat)
    assert maybe_apply_chat_template(flat[0], qwen_tokenizer) == flat[0]


def test_conversational_pairs_with_the_prompt_inside_are_split_back_by_trl(exported):
    # A conversation-with-implicit-prompt dataset (prompt turns repeated in both sides) is what
    # TRL's extract_prompt takes apart; built from Juror's export, it must give that export back.
    ds = exported("chat", "trl-conversational")
    for row in ds:
        joined = {"chosen": row["prompt"] + row["chosen"], "rejected": row["prompt"] + row["rejected"]}
        assert is_conversational(joined)
        assert maybe_extract_prompt(joined) == extract_prompt(joined) == {
            "prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"]}
