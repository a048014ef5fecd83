"""The scikit-learn side of the training-speed benchmark: 5 LogisticRegression
fits (C=1, lbfgs, default tol 1e-4), each on a bootstrap resample of the 50,000
rows (seed m for member m), then the ensemble's mean-probability test accuracy.

Usage: python3 experiments/training/sklearn_peer.py [DATA_DIR] [REPEATS]
Prints one JSON object.
"""
import json, sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
import threadpoolctl

data = sys.argv[1] if len(sys.argv) > 1 else "experiments/data/training"
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
d = 128
x = np.fromfile(f"{data}/train_x.f32", dtype=np.float32).reshape(-1, d)
y = np.fromfile(f"{data}/train_y.i32", dtype=np.int32)
xt = np.fromfile(f"{data}/test_x.f32", dtype=np.float32).reshape(-1, d)
yt = np.fromfile(f"{data}/test_y.i32", dtype=np.int32)
n = len(y)
best = None
for _ in range(repeats):
    t0 = time.perf_counter()
    models = []
    for m in range(5):
        idx = np.random.default_rng(m).integers(0, n, size=n)
        models.append(LogisticRegression(C=1.0, max_iter=1000).fit(x[idx], y[idx]))
    t = time.perf_counter() - t0
    best = t if best is None else min(best, t)
p = np.mean([m.predict_proba(xt) for m in models], axis=0)
info = threadpoolctl.threadpool_info()
print(json.dumps({"side": "scikit-learn", "fit_seconds_best": best, "members": 5,
                  "test_accuracy": float((p.argmax(1) == yt).mean()),
                  "iterations": [int(m.n_iter_[0]) for m in models],
                  "blas": [(i.get("internal_api"), i.get("version"), i.get("architecture"), i.get("num_threads")) for i in info]}))
