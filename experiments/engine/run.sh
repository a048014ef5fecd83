#!/usr/bin/env bash
# Pre-labelling engine vs scikit-learn: accuracy, calibration (ECE) and fit time
# on digits and reuters_r8. See experiments/engine/README.md.
#
#   experiments/engine/run.sh            # build release, run everything (~4 min on 2 cores)
#   SKIP_BUILD=1 experiments/engine/run.sh
#
# Outputs: experiments/work/engine/ (gitignored: split files, projects, raw JSON),
#          experiments/engine/results.json and the Markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."              # the package root
BIN=.build-release/release
W=experiments/work/engine
E=experiments/engine
# Quorum picks its own OpenBLAS core type; numpy/scikit-learn use their bundled OpenBLAS.
QENV=(env -u OPENBLAS_CORETYPE -u QUORUM_BLAS_CORETYPE_AUTO)
PY=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3)

if [ -z "${SKIP_BUILD:-}" ]; then
    swift build -c release --product quorum --scratch-path .build-release
    swift build -c release --product quorum-bench --scratch-path .build-release
fi

rm -rf "$W"
mkdir -p "$W"
{
    echo "git_head=$(git rev-parse HEAD)"
    echo "git_dirty_sources_sha256=$(git diff HEAD -- Sources | sha256sum | cut -d' ' -f1)"
    git status --short -- Sources
} > "$W/tree.txt"
"${PY[@]}" $E/compare.py prepare --out "$W"
labels() { python3 -c "import json,sys; print(','.join(json.load(open('$W/labels.json'))[sys.argv[1]]))" "$1"; }

# dataset C repeats
for spec in "digits 1 5" "digits 10 5" "reuters_r8 1 2" "reuters_r8 10 2"; do
    set -- $spec
    ds=$1 c=$2 repeats=$3 tag="${1}_c${2}"
    L=$(labels "$ds")
    echo "== $tag" >&2
    for m in 1 5; do                          # (a) --members 1, (b) the default 5-member ensemble
        p="$W/proj_${tag}_m$m"
        "${QENV[@]}" $BIN/quorum init --project "$p" --labels "$L" --name "$tag" >/dev/null
        "${QENV[@]}" $BIN/quorum import --project "$p" "$W/${ds}_train.jsonl" --as seed --format json >/dev/null
        "${QENV[@]}" $BIN/quorum import --project "$p" "$W/${ds}_test.jsonl" --as test --format json >/dev/null
        "${QENV[@]}" $BIN/quorum train --project "$p" --members $m --c "$c" --format json > "$W/cli_${tag}_m$m.json"
    done
    # (a), (b) again in-process (for the test ECE at T = 1), and (c) one model on 100%, no calibration
    "${QENV[@]}" $BIN/quorum-bench engine --train "$W/${ds}_train.jsonl" --test "$W/${ds}_test.jsonl" \
        --labels "$L" --c "$c" --repeats "$repeats" --configs a,b,c --dump "$W/dump_$tag.json" > "$W/bench_$tag.json"
    "${PY[@]}" $E/compare.py sklearn --dataset "$ds" --dir "$W" --c "$c" --repeats "$repeats" \
        --dump "$W/dump_$tag.json" > "$W/sklearn_$tag.json"
done

"${PY[@]}" $E/compare.py table --dir "$W" --out $E/results.json
