"""Fixtures for driving a Juror server through the official Argilla SDKs.

The session starts one `juror serve` process on a free local port with an empty data directory,
waits for `GET /api/_status` to answer 200, and stops it (SIGTERM, then wait) when the session ends.

Environment:
    JUROR_BIN       path of the juror binary (default: <repo>/target/debug/juror)
    JUROR_TEST_URL  optional: use an already running server at this URL instead of starting one
                    (it must hold the default owner `argilla` with API key `argilla.apikey`);
                    handy for checking the suite itself against a reference server.
    JUROR_TEST_DATABASE_URL
                    optional: the servers this session starts use this (empty) PostgreSQL
                    database instead of their data directory's SQLite file.
"""
import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
# The session's servers serve /metrics to this bearer token (test_metrics.py reads it).
METRICS_TOKEN = "metrics-test-token"

# Every juror command the tests start (servers, imports, exports) uses the same PostgreSQL
# database when the session runs on one.
if os.environ.get("JUROR_TEST_DATABASE_URL"):
    os.environ["JUROR_DATABASE_URL"] = os.environ["JUROR_TEST_DATABASE_URL"]
OWNER_API_KEY = "argilla.apikey"
STARTUP_TIMEOUT_S = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"<could not read {path}: {exc}>"


def _is_ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/_status", timeout=1).status_code == 200
    except requests.RequestException:
        return False


class JurorServer:
    """A running server: its URL, and its data directory when this session started it."""

    def __init__(self, url, data_dir=None, binary=None):
        self.url = url
        self.data_dir = data_dir
        self.binary = binary


@pytest.fixture(scope="session")
def argilla_url(juror_server):
    """Base URL of a running Juror server (started for this session)."""
    return juror_server.url


@pytest.fixture(scope="session")
def juror_server(tmp_path_factory):
    """The Juror server of this session."""
    external = os.environ.get("JUROR_TEST_URL")
    if external:
        url = external.rstrip("/")
        if not _is_ready(url):
            pytest.fail(f"JUROR_TEST_URL={url} does not answer 200 on /api/_status")
        yield JurorServer(url)
        return

    binary = Path(os.environ.get("JUROR_BIN", REPO_ROOT / "target" / "debug" / "juror"))
    if not binary.is_file():
        pytest.fail(f"juror binary not found at {binary} (build it or set JUROR_BIN)")

    base = tmp_path_factory.mktemp("juror")
    data_dir = base / "data"
    data_dir.mkdir()
    with running_juror(binary, data_dir, base / "juror.log") as url:
        yield JurorServer(url, data_dir, binary)


@contextlib.contextmanager
def running_juror(binary, data_dir, log_path, database_url=None):
    """`juror serve` on a free local port over `data_dir` (or the PostgreSQL database at
    `database_url`, else the session's), until the block ends (SIGTERM, then wait); yields its
    URL. Fails the test with the log's tail when it does not become ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    log_file = open(log_path, "wb")
    command = [str(binary), "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
               "--metrics-token", METRICS_TOKEN,
               # test_webhooks.py's listener runs on this machine; its retries come quickly.
               "--webhooks-allow-local", "--webhooks-retry-ms", "200"]
    database_url = database_url or os.environ.get("JUROR_TEST_DATABASE_URL")
    if database_url:
        command += ["--database-url", database_url]
    proc = subprocess.Popen(
        command,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    ready = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if _is_ready(url):
            ready = True
            break
        time.sleep(0.1)

    if not ready:
        exit_code = proc.poll()
        if exit_code is None:
            proc.kill()
            proc.wait()
        log_file.close()
        state = f"exited with code {exit_code}" if exit_code is not None else f"not ready after {STARTUP_TIMEOUT_S:.0f} s"
        pytest.fail(f"juror server {state} ({binary} serve on port {port}).\nLog tail ({log_path}):\n{_log_tail(log_path)}")

    try:
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_file.close()


@pytest.fixture(scope="session")
def client(argilla_url):
    """An argilla 2.8 client authenticated as the seeded owner."""
    import argilla as rg

    return rg.Argilla(api_url=argilla_url, api_key=OWNER_API_KEY)
