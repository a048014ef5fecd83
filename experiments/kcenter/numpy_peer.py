#!/usr/bin/env python3
"""numpy peer for Quorum's k-center greedy (QuorumSampling.Diversity.select(.kCenter, ...)).

Generates (seeded) the candidates once, a Gaussian mixture of n x d float32 rows
written raw (little-endian, row-major), then times numpy's incremental k-center
greedy, the natural numpy way: one running minimum squared distance per row,
updated with one matrix-vector product per pick,

    d = ||x||^2 + ||c||^2 - 2 X c,   min_dist = minimum(min_dist, d),   next = argmax(min_dist)

starting from row 0 (what Quorum picks first when there are no centers and no
priority), best of --repeats runs. Writes numpy's picks so quorum-bench can
count how many of its picks agree.

Usage:
    env -u OPENBLAS_CORETYPE python3 experiments/kcenter/numpy_peer.py \
        [--n 200000] [--d 128] [--k 1000] [--repeats 2] [--data experiments/data/kcenter]

Outputs (in --data, which is gitignored):
    x.f32              raw float32, n*d values, row-major
    numpy_picks.i32    raw int32, the k picks in pick order
    numpy_times.json   the JSON printed on stdout
"""
import argparse, json, os, resource, time
import numpy as np


def generate(n, d, seed=20240618, clusters=64):
    """A Gaussian mixture: `clusters` centres ~ N(0, 4^2 I), unequal weights,
    per-cluster scales 0.5-2, plus 0.5% uniform outliers in [-20, 20]^d."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d), dtype=np.float32) * np.float32(4.0)
    weights = rng.dirichlet(np.ones(clusters))
    labels = rng.choice(clusters, size=n, p=weights)
    scales = rng.uniform(0.5, 2.0, size=clusters).astype(np.float32)
    x = rng.standard_normal((n, d), dtype=np.float32)
    x *= scales[labels, None]
    x += centres[labels]
    outliers = rng.random(n) < 0.005
    x[outliers] = rng.uniform(-20, 20, size=(int(outliers.sum()), d)).astype(np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)


def kcenter_greedy(X, k, first=0):
    """Incremental k-center greedy: one GEMV (X @ c) per pick, O(n) extra memory."""
    norms = np.einsum("ij,ij->i", X, X)                    # ||x||^2, float32
    min_dist = np.full(X.shape[0], np.inf, dtype=np.float32)
    picks = [first]
    nxt = first
    for _ in range(1, k):
        c = X[nxt]
        d = norms + norms[nxt] - 2 * (X @ c)
        np.maximum(d, 0, out=d)
        np.minimum(min_dist, d, out=min_dist)
        min_dist[nxt] = 0
        nxt = int(np.argmax(min_dist))
        picks.append(nxt)
    return picks


def blas_info():
    try:
        import threadpoolctl
        return [{k: v for k, v in i.items() if k in ("internal_api", "version", "num_threads", "architecture")}
                for i in threadpoolctl.threadpool_info()]
    except Exception:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--data", default="experiments/data/kcenter")
    ap.add_argument("--regenerate", action="store_true")
    args = ap.parse_args()

    os.makedirs(args.data, exist_ok=True)
    path = os.path.join(args.data, "x.f32")
    if args.regenerate or not os.path.exists(path) or os.path.getsize(path) != args.n * args.d * 4:
        generate(args.n, args.d).tofile(path)
    rss_before_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # peak so far (generation)
    X = np.fromfile(path, dtype=np.float32).reshape(args.n, args.d)

    best, picks = float("inf"), None
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        p = kcenter_greedy(X, args.k, first=0)
        times.append(time.perf_counter() - t0)
        if picks is not None and p != picks:
            raise SystemExit("numpy picks differ between runs")
        picks = p
    best = min(times)
    np.asarray(picks, dtype=np.int32).tofile(os.path.join(args.data, "numpy_picks.i32"))

    out = {
        "benchmark": "kcenter", "side": "numpy", "numpy": np.__version__,
        "rows": args.n, "features": args.d, "k": args.k, "first": 0,
        "seconds_best": best, "seconds_all": times,
        "first_picks": picks[:20],
        # ru_maxrss is the process-lifetime peak (KiB on Linux), so it includes data generation
        # when the file was (re)written in this run; run again to see the steady-state figure.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_mb_before_load": rss_before_load,
        "input_mb": args.n * args.d * 4 / 2**20,
        "load_average_1m": os.getloadavg()[0],
        "blas": blas_info(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }
    with open(os.path.join(args.data, "numpy_times.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
