#!/usr/bin/env python3
"""Peer for Quorum's sgemm rate: numpy float32 matmul, n x n, best of repeats after one warm-up.

Usage: peer_numpy_gemm.py [--n 2048] [--repeats 5]
Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (numpy bundles its own,
newer OpenBLAS); the output says which kernel numpy ran (threadpoolctl).
"""
import argparse, json, os, time
import numpy as np
from threadpoolctl import threadpool_info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(12345)
    x = (rng.random((a.n, a.n), dtype=np.float32) - 0.5)
    y = (rng.random((a.n, a.n), dtype=np.float32) - 0.5)
    out = np.empty((a.n, a.n), dtype=np.float32)
    np.matmul(x, y, out=out)  # warm-up
    best = float("inf")
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        np.matmul(x, y, out=out)
        best = min(best, time.perf_counter() - t0)
    blas = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
            for p in threadpool_info() if p.get("user_api") == "blas"]
    print(json.dumps({"peer": "numpy float32 matmul", "n": a.n, "repeats": a.repeats,
                      "gflops": 2 * a.n ** 3 / best / 1e9, "best_seconds": best,
                      "numpy": np.__version__, "blas": blas,
                      "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
                      "load_average_1m": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
