#!/usr/bin/env bash
# Builds Quorum in release mode (separate scratch path) and runs every benchmark
# with its peer in the same run, writing experiments/results/{import,gemm,digits}.json
# and experiments/results/summary.md.
#
# Usage: experiments/run_benchmarks.sh [--only import,gemm,digits] [--repeats N]
# Needs: swift, python3 with numpy, scikit-learn and threadpoolctl
# (pip install scikit-learn numpy threadpoolctl).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import numpy, sklearn, threadpoolctl' 2>/dev/null || {
    echo "run_benchmarks.sh: needs numpy, scikit-learn and threadpoolctl: pip install scikit-learn numpy threadpoolctl" >&2
    exit 1
}

echo "== building release binaries (.build-release)" >&2
swift build -c release --product quorum --scratch-path .build-release
swift build -c release --product quorum-bench --scratch-path .build-release

echo "== generating inputs (seeded; kept between runs)" >&2
python3 experiments/gen_data.py

echo "== running benchmarks" >&2
python3 experiments/bench.py --bin .build-release/release "$@"
