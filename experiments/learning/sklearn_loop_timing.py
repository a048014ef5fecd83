#!/usr/bin/env python3
"""Timing peer for "a 20-class text simulation of 40 rounds of 100" (scikit-learn).

Usage: sklearn_loop_timing.py TEXT.jsonl [--classes 20] [--rounds 40] [--batch 100] [--initial 20]
                              [--c 10] [--seed 0] [--prune] [--out FILE]
Steps:
  - optional --classes K: keep only the items of the K most frequent labels (ties: label name);
  - split as Quorum (see _common.py); TF-IDF (Quorum-equivalent, uni+bigrams) fitted once on the
    train split (not timed in loop_seconds; reported as featurize_seconds);
  - start from --initial labels drawn from the train pool by numpy default_rng(--seed).choice
    (without replacement);
  - --rounds rounds of: LogisticRegression(C=--c, lbfgs, max_iter=1000) fit on the labelled items,
    predict_proba on the unlabelled pool, add the --batch items with the smallest margin p1 - p2
    (ties: lowest pool index). loop_seconds = wall time of these rounds.
  - final_test_accuracy: one more fit on all initial + rounds*batch labels, scored on the test split
    (timed separately: final_fit_seconds). last_round_model_test_accuracy: the round-R model.
--prune drops columns that are all-zero among the labelled rows before each fit (exactly the same
model under L2; only faster). Off by default: the peer times plain scikit-learn.
Prints one JSON object (also to --out).
"""
import argparse
import collections
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402,F401  (sets single-threaded BLAS before numpy loads)

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from _common import Dataset, accuracy, blas_threads, emit, log, margins, proba_full, smallest_k  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset")
    ap.add_argument("--classes", type=int)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--initial", type=int, default=20)
    ap.add_argument("--c", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prune", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()

    d = Dataset(a.dataset)
    if d.kind != "text":
        sys.exit(f"{a.dataset}: not a text dataset")
    if a.classes:
        counts = collections.Counter(d.labels)
        keep_labels = {l for l, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:a.classes]}
        keep = np.array([l in keep_labels for l in d.labels])
        d.train = d.train[keep[d.train]]
        d.test = d.test[keep[d.test]]
        # re-code labels to 0..K-1 (sorted names) so the model only knows the kept classes
        kept = sorted(keep_labels)
        code = {l: i for i, l in enumerate(kept)}
        d.classes = kept
        d.y = np.array([code.get(l, -1) for l in d.labels])
    n_classes = len(np.unique(d.y[d.train]))
    t0 = time.perf_counter()
    xp, xt, _ = d.quorum_features()
    featurize = time.perf_counter() - t0
    yp, yt = d.y[d.train], d.y[d.test]
    log(f"{d.name}: {n_classes} classes, pool {len(yp)}, test {len(yt)}, {xp.shape[1]} columns "
        f"(featurize {featurize:.1f}s)")

    def fit(rows):
        xl = xp[rows]
        cols = None
        if a.prune:
            cols = np.flatnonzero(xl.getnnz(axis=0) > 0)
            xl = xl[:, cols]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = LogisticRegression(C=a.c, max_iter=1000).fit(xl, yp[rows])
        return m, cols

    def proba(model, cols, x):
        return proba_full(model, x if cols is None else x[:, cols], len(d.classes))

    rng = np.random.default_rng(a.seed)
    labelled = np.zeros(len(yp), bool)
    labelled[rng.choice(len(yp), a.initial, replace=False)] = True
    fit_s, pred_s, iters = 0.0, 0.0, []
    t_loop = time.perf_counter()
    for r in range(a.rounds):
        lab, unl = np.flatnonzero(labelled), np.flatnonzero(~labelled)
        t = time.perf_counter()
        model, cols = fit(lab)
        t2 = time.perf_counter()
        p = proba(model, cols, xp[unl])
        labelled[unl[smallest_k(margins(p), a.batch)]] = True
        pred_s += time.perf_counter() - t2
        fit_s += t2 - t
        iters.append(int(np.max(model.n_iter_)))
        log(f"  round {r + 1}/{a.rounds}: {len(lab)} labels, {iters[-1]} it, "
            f"[{time.perf_counter() - t_loop:.1f}s]")
    loop = time.perf_counter() - t_loop
    last_acc = accuracy(proba(model, cols, xt), yt)
    t = time.perf_counter()
    final, fcols = fit(np.flatnonzero(labelled))
    final_fit = time.perf_counter() - t
    out = {"peer": "scikit-learn TF-IDF(1,2) + LogisticRegression margin loop",
           "dataset": d.name, "classes": n_classes, "pool_items": int(len(yp)), "test_items": int(len(yt)),
           "feature_columns": int(xp.shape[1]), "initial": a.initial, "rounds": a.rounds, "batch": a.batch,
           "C": a.c, "seed": a.seed, "prune_zero_columns": a.prune,
           "featurize_seconds": featurize, "loop_seconds": loop, "loop_fit_seconds": fit_s,
           "loop_predict_pick_seconds": pred_s, "lbfgs_iterations_per_round": iters,
           "final_labels": int(labelled.sum()), "final_fit_seconds": final_fit,
           "final_test_accuracy": accuracy(proba(final, fcols, xt), yt),
           "last_round_model_test_accuracy": last_acc,
           "sklearn": sklearn.__version__, "blas_threads": blas_threads(),
           "load_average_1m": os.getloadavg()[0], "cpus": os.cpu_count()}
    emit(out, a.out)


if __name__ == "__main__":
    main()
