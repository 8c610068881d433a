#!/usr/bin/env bash
# Compares two `juror` binaries on the labeling loop in one run: `juror-bench distribution`
# (cycles only) alternates between them, ROUNDS times, so both see the same machine.
#   scripts/bench-distribution-ab.sh OLD_JUROR NEW_JUROR [ROUNDS] [RECORDS]
set -euo pipefail
old=$1 new=$2 rounds=${3:-2} records=${4:-100000}
bench=${JUROR_BENCH:-target/release/juror-bench}
for _ in $(seq "$rounds"); do
  for juror in "$old" "$new"; do
    echo "== $juror"
    "$bench" distribution --juror "$juror" --records "$records" --seconds 10 --sizes 1000 --samples 20 | grep -E "cycles/s|floor|per cycle"
  done
done
