#!/usr/bin/env bash
# Reward-model training and scoring, Juror against PyTorch on the same CPU, in one run: the same
# backbone (all-MiniLM-L6-v2), batch, maximum length and threads, alternating ROUNDS times.
# Prints each side's mean seconds per training step and scored sequences per second, and the ratios
# (above 1: Juror is faster).
#   scripts/bench-reward-model.sh PAIRS.jsonl [ROUNDS] [STEPS]
# PAIRS.jsonl is any TRL-format file. Needs `cargo build --release -p juror-cli`; the PyTorch side
# runs in its own virtualenv with torch and transformers from PyPI, made on first use
# (JUROR_BENCH_VENV, default ~/.cache/juror/bench-venv). Never part of the tests.
set -euo pipefail
pairs=$1 rounds=${2:-2} steps=${3:-12}
threads=${THREADS:-$(nproc)}
batch=${BATCH:-8} max_length=${MAX_LENGTH:-128}
juror=${JUROR:-target/release/juror}
venv=${JUROR_BENCH_VENV:-$HOME/.cache/juror/bench-venv}
model=$(scripts/minilm.sh)
if ! "$venv/bin/python" -c "import torch, transformers" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch==2.15.0 transformers
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Both sides train on the same pairs (the first batch * (steps + 1), which is what the PyTorch side
# reads of PAIRS.jsonl): Juror computes nothing for padding, so its step time depends on the
# sequences' real lengths, and the mean step over the same pairs is what compares. Both sides score
# the same 512 sequences; Juror's rate counts the whole command (start, loading, tokenizing),
# PyTorch's its tokenizing and scoring.
python3 - "$pairs" "$work/rows.jsonl" "$work/pairs.jsonl" $((batch * (steps + 1))) <<'PY'
import json, sys
with open(sys.argv[1]) as pairs, open(sys.argv[2], "w") as rows, open(sys.argv[3], "w") as subset:
    for number, line in enumerate(pairs):
        if number == 256:
            break
        if number < int(sys.argv[4]):
            subset.write(line)
        pair = json.loads(line)
        rows.write(json.dumps({"chosen": pair["chosen"], "rejected": pair["rejected"], **({"prompt": pair["prompt"]} if "prompt" in pair else {})}) + "\n")
PY
mean_step() {
    python3 -c "import json,statistics,sys; r=json.load(open(sys.argv[1])); print(statistics.mean(s['seconds'] for s in r['steps'][1:]), r['peak_rss_mib'])" "$1"
}
for round in $(seq "$rounds"); do
    rm -rf "$work/rm"
    RAYON_NUM_THREADS=$threads "$juror" train --pairs "$work/pairs.jsonl" --backbone "$model" --output "$work/rm" --held-out 0 \
        --batch-size "$batch" --micro-batch "$batch" --max-length "$max_length" --stop-after $((steps + 1)) 2>/dev/null
    read -r juror_step juror_rss < <(mean_step "$work/rm/report.json")
    started=$(date +%s.%N)
    RAYON_NUM_THREADS=$threads "$juror" score --model "$work/rm/checkpoints/interrupted" --input "$work/rows.jsonl" --output "$work/scores.jsonl" 2>/dev/null
    juror_rate=$(python3 -c "import sys; print(512 / (float(sys.argv[2]) - float(sys.argv[1])))" "$started" "$(date +%s.%N)")
    torch=$("$venv/bin/python" bench/reward_model_torch.py "$model" "$pairs" --threads "$threads" --steps "$steps" --batch "$batch" --max-length "$max_length" --score 512 2>/dev/null)
    python3 - "$juror_step" "$juror_rate" "$juror_rss" "$torch" "$round" <<'PY'
import json, sys
juror_step, juror_rate, juror_rss = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
torch = json.loads(sys.argv[4])
print(f"round {sys.argv[5]}: training step {juror_step:.2f} s (Juror, peak RSS {juror_rss:.0f} MiB) vs {torch['step_seconds']:.2f} s "
      f"(PyTorch {torch['torch']}): steps/s ratio {torch['step_seconds'] / juror_step:.2f}; "
      f"scoring {juror_rate:.1f} vs {torch['sequences_per_second']:.1f} sequences/s: ratio {juror_rate / torch['sequences_per_second']:.2f}")
PY
done
