"""`juror export` of rankings submitted over HTTP, read back the way training code reads them:
`datasets.load_dataset("json" | "parquet")` and `pyarrow.parquet`.

A dataset of 4 records is created and logged through the argilla 2.8 SDK, 3 labelers are added
with `juror user add`, and each submits a ranking of every record over the HTTP API. The verdicts:
`p0` 2-1 for response-1, `p1` 3-0 for response-2, `p2` 3-0 for response-1, `p3` 2-1 for response-2.
"""
import re
import subprocess
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

import argilla as rg
from datasets import load_dataset

LABELERS = ["natalia", "amelie", "dani"]
# prompt -> the response each labeler ranks first, in LABELERS order.
VERDICTS = {
    "p0": ["response-1", "response-1", "response-2"],
    "p1": ["response-2", "response-2", "response-2"],
    "p2": ["response-1", "response-1", "response-1"],
    "p3": ["response-2", "response-1", "response-2"],
}


@pytest.fixture(scope="module")
def answered(juror_server, client):
    """The name of a dataset whose 4 records were each ranked by 3 labelers."""
    if juror_server.data_dir is None:
        pytest.fail("this test runs `juror user add` and `juror export` on the server's data directory: run it without JUROR_TEST_URL")
    name = f"export-{uuid.uuid4().hex[:8]}"
    settings = rg.Settings(
        fields=[rg.TextField(name="prompt"), rg.TextField(name="response-1"), rg.TextField(name="response-2")],
        questions=[rg.RankingQuestion(name="preference", values=["response-1", "response-2"])],
    )
    dataset = rg.Dataset(name=name, workspace="argilla", settings=settings, client=client).create()
    dataset.records.log([
        {"id": f"rec-{i}", "prompt": f"p{i}", "response-1": f"short {i}", "response-2": f"a longer answer {i}"}
        for i in range(len(VERDICTS))
    ])
    ids = {record.fields["prompt"]: str(record._server_id) for record in dataset.records}
    assert sorted(ids) == sorted(VERDICTS)

    for index, username in enumerate(LABELERS):
        username = f"{username}-{name}"
        added = _juror(juror_server, "user", "add", "--username", username, "--password", "correct-horse", "--workspace", "argilla")
        key = re.search(r"API key: (\S+)", added.stdout).group(1)
        for prompt, bests in VERDICTS.items():
            best = bests[index]
            worst = "response-2" if best == "response-1" else "response-1"
            ranking = {"status": "submitted", "values": {"preference": {"value": [{"value": best, "rank": 1}, {"value": worst, "rank": 2}]}}}
            response = requests.post(f"{juror_server.url}/api/v1/records/{ids[prompt]}/responses",
                                     headers={"X-Argilla-Api-Key": key}, json=ranking, timeout=10)
            assert response.status_code == 201, response.text
    return name


