#!/usr/bin/env python3
"""Margin sampling with scikit-learn, for Quorum's label-economy table.

Usage:
  sklearn_sampling.py DATASET.jsonl SIMULATE.json --c C [--full-accuracy A] [--out FILE] [--no-prune]
  sklearn_sampling.py DATASET.jsonl --make-fake FAKE.json [--seeds 3 --initial 20 --batch 20 --rounds 10]
      (writes a stand-in for `quorum simulate --out` with seeded random initial ids, then exits)

SIMULATE.json is what `quorum simulate --out` writes. Read from it (anywhere in the document: the
first JSON object that has "initial_ids" is used, so a wrapper object is fine):
  "initial_ids": {"1": [ids], "2": [...]}  (per seed; a plain list of lists also works) - required
  "batch": B, "rounds": R                                                      - required
  "test_ids": [ids]   - optional; when absent, Quorum's split rule is used (see _common.py).
                        When present it defines the test set, and any mismatch with the rule is reported.
  "full_accuracy"     - optional; --full-accuracy overrides it; when neither is given the
                        scikit-learn full-pool accuracy at --c is used (and reported as such).
For each seed: start from its initial ids; then for round r = 0..R: fit
LogisticRegression(C=--c, lbfgs, max_iter=1000) on the labelled items, score test accuracy (a curve
point), and if r < R add the B unlabelled pool items with the smallest margin p1 - p2 of
predict_proba (ties: lowest pool index, pool = non-test items in file order). So the curve has R+1
points: labels = initial + r*B. Features are fitted once on the whole pool (TF-IDF / StandardScaler,
as Quorum). If the labelled set has one class only, the model predicts that class with p = 1 (all
margins 1, so the lowest-index items are taken).
Prune (default on): columns that are all zero among the labelled rows are dropped before each fit.
With an L2 penalty those weights stay exactly 0, so the model and all predictions are unchanged; it
only saves L-BFGS work on the ~200k-column text features. Use --no-prune to time the plain fit.
Output JSON: curve [{labels, accuracy}] averaged over seeds, per-seed curves, labels_to_95 / _99
(first curve point with accuracy >= 0.95 / 0.99 x full accuracy; null when never reached), seconds.
"""
import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402,F401  (sets single-threaded BLAS before numpy loads)

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from _common import Dataset, accuracy, blas_threads, emit, log, margins, proba_full, smallest_k  # noqa: E402


def find_sim(doc):
    """First dict (depth-first) holding 'initial_ids'."""
    if isinstance(doc, dict):
        if "initial_ids" in doc:
            return doc
        children = doc.values()
    elif isinstance(doc, list):
        children = doc
    else:
        return None
    for v in children:
        found = find_sim(v)
        if found is not None:
            return found
    return None


def seeds_of(initial_ids):
    if isinstance(initial_ids, dict):
        keys = sorted(initial_ids, key=lambda k: (0, int(k)) if str(k).isdigit() else (1, str(k)))
        return [(str(k), [str(i) for i in initial_ids[k]]) for k in keys]
    if isinstance(initial_ids, list):
        if initial_ids and not isinstance(initial_ids[0], list):  # one seed given as a flat list
            return [("1", [str(i) for i in initial_ids])]
        return [(str(s + 1), [str(i) for i in ids]) for s, ids in enumerate(initial_ids)]
    raise ValueError("initial_ids must be an object {seed: [ids]} or a list of id lists")


class Fitter:
    def __init__(self, c, n_classes, prune):
        self.c, self.n_classes, self.prune = c, n_classes, prune

    def proba(self, x_lab, y_lab, x_eval_list):
        present = np.unique(y_lab)
        if len(present) == 1:
            outs = []
            for xe in x_eval_list:
                p = np.zeros((xe.shape[0], self.n_classes))
                p[:, present[0]] = 1.0
                outs.append(p)
            return outs
        if self.prune:
            nz = x_lab.getnnz(axis=0) > 0 if hasattr(x_lab, "getnnz") else np.any(x_lab != 0, axis=0)
            keep = np.flatnonzero(nz)
            x_lab = x_lab[:, keep]
            x_eval_list = [xe[:, keep] for xe in x_eval_list]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning etc.; counted by n_iter_ below
            m = LogisticRegression(C=self.c, max_iter=1000).fit(x_lab, y_lab)
        return [proba_full(m, xe, self.n_classes) for xe in x_eval_list]


