"""crowd-kit's DawidSkene on the benchmark data (run gen_data.py first).

Builds the (task, worker, label) DataFrame from the int32 files (outside the
timing), times DawidSkene(n_iter=100, tol=1e-5).fit_predict best of --repeats,
scores it against the simulated truth and writes, next to the data:
  crowdkit_labels.i32   crowd-kit's label per task 0..n-1 (int32)
  crowdkit_stats.f64    [best seconds, accuracy, EM iterations, median seconds]
and prints one JSON line.

    env -u OPENBLAS_CORETYPE python3 experiments/consensus/crowdkit_peer.py [--data DIR] [--repeats 3]
"""
import argparse
import json
import os
import time
from importlib.metadata import version

import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="experiments/data/consensus")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    load = lambda name: np.fromfile(os.path.join(args.data, f"{name}.i32"), dtype="<i4")
    task, worker, label, truth = load("task"), load("worker"), load("label"), load("truth")
    df = pd.DataFrame({"task": task, "worker": worker, "label": label})

    times, result, iterations = [], None, None
    for _ in range(args.repeats):
        ds = DawidSkene(n_iter=100, tol=1e-5)
        t0 = time.perf_counter()
        result = ds.fit_predict(df)
        times.append(time.perf_counter() - t0)
        iterations = len(ds.loss_history_)
    labels = result.reindex(np.arange(len(truth))).to_numpy().astype(np.int32)
    accuracy = float((labels == truth).mean())
    labels.astype("<i4").tofile(os.path.join(args.data, "crowdkit_labels.i32"))
    np.array([min(times), accuracy, iterations, float(np.median(times))], dtype="<f8").tofile(
        os.path.join(args.data, "crowdkit_stats.f64"))

    # Majority vote for reference (ties: crowd-kit's MajorityVote picks by its own order).
    counts = np.zeros((len(truth), int(label.max()) + 1), dtype=np.int32)
    np.add.at(counts, (task, label), 1)
    mv_lowest = float((counts.argmax(axis=1) == truth).mean())
    print(json.dumps({
        "benchmark": "dawid-skene", "side": "crowd-kit", "crowdkit": version("crowd-kit"),
        "pandas": pd.__version__, "numpy": np.__version__,
        "items": int(len(truth)), "answers": int(len(task)),
        "seconds_best": min(times), "seconds_all": times, "iterations": iterations,
        "accuracy": accuracy, "majority_vote_accuracy_ties_lowest": mv_lowest,
        "load_average_1m": os.getloadavg()[0],
    }))


if __name__ == "__main__":
    main()