def _juror(server, *args):
    result = subprocess.run([str(server.binary), *args, "--data-dir", str(server.data_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def _export(server, dataset, path, *args):
    return _juror(server, "export", "--dataset", dataset, "--workspace", "argilla", "--output", str(path), *args)


def _dtypes(ds):
    """The dtype of every flat column (nested ones are dicts or lists of features)."""
    return {name: feature.dtype for name, feature in ds.features.items() if hasattr(feature, "dtype")}


TRL_DTYPES = {"prompt": "string", "chosen": "string", "rejected": "string",
              "p_chosen": "float64", "margin": "float64", "judgments": "int64", "agreement": "float64", "adjudicated": "bool"}


def _check_trl(ds):
    assert ds.num_rows == 4
    assert _dtypes(ds) == TRL_DTYPES
    rows = {row["prompt"]: row for row in ds}
    p1 = rows["p1"]
    assert (p1["chosen"], p1["rejected"], p1["judgments"], p1["agreement"]) == ("a longer answer 1", "short 1", 3, 1.0)
    assert p1["p_chosen"] > 0.5
    p0 = rows["p0"]
    assert (p0["chosen"], p0["rejected"]) == ("short 0", "a longer answer 0")
    assert p0["p_chosen"] == pytest.approx(2 / 3)
    assert p0["agreement"] == pytest.approx(2 / 3)
    assert (rows["p3"]["chosen"], rows["p3"]["rejected"]) == ("a longer answer 3", "short 3")


def test_trl_jsonl_and_parquet_load_with_the_same_rows(juror_server, answered, tmp_path):
    cache = str(tmp_path / "hf-cache")
    jsonl = tmp_path / "pairs.jsonl"
    _export(juror_server, answered, jsonl, "--format", "trl", "--with-confidence")
    from_json = load_dataset("json", data_files=str(jsonl), split="train", cache_dir=cache)
    _check_trl(from_json)

    parquet = tmp_path / "pairs.parquet"
    result = _export(juror_server, answered, parquet, "--format", "trl", "--with-confidence")
    assert "wrote 4 trl Parquet rows" in result.stderr
    from_parquet = load_dataset("parquet", data_files=str(parquet), split="train", cache_dir=cache)
    _check_trl(from_parquet)
    assert sorted(map(str, from_json)) == sorted(map(str, from_parquet))

    table = pq.read_table(parquet)
    assert table.schema.names == list(TRL_DTYPES)
    assert [table.schema.field(name).type for name in TRL_DTYPES] == [pa.string()] * 3 + [pa.float64(), pa.float64(), pa.int64(), pa.float64(), pa.bool_()]
    assert table.num_rows == 4
    metadata = pq.ParquetFile(parquet).metadata
    assert metadata.row_group(0).column(0).compression == "SNAPPY"


def test_the_api_downloads_the_same_parquet_rows_as_the_cli(juror_server, answered, client, tmp_path):
    dataset = client.datasets(answered)
    url = f"{juror_server.url}/api/v1/datasets/{dataset.id}/preferences/export"
    headers = {"X-Argilla-Api-Key": "argilla.apikey"}
    for pair_format in ("trl", "trl-conversational"):
        response = requests.get(url, params={"format": pair_format, "file_format": "parquet", "with_confidence": "true"}, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/vnd.apache.parquet"
        downloaded = tmp_path / f"api-{pair_format}.parquet"
        downloaded.write_bytes(response.content)
        exported = tmp_path / f"cli-{pair_format}.parquet"
        _export(juror_server, answered, exported, "--format", pair_format, "--with-confidence")
        api_table, cli_table = pq.read_table(downloaded), pq.read_table(exported)
        assert api_table.schema == cli_table.schema
        assert sorted(map(str, api_table.to_pylist())) == sorted(map(str, cli_table.to_pylist()))
        assert api_table.num_rows == 4
    refused = requests.get(url, params={"format": "judgments", "file_format": "parquet"}, headers=headers, timeout=30)
    assert refused.status_code == 422, refused.text
    wrong = requests.get(url, params={"format": "trl", "file_format": "xlsx"}, headers=headers, timeout=30)
    assert wrong.status_code == 422 and "file_format" in wrong.text


def test_trl_parquet_without_confidence_has_three_string_columns(juror_server, answered, tmp_path):
    path = tmp_path / "plain.parquet"
    _export(juror_server, answered, path, "--format", "trl")
    table = pq.read_table(path)
    assert table.schema.names == ["prompt", "chosen", "rejected"]
    assert {"prompt": "p2", "chosen": "short 2", "rejected": "a longer answer 2"} in table.to_pylist()


def test_openai_dpo_jsonl_loads_as_nested_messages(juror_server, answered, tmp_path):
    path = tmp_path / "dpo.jsonl"
    _export(juror_server, answered, path, "--format", "openai-dpo")
    ds = load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert ds.num_rows == 4
    assert sorted(ds.column_names) == ["input", "non_preferred_output", "preferred_output"]
    row = next(row for row in ds if row["input"]["messages"][0]["content"] == "p1")
    assert row == {
        "input": {"messages": [{"role": "user", "content": "p1"}]},
        "preferred_output": [{"role": "assistant", "content": "a longer answer 1"}],
        "non_preferred_output": [{"role": "assistant", "content": "short 1"}],
    }


MESSAGES = pa.list_(pa.field("element", pa.struct([pa.field("role", pa.string(), nullable=False), pa.field("content", pa.string(), nullable=False)]), nullable=False))


def _plain(value):
    """`value` with datasets' feature wrappers turned into plain dicts and lists."""
    return value if not isinstance(value, (dict, list)) else (
        {key: _plain(item) for key, item in value.items()} if isinstance(value, dict) else [_plain(item) for item in value])


def test_trl_conversational_parquet_has_message_lists(juror_server, answered, tmp_path):
    path = tmp_path / "conversational.parquet"
    result = _export(juror_server, answered, path, "--format", "trl-conversational", "--with-confidence")
    assert "wrote 4 trl-conversational Parquet rows" in result.stderr
    table = pq.read_table(path)
    assert table.schema.names == ["prompt", "chosen", "rejected", "p_chosen", "margin", "judgments", "agreement", "adjudicated"]
    for name in ["prompt", "chosen", "rejected"]:
        assert table.schema.field(name).type == MESSAGES, table.schema
    assert [table.schema.field(name).type for name in ["p_chosen", "margin", "judgments", "agreement", "adjudicated"]] == [pa.float64(), pa.float64(), pa.int64(), pa.float64(), pa.bool_()]

    ds = load_dataset("parquet", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert ds.num_rows == 4
    row = next(row for row in ds if row["prompt"][0]["content"] == "p1")
    assert _plain({key: row[key] for key in ["prompt", "chosen", "rejected"]}) == {
        "prompt": [{"role": "user", "content": "p1"}],
        "chosen": [{"role": "assistant", "content": "a longer answer 1"}],
        "rejected": [{"role": "assistant", "content": "short 1"}],
    }
    assert (row["judgments"], row["agreement"]) == (3, 1.0)
    # The same rows as the JSON lines export of the same format.
    jsonl = tmp_path / "conversational.jsonl"
    _export(juror_server, answered, jsonl, "--format", "trl-conversational", "--with-confidence")
    from_json = load_dataset("json", data_files=str(jsonl), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert sorted(map(str, map(_plain, from_json))) == sorted(map(str, map(_plain, ds)))


def test_openai_dpo_parquet_nests_input_messages_in_a_struct(juror_server, answered, tmp_path):
    path = tmp_path / "dpo.parquet"
    result = _export(juror_server, answered, path, "--format", "openai-dpo")
    assert "wrote 4 openai-dpo Parquet rows" in result.stderr
    table = pq.read_table(path)
    assert table.schema.names == ["input", "preferred_output", "non_preferred_output"]
    assert table.schema.field("input").type == pa.struct([pa.field("messages", MESSAGES, nullable=False)])
    assert table.schema.field("preferred_output").type == MESSAGES
    assert table.schema.field("non_preferred_output").type == MESSAGES
    assert table.num_rows == 4

    ds = load_dataset("parquet", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))
    row = next(row for row in ds if row["input"]["messages"][0]["content"] == "p1")
    assert _plain(row) == {
        "input": {"messages": [{"role": "user", "content": "p1"}]},
        "preferred_output": [{"role": "assistant", "content": "a longer answer 1"}],
        "non_preferred_output": [{"role": "assistant", "content": "short 1"}],
    }


def test_judgments_refuse_parquet(juror_server, answered, tmp_path):
    path = tmp_path / "judgments.parquet"
    result = subprocess.run([str(juror_server.binary), "export", "--data-dir", str(juror_server.data_dir), "--dataset", answered,
                             "--format", "judgments", "--output", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "cannot be written as Parquet" in result.stderr
    assert not path.exists()


def test_judgments_jsonl_has_one_row_per_response(juror_server, answered, tmp_path):
    path = tmp_path / "judgments.jsonl"
    _export(juror_server, answered, path, "--format", "judgments")
    ds = load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert ds.num_rows == 12
    assert ds.column_names == ["record_id", "external_id", "user", "status", "values", "shown_order", "time_on_task_ms", "inserted_at"]
    # Answers given through the API have no shown order or time on task (the web UI records them).
    assert set(ds["shown_order"]) == {None} and set(ds["time_on_task_ms"]) == {None}
    dtypes = _dtypes(ds)
    for name in ["record_id", "external_id", "user", "status", "inserted_at"]:
        assert dtypes[name] == "string", dtypes
    assert set(ds["status"]) == {"submitted"}
    assert sorted(set(ds["external_id"])) == ["rec-0", "rec-1", "rec-2", "rec-3"]
    row = next(row for row in ds if row["user"] == f"dani-{answered}" and row["external_id"] == "rec-0")
    assert row["values"]["preference"]["value"] == [{"value": "response-2", "rank": 1}, {"value": "response-1", "rank": 2}]