def make_fake(d, path, seeds, initial, batch, rounds):
    rng = np.random.default_rng(12345)
    pool = [d.ids[i] for i in d.train]
    doc = {"note": "FAKE stand-in for `quorum simulate --out`, written by sklearn_sampling.py --make-fake",
           "dataset": d.name, "batch": batch, "rounds": rounds,
           "test_ids": [d.ids[i] for i in d.test],
           "initial_ids": {str(s + 1): [pool[k] for k in rng.choice(len(pool), initial, replace=False)]
                           for s in range(seeds)}}
    with open(path, "w") as f:
        json.dump(doc, f)
    log(f"wrote fake simulate JSON {path}: {seeds} seeds x {initial} initial ids, batch {batch}, rounds {rounds}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset")
    ap.add_argument("simulate", nargs="?")
    ap.add_argument("--c", type=float, help="C (use best_c from sklearn_models.py for this dataset)")
    ap.add_argument("--full-accuracy", type=float)
    ap.add_argument("--out")
    ap.add_argument("--no-prune", dest="prune", action="store_false")
    ap.add_argument("--make-fake")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--initial", type=int, default=20)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()

    d = Dataset(a.dataset)
    if a.make_fake:
        make_fake(d, a.make_fake, a.seeds, a.initial, a.batch, a.rounds)
        return
    if not a.simulate or a.c is None:
        ap.error("need SIMULATE.json and --c (or --make-fake)")
    with open(a.simulate) as f:
        sim = find_sim(json.load(f))
    if sim is None:
        sys.exit(f"{a.simulate}: no object with 'initial_ids' found")
    for key in ("batch", "rounds"):
        if key not in sim:
            sys.exit(f"{a.simulate}: missing '{key}' next to 'initial_ids'")
    batch, rounds = int(sim["batch"]), int(sim["rounds"])
    seeds = seeds_of(sim["initial_ids"])
    notes = []

    # Split: the simulate file's test ids when given (checked against Quorum's rule), else the rule.
    if sim.get("test_ids") is not None:
        test_set = {str(i) for i in sim["test_ids"]}
        unknown = [i for i in test_set if i not in d.id_index]
        if unknown:
            notes.append(f"{len(unknown)} test_ids not in the dataset (ignored), e.g. {unknown[:3]}")
        is_test = np.array([i in test_set for i in d.ids])
        rule = np.zeros(len(d.ids), bool)
        rule[d.test] = True
        if (is_test != rule).any():
            notes.append(f"test_ids differ from Quorum's split rule on {int((is_test != rule).sum())} items; using test_ids")
        test_idx, pool_idx = np.flatnonzero(is_test), np.flatnonzero(~is_test)
        d.train, d.test = pool_idx, test_idx
    xp, xt, _ = d.quorum_features()
    yp, yt = d.y[d.train], d.y[d.test]
    pool_pos = {d.ids[i]: k for k, i in enumerate(d.train)}
    fitter = Fitter(a.c, len(d.classes), a.prune)

    full_source = "argument" if a.full_accuracy is not None else None
    full = a.full_accuracy
    if full is None and sim.get("full_accuracy") is not None:
        full, full_source = float(sim["full_accuracy"]), "simulate file"
    if full is None:
        full = accuracy(fitter.proba(xp, yp, [xt])[0], yt)
        full_source = "scikit-learn full pool at --c"
    t0 = time.perf_counter()  # seconds = the sampling loop only (not featurising, not the full-pool fit)
    per_seed = []
    for seed, ids in seeds:
        missing = [i for i in ids if i not in pool_pos]
        if missing:
            notes.append(f"seed {seed}: {len(missing)} initial ids not in the pool (ignored), e.g. {missing[:3]}")
        labelled = np.zeros(len(yp), bool)
        labelled[[pool_pos[i] for i in ids if i in pool_pos]] = True
        curve = []
        for r in range(rounds + 1):
            lab = np.flatnonzero(labelled)
            unl = np.flatnonzero(~labelled)
            if r < rounds and len(unl):
                p_test, p_unl = fitter.proba(xp[lab], yp[lab], [xt, xp[unl]])
            else:
                (p_test,) = fitter.proba(xp[lab], yp[lab], [xt])
            curve.append({"labels": int(len(lab)), "accuracy": accuracy(p_test, yt)})
            if r < rounds and len(unl):
                labelled[unl[smallest_k(margins(p_unl), batch)]] = True
        log(f"  seed {seed}: " + " ".join(f"{pt['labels']}:{pt['accuracy']:.3f}" for pt in curve)
            + f"  [{time.perf_counter() - t0:.0f}s]")
        per_seed.append({"seed": seed, "curve": curve})
    seconds = time.perf_counter() - t0

    n_points = min(len(s["curve"]) for s in per_seed)
    mean_curve = [{"labels": float(np.mean([s["curve"][k]["labels"] for s in per_seed])),
                   "accuracy": float(np.mean([s["curve"][k]["accuracy"] for s in per_seed]))}
                  for k in range(n_points)]
    for pt in mean_curve:
        if pt["labels"].is_integer():
            pt["labels"] = int(pt["labels"])

    def labels_to(frac):
        for pt in mean_curve:
            if pt["accuracy"] >= frac * full:
                return pt["labels"]
        return None

    out = {"dataset": d.name, "strategy": "margin", "C": a.c, "batch": batch, "rounds": rounds,
           "seeds": len(per_seed), "pool_items": int(len(yp)), "test_items": int(len(yt)),
           "full_accuracy": full, "full_accuracy_source": full_source,
           "labels_to_95": labels_to(0.95), "labels_to_99": labels_to(0.99),
           "curve": mean_curve, "per_seed": per_seed, "seconds": seconds,
           "prune_zero_columns": a.prune, "blas_threads": blas_threads(), "notes": notes}
    emit(out, a.out)


if __name__ == "__main__":
    main()
