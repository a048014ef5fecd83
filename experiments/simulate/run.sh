#!/usr/bin/env bash
# Runs `quorum simulate` over the datasets and writes experiments/simulate/RESULTS.md
# with a table and SVG learning curves.
#
# Usage: experiments/simulate/run.sh [DATASET ...]   (default: digits reuters_r8 rotten_tomatoes)
# Env: SEEDS (default 5), BATCH (20), INITIAL (20).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product quorum --scratch-path .build-release
quorum=.build-release/release/quorum
seeds=${SEEDS:-5}; batch=${BATCH:-20}; initial=${INITIAL:-20}
datasets=("$@"); [ ${#datasets[@]} -gt 0 ] || datasets=(digits reuters_r8 rotten_tomatoes)
for name in "${datasets[@]}"; do
  case "$name" in
    digits) file=datasets/digits/digits.jsonl; rounds=60 ;;
    reuters_r8) file=../shared/datasets/reuters_r8.jsonl; rounds=60 ;;
    rotten_tomatoes) file=../shared/datasets/rotten_tomatoes.jsonl; rounds=100 ;;
    *) echo "unknown dataset $name" >&2; exit 2 ;;
  esac
  echo "== $name: $rounds rounds × batch $batch, $seeds seeds" >&2
  "$quorum" simulate --data "$file" --rounds "$rounds" --batch "$batch" --initial "$initial" --seeds "$seeds" \
    --out "experiments/simulate/$name.json" > "experiments/simulate/$name.txt"
done
python3 experiments/simulate/report.py experiments/simulate
