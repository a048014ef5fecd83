"""Writes the Dawid-Skene benchmark data to experiments/data/consensus/ (gitignored).

Seeded simulation (numpy default_rng(20240618)):
  * 100,000 items, k = 5 classes, truth drawn with priors 0.35/0.25/0.20/0.12/0.08;
  * 50 annotators: 40 "ordinary" ones, each with its own confusion matrix (row c:
    probability U(0.55, 0.95) on c, the rest split by a Dirichlet(1) draw over the
    other classes), 5 uniform spammers, 5 who always answer one fixed class;
  * 5 distinct annotators per item (uniformly at random), so 500,000 answers,
    stored task-major (an item's 5 answers are adjacent).

Files (little-endian int32): task.i32, worker.i32, label.i32 (500,000 each),
truth.i32 (100,000), plus confusion.f64 (50 x 5 x 5, the true matrices).

    env -u OPENBLAS_CORETYPE python3 experiments/consensus/gen_data.py [--out DIR]
"""
import argparse
import os

import numpy as np

N, K, A, PER_ITEM, SEED = 100_000, 5, 50, 5, 20240618
PRIORS = np.array([0.35, 0.25, 0.20, 0.12, 0.08])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="experiments/data/consensus")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)

    conf = np.zeros((A, K, K))
    for a in range(40):
        for c in range(K):
            right = rng.uniform(0.55, 0.95)
            others = rng.dirichlet(np.ones(K - 1)) * (1 - right)
            conf[a, c] = np.insert(others, c, right)
    conf[40:45] = 1.0 / K
    for a in range(45, 50):
        conf[a, :, rng.integers(K)] = 1.0

    truth = rng.choice(K, size=N, p=PRIORS).astype(np.int32)
    workers = np.argsort(rng.random((N, A)), axis=1)[:, :PER_ITEM].astype(np.int32)  # 5 distinct per item
    task = np.repeat(np.arange(N, dtype=np.int32), PER_ITEM)
    worker = workers.reshape(-1)
    cum = np.cumsum(conf, axis=2)                      # A x K x K
    rows = cum[worker, np.repeat(truth, PER_ITEM)]     # answers x K
    u = rng.random(len(worker))
    label = np.minimum((u[:, None] >= rows).sum(axis=1), K - 1).astype(np.int32)

    for name, arr in [("task", task), ("worker", worker), ("label", label), ("truth", truth)]:
        arr.astype("<i4").tofile(os.path.join(args.out, f"{name}.i32"))
    conf.astype("<f8").tofile(os.path.join(args.out, "confusion.f64"))
    print(f"wrote {len(task):,} answers on {N:,} items ({A} annotators, k = {K}) to {args.out}")


if __name__ == "__main__":
    main()
