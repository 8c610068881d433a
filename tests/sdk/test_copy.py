"""`juror copy` of a SQLite installation into PostgreSQL: both SDKs read the same records,
responses, suggestions and vectors from a server on the copy as from one on the original.
Needs the throwaway PostgreSQL server that scripts/test.sh starts (JUROR_TEST_POSTGRES_DIR)."""
import os
import subprocess
import uuid

import pytest
import requests

import argilla as rg
import argilla_v1
from conftest import OWNER_API_KEY, REPO_ROOT, running_juror

OWNER = {"X-Argilla-Api-Key": OWNER_API_KEY}


def fresh_database() -> str:
    directory = os.environ.get("JUROR_TEST_POSTGRES_DIR")
    if not directory:
        pytest.fail("JUROR_TEST_POSTGRES_DIR must name the throwaway PostgreSQL server's directory (scripts/test.sh starts one)")
    name = f"juror_copy_{uuid.uuid4().hex[:12]}"
    created = subprocess.run([str(REPO_ROOT / "scripts" / "postgres.sh"), "createdb", directory, name], capture_output=True, text=True, check=True)
    return created.stdout.strip()


def read_v2(url: str, name: str) -> dict:
    client = rg.Argilla(api_url=url, api_key=OWNER_API_KEY)
    dataset = client.datasets(name=name, workspace="argilla")
    return {
        record.id: (
            dict(record.fields),
            dict(record.metadata),
            {name: list(vector) for name, vector in record.vectors.items()},
            sorted((response.question_name, str(response.value), str(response.status)) for response in record.responses),
            sorted((suggestion.question_name, str(suggestion.value), suggestion.agent) for suggestion in record.suggestions),
        )
        for record in dataset.records(with_responses=True, with_suggestions=True, with_vectors=True)
    }


def read_v1(url: str, name: str) -> list:
    argilla_v1.init(api_url=url, api_key=OWNER_API_KEY)
    pulled = argilla_v1.FeedbackDataset.from_argilla(name=name, workspace="argilla")
    return [
        (dict(record.fields), sorted((str(response.user_id), response.status, str(response.values["preference"].value)) for response in record.responses or []))
        for record in pulled.records
    ]


def test_both_sdks_read_the_same_from_a_copy(juror_server, client, tmp_path):
    # `client` (the session's) is the SDK's default while settings objects are built.
    data_dir = tmp_path / "original"
    data_dir.mkdir()
    name = f"copied-{uuid.uuid4().hex[:8]}"
    settings = rg.Settings(
        fields=[rg.TextField(name="prompt"), rg.TextField(name="response-1"), rg.TextField(name="response-2")],
        questions=[rg.RankingQuestion(name="preference", values=["response-1", "response-2"])],
        metadata=[rg.IntegerMetadataProperty(name="length")],
        vectors=[rg.VectorField(name="embedding", dimensions=3)],
    )
    with running_juror(juror_server.binary, data_dir, tmp_path / "original.log") as url:
        original = rg.Argilla(api_url=url, api_key=OWNER_API_KEY)
        dataset = rg.Dataset(name=name, workspace="argilla", settings=settings, client=original).create()
        dataset.records.log([
            rg.Record(
                fields={"prompt": f"prompt {i}", "response-1": f"first {i}", "response-2": f"second {i}"},
                metadata={"length": i},
                vectors={"embedding": [0.1 * i, 0.2, 0.30000000000000004]},
                suggestions=[rg.Suggestion("preference", ["response-1", "response-2"], agent="model-x", score=[0.9, 0.1])],
            )
            for i in range(12)
        ])
        for record in list(dataset.records)[:5]:
            answer = {"status": "submitted", "values": {"preference": {"value": [{"value": "response-2", "rank": 1}, {"value": "response-1", "rank": 2}]}}}
            assert requests.post(f"{url}/api/v1/records/{record._server_id}/responses", headers=OWNER, json=answer, timeout=10).status_code == 201
        before_v2, before_v1 = read_v2(url, name), read_v1(url, name)
    assert len(before_v2) == 12 and sum(1 for _, (_, _, _, responses, _) in before_v2.items() if responses) == 5

    target = fresh_database()
    copied = subprocess.run([str(juror_server.binary), "copy", "--from", str(data_dir), "--to", target], capture_output=True, text=True, timeout=120)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert "every table's count matches" in copied.stdout, copied.stdout

    with running_juror(juror_server.binary, tmp_path / "unused", tmp_path / "copy.log", database_url=target) as url:
        assert read_v2(url, name) == before_v2
        assert read_v1(url, name) == before_v1
