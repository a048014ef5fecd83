#!/usr/bin/env python3
"""How much of scikit-learn's best-C accuracy comes from where its solver stops.

LogisticRegression(lbfgs) minimises the mean log-loss + ||w||^2 / (2 C n) and
stops when the largest gradient entry is below tol (1e-4 by default). At large
C on text that is reached long before the optimum, which regularises the model
a second time. This script refits the model table's column (a) ("sklearn best C
on the same features": Quorum-equivalent TF-IDF, train split, C grid) with the
default tol and with tol = 1e-8, max_iter = 10,000, and prints test accuracy,
iterations and the objective's value for each.

    python3 experiments/learning/solver_tolerance.py rotten_tomatoes wordnet_verbs
        -> results/solver_tolerance.json
"""
import json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: F401  (single-threaded BLAS before numpy)
import numpy as np
from sklearn.linear_model import LogisticRegression
from _common import Dataset, accuracy, proba_full, log
from benchmark import DATASETS, HERE

CS = [1.0, 10.0, 100.0, 1000.0]


def objective(m, x, y, c):
    p = np.clip(m.predict_proba(x)[np.arange(len(y)), y], 1e-300, 1)
    return float(-np.log(p).mean() + (m.coef_ ** 2).sum() / (2 * c * len(y)))


def main():
    out = {}
    for name in sys.argv[1:]:
        d = Dataset(DATASETS[name][0])
        xtr, xte, _ = d.quorum_features()
        ytr, yte = d.y[d.train], d.y[d.test]
        rows = []
        for c in CS:
            for tol, max_iter in ((1e-4, 1000), (1e-8, 10000)):
                t0 = time.perf_counter()
                m = LogisticRegression(C=c, tol=tol, max_iter=max_iter).fit(xtr, ytr)
                row = {"C": c, "tol": tol, "accuracy": accuracy(proba_full(m, xte, len(d.classes)), yte),
                       "iterations": int(np.max(m.n_iter_)), "objective": objective(m, xtr, ytr, c),
                       "seconds": round(time.perf_counter() - t0, 2)}
                rows.append(row)
                log(f"{name} C={c:g} tol={tol:g}: acc {row['accuracy']:.4f}, {row['iterations']} it, "
                    f"objective {row['objective']:.6f}")
        out[name] = rows
    path = os.path.join(HERE, "results", "solver_tolerance.json")
    json.dump(out, open(path, "w"), indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
