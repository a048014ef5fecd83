#!/usr/bin/env python3
"""Peer for Quorum's training: scikit-learn on the digits split.

Usage: peer_sklearn_digits.py DIGITS_JSONL [--repeats 5]
Split: test = rows whose 1-based line number is divisible by 5; train = the rest.
Timed (best of repeats): StandardScaler fit on train + transform, then
LogisticRegression(C=1.0, max_iter=1000) (lbfgs, multinomial) fit.
"""
import argparse, json, os, time
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info


def load(path):
    xtr, ytr, xte, yte = [], [], [], []
    with open(path) as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            o = json.loads(line)
            x, y = (xte, yte) if lineno % 5 == 0 else (xtr, ytr)
            x.append(o["vector"])
            y.append(int(o["label"]))
    f64 = lambda v: np.asarray(v, dtype=np.float64)  # lbfgs works in float64
    return f64(xtr), np.asarray(ytr), f64(xte), np.asarray(yte)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    xtr, ytr, xte, yte = load(a.data)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        scaler = StandardScaler().fit(xtr)
        model = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(xtr), ytr)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    acc = float((model.predict(scaler.transform(xte)) == yte).mean())
    predict = time.perf_counter() - t0
    blas = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for p in threadpool_info() if p.get("user_api") == "blas"]
    print(json.dumps({"peer": "scikit-learn StandardScaler + LogisticRegression(C=1.0, max_iter=1000, lbfgs)",
                      "sklearn": sklearn.__version__, "train_rows": len(ytr), "test_rows": len(yte),
                      "fit_seconds": times, "fit_seconds_best": min(times),
                      "fit_seconds_median": float(np.median(times)), "predict_seconds": predict,
                      "iterations": int(np.max(model.n_iter_)), "test_accuracy": acc,
                      "train_accuracy": float(model.score(scaler.transform(xtr), ytr)),
                      "blas": blas, "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
                      "load_average_1m": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
