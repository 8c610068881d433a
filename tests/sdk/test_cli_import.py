"""`juror import` of a Parquet file (written by pyarrow, as pandas and datasets write them) into the
data directory of a running server, read back through the argilla 2.8 SDK."""
import subprocess
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import argilla as rg


def test_parquet_rows_are_imported_while_the_server_runs(juror_server, client, tmp_path):
    if juror_server.data_dir is None:
        pytest.fail("this test imports into the server's data directory: run it without JUROR_TEST_URL")
    name = f"parquet-{uuid.uuid4().hex[:8]}"
    settings = rg.Settings(
        fields=[rg.TextField(name="prompt"), rg.TextField(name="response-1"), rg.TextField(name="response-2")],
        questions=[rg.RankingQuestion(name="preference", values=["response-1", "response-2"])],
        metadata=[rg.IntegerMetadataProperty(name="words")],
    )
    dataset = rg.Dataset(name=name, workspace="argilla", settings=settings, client=client).create()

    rows = 300
    table = pa.table({
        "external_id": [f"pq-{i}" for i in range(rows)],
        "prompt": [f"prompt number {i}" for i in range(rows)],
        "response-1": [f"first answer {i}" for i in range(rows)],
        "response-2": [f"second answer {i}" for i in range(rows)],
        "words": list(range(rows)),
    })
    for compression in ["snappy", "gzip"]:
        path = tmp_path / f"rows-{compression}.parquet"
        pq.write_table(table, path, compression=compression)
        result = subprocess.run(
            [str(juror_server.binary), "import", "--data-dir", str(juror_server.data_dir), "--dataset", name,
             "--batch-size", "128", str(path)],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert f"imported {rows} records" in result.stdout

    records = list(dataset.records)
    assert len(records) == rows, "the second import upserted by external_id instead of duplicating"
    by_id = {record.id: record for record in records}
    assert by_id["pq-7"].fields["prompt"] == "prompt number 7"
    assert by_id["pq-7"].metadata["words"] == 7
