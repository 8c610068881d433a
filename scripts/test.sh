#!/usr/bin/env bash
# Runs Juror's whole test suite: the Rust tests (unit and integration, against real SQLite files,
# a real PostgreSQL server and real servers on free ports) and the SDK tests (the official Argilla
# Python SDKs, unchanged, against a real `juror serve`, on SQLite and then on PostgreSQL).
#
# Needs: cargo, python3 with venv, apt (for Chromium and PostgreSQL). Installs the SDKs and
# Selenium into .venv, and Debian's chromium, chromium-driver and postgresql on first use; starts
# a throwaway PostgreSQL server (scripts/postgres.sh) and stops it when done.
set -euo pipefail
cd "$(dirname "$0")/.."

# The web UI tests drive Debian's Chromium through ChromeDriver.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "== installing Debian's chromium and chromium-driver for the web UI tests"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi

venv=.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import argilla, argilla_v1, pytest, selenium, prometheus_client, fastapi, uvicorn, openapi_spec_validator" 2>/dev/null; then
    echo "== installing the Argilla SDKs into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet -r tests/sdk/requirements.txt
fi

# TRL's dataset helpers run in their own venv: they need numpy 2 and a newer pyarrow than the
# SDKs allow, and are installed without dependencies so that PyTorch is never pulled in.
trl_venv=.venv-trl
if [ ! -x "$trl_venv/bin/python" ] || ! cmp -s tests/trl/requirements.txt "$trl_venv/requirements.txt"; then
    echo "== installing TRL's dataset helpers (no PyTorch) into $trl_venv"
    rm -rf "$trl_venv"
    python3 -m venv "$trl_venv"
    "$trl_venv/bin/pip" install --quiet --upgrade pip
    # --no-deps: the file is the complete pinned set; trl's accelerate dependency would pull in torch.
    "$trl_venv/bin/pip" install --quiet --no-deps -r tests/trl/requirements.txt
    cp tests/trl/requirements.txt "$trl_venv/requirements.txt"
fi

echo "== starting a throwaway PostgreSQL server"
postgres_dir=$(mktemp -d /tmp/juror-postgres.XXXXXX)
trap 'scripts/postgres.sh stop "$postgres_dir"' EXIT
export JUROR_TEST_POSTGRES_URL JUROR_TEST_POSTGRES_DIR="$postgres_dir"
JUROR_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$postgres_dir")

echo "== cargo build"
cargo build --workspace --locked

echo "== cargo test"
cargo test --workspace --locked

echo "== SDK and browser tests (argilla 2.8.0, argilla-v1 1.29.1 and headless Chromium against juror serve)"
JUROR_BIN="$PWD/target/debug/juror" "$venv/bin/python" -m pytest tests/sdk -q --ignore=tests/sdk/test_trl_helpers.py

echo "== the same SDK and browser tests against a server on PostgreSQL (backups and copies start from SQLite)"
JUROR_TEST_DATABASE_URL=$(scripts/postgres.sh createdb "$postgres_dir" juror_sdk) JUROR_BIN="$PWD/target/debug/juror" \
    "$venv/bin/python" -m pytest tests/sdk -q --ignore=tests/sdk/test_trl_helpers.py --ignore=tests/sdk/test_backup.py --ignore=tests/sdk/test_copy.py

echo "== TRL's dataset helpers (trl 1.16.0, without PyTorch) on juror export"
JUROR_BIN="$PWD/target/debug/juror" "$trl_venv/bin/python" -m pytest tests/sdk/test_trl_helpers.py -q
