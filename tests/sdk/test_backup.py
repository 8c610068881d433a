"""`juror backup` of the running server while the argilla 2.8 SDK logs records, `juror restore`
into a new data directory, and the SDK reading the copy back from a server started on it."""
import subprocess
import threading
import uuid

import pytest

import argilla as rg
from conftest import OWNER_API_KEY, running_juror

BATCH = 100


def settings() -> rg.Settings:
    return rg.Settings(
        fields=[rg.TextField(name="prompt"), rg.TextField(name="response-1"), rg.TextField(name="response-2")],
        questions=[rg.RankingQuestion(name="preference", values=["response-1", "response-2"])],
    )


def rows(start: int) -> list:
    return [{"id": f"row-{i}", "prompt": f"prompt {i}", "response-1": f"first {i}", "response-2": f"second {i}"}
            for i in range(start, start + BATCH)]


def test_a_backup_taken_while_the_sdk_logs_restores_and_reads_back(juror_server, client, tmp_path):
    if juror_server.data_dir is None:
        pytest.fail("this test backs up the server's data directory: run it without JUROR_TEST_URL")
    name = f"backup-{uuid.uuid4().hex[:8]}"
    dataset = rg.Dataset(name=name, workspace="argilla", settings=settings(), client=client).create()
    dataset.records.log(rows(0), batch_size=BATCH)

    logged = [BATCH]
    stop = threading.Event()

    def keep_logging():
        while not stop.is_set():
            dataset.records.log(rows(logged[0]), batch_size=BATCH)
            logged[0] += BATCH

    writer = threading.Thread(target=keep_logging)
    writer.start()
    try:
        before = logged[0]
        backup = tmp_path / "juror-backup.db"
        result = subprocess.run([str(juror_server.binary), "backup", "--data-dir", str(juror_server.data_dir), "--to", str(backup)],
                                capture_output=True, text=True, timeout=120)
    finally:
        stop.set()
        writer.join()
    assert result.returncode == 0, result.stderr

    restored_dir = tmp_path / "restored"
    result = subprocess.run([str(juror_server.binary), "restore", "--data-dir", str(restored_dir), "--from", str(backup)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    with running_juror(juror_server.binary, restored_dir, tmp_path / "restored.log") as url:
        copy = rg.Argilla(api_url=url, api_key=OWNER_API_KEY)
        records = list(copy.datasets(name, workspace="argilla").records)
        ids = sorted(int(record.id.split("-")[1]) for record in records)
        assert len(ids) >= before, "every batch logged before the backup began is in it"
        assert len(ids) % BATCH == 0 and ids == list(range(len(ids))), "the copy holds whole batches, in order"
        by_id = {record.id: record for record in records}
        assert by_id["row-7"].fields["prompt"] == "prompt 7"
        assert by_id["row-7"].fields["response-2"] == "second 7"
