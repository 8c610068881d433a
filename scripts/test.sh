#!/usr/bin/env bash
# Runs Juror's whole test suite: the Rust tests (unit and integration, against real SQLite files
# and real servers on free ports) and the SDK tests (the official Argilla Python SDKs, unchanged,
# against a real `juror serve`).
#
# Needs: cargo, python3 with venv. Installs the SDKs into .venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import argilla, argilla_v1, pytest" 2>/dev/null; then
    echo "== installing the Argilla SDKs into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet -r tests/sdk/requirements.txt
fi

echo "== cargo build"
cargo build --workspace --locked

echo "== cargo test"
cargo test --workspace --locked

echo "== SDK tests (argilla 2.8.0 and argilla-v1 1.29.1 against juror serve)"
JUROR_BIN="$PWD/target/debug/juror" "$venv/bin/python" -m pytest tests/sdk -q
