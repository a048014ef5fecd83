#!/usr/bin/env python3
"""scikit-learn side of Quorum's learning benchmark: LogisticRegression baselines.

Usage:
  sklearn_models.py DATASET.jsonl [DATASET.jsonl ...] [--out FILE] [--no-grid] [--grid-datasets a,b]
                    [--no-lrcv] [--subset 500]

Per dataset (split and features as in _common.py, i.e. as Quorum does it):
 (a) "quorum_lr": LogisticRegression(lbfgs, max_iter=1000) on Quorum-equivalent features,
     trained on all train-split items, for C in {0.01, 0.1, 1, 10, 100}: test accuracy,
     ECE (15 bins), cold fit seconds, L-BFGS iterations; "best_c" = the C with the highest
     test accuracy (smallest C on ties) and "best_accuracy".
 (b) text only, "oracle_pipeline": best test accuracy of TF-IDF + LogisticRegression over
     ngram_range {(1,1),(1,2)} x min_df {1,2} x sublinear_tf {True,False} x C {0.1,1,10,100}
     (TF-IDF fitted on all train-split texts; token pattern/lowercase/smooth_idf/l2 as Quorum).
     The C path for each featurizer is warm-started in ascending C (same optimum, less time),
     so no fit seconds are reported for the grid. It is an oracle: chosen on the test set.
 (c) "subset500": as (a) but trained on the 500 train items with the smallest fnv1a64(id)
     (features still fitted on all train). Columns that are all-zero in those 500 rows are
     dropped before fitting: with an L2 penalty their weights stay exactly 0, so the model
     and its predictions are unchanged; it only saves L-BFGS work.
 (d) reuters_r8 only: LogisticRegressionCV(Cs=[0.01..100], cv=StratifiedKFold(5, shuffle=True,
     random_state=0), lbfgs, max_iter=1000, multinomial, scoring accuracy = the sklearn default)
     on all train items, Quorum-equivalent features: fit seconds (best of 2), chosen C, test
     accuracy. Also one fit with scoring="neg_log_loss" (chosen C, accuracy, seconds).
JSON goes to stdout (and --out); progress and a summary table go to stderr.
"""
import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402,F401  (sets single-threaded BLAS before numpy loads)

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold

from _common import (QUORUM_TFIDF, Dataset, accuracy, blas_threads, ece, fnv1a64,  # noqa: E402
                     log, proba_full)

CS = [0.01, 0.1, 1.0, 10.0, 100.0]
GRID_CS = [0.1, 1.0, 10.0, 100.0]


def record_warnings(caught, into):
    for w in caught:
        msg = f"{w.category.__name__}: {str(w.message).splitlines()[0][:200]}"
        if msg not in into:
            into.append(msg)


def c_path(xtr, ytr, xte, yte, n_classes, cs, timed=True):
    rows = []
    for c in cs:
        t0 = time.perf_counter()
        m = LogisticRegression(C=c, max_iter=1000).fit(xtr, ytr)
        secs = time.perf_counter() - t0
        p = proba_full(m, xte, n_classes)
        row = {"C": c, "accuracy": accuracy(p, yte), "ece": ece(p, yte)}
        if timed:
            row["fit_seconds"] = secs
        row["iterations"] = int(np.max(m.n_iter_))
        rows.append(row)
        log(f"    C={c:g}: acc {row['accuracy']:.4f} ece {row['ece']:.4f} ({secs:.1f}s, {row['iterations']} it)")
    return rows


def best_of(rows):
    best = max(rows, key=lambda r: (r["accuracy"], -r["C"]))  # highest accuracy, smallest C on ties
    return best["C"], best["accuracy"]


def oracle_grid(d, notes):
    ytr, yte = d.y[d.train], d.y[d.test]
    train_texts, test_texts = d.subset_raw(d.train), d.subset_raw(d.test)
    results = []
    t_start = time.perf_counter()
    for ngram in [(1, 1), (1, 2)]:
        for min_df in [1, 2]:
            for sub in [True, False]:
                params = dict(QUORUM_TFIDF, ngram_range=ngram, min_df=min_df, sublinear_tf=sub)
                fz = TfidfVectorizer(**params)
                xtr = fz.fit_transform(train_texts)
                xte = fz.transform(test_texts)
                m = LogisticRegression(max_iter=1000, warm_start=True)
                for c in GRID_CS:
                    m.set_params(C=c)
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        m.fit(xtr, ytr)
                    record_warnings(caught, notes)
                    acc = accuracy(proba_full(m, xte, len(d.classes)), yte)
                    results.append({"ngram_range": list(ngram), "min_df": min_df, "sublinear_tf": sub,
                                    "C": c, "accuracy": acc, "features": int(xtr.shape[1])})
                    log(f"    grid ngram={ngram} min_df={min_df} sublinear={sub} C={c:g}: acc {acc:.4f}"
                        f"  [{time.perf_counter() - t_start:.0f}s]")
    best = max(results, key=lambda r: r["accuracy"])  # first max in grid order on ties
    return {"best": best, "grid_seconds": time.perf_counter() - t_start, "all": results}


def subset_fit(d, xtr, xte, size, notes):
    order = sorted(range(len(d.train)), key=lambda k: fnv1a64(d.ids[d.train[k]]))
    pick = np.array(sorted(order[:size]))
    xs = xtr[pick]
    ys = d.y[d.train][pick]
    if hasattr(xs, "getnnz"):
        keep = np.flatnonzero(xs.getnnz(axis=0) > 0)
    else:
        keep = np.flatnonzero(np.any(xs != 0, axis=0))
    xs, xt = xs[:, keep], xte[:, keep]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = c_path(xs, ys, xt, d.y[d.test], len(d.classes), CS, timed=False)
    record_warnings(caught, notes)
    return {"items": int(len(pick)), "classes_present": int(len(np.unique(ys))),
            "columns_used": int(len(keep)), "by_c": rows}


def lrcv(xtr, ytr, xte, yte, n_classes, notes, scoring, repeats):
    times, m = [], None
    for _ in range(repeats):
        cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        est = LogisticRegressionCV(Cs=CS, cv=cv, solver="lbfgs", max_iter=1000, l1_ratios=(0.0,),
                                   scoring=scoring, use_legacy_attributes=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            est.fit(xtr, ytr)
            times.append(time.perf_counter() - t0)
        record_warnings(caught, notes)
        m = est
        log(f"    LogisticRegressionCV(scoring={scoring}): {times[-1]:.1f}s, C_={float(m.C_):g}")
    scores = np.asarray(m.scores_)  # (folds, l1_ratios, Cs)
    mean_scores = scores.reshape(scores.shape[0], -1, len(CS)).mean(axis=(0, 1))
    return {"scoring": scoring, "fit_seconds": times, "fit_seconds_best": min(times),
            "chosen_C": float(m.C_), "test_accuracy": accuracy(proba_full(m, xte, n_classes), yte),
            "cv_mean_score_by_C": {f"{c:g}": float(s) for c, s in zip(CS, mean_scores)}}


def run_dataset(path, args):
    d = Dataset(path)
    log(f"== {d.name}: {d.summary()}")
    notes = []
    out = d.summary()
    t0 = time.perf_counter()
    xtr, xte, _ = d.quorum_features()
    out["feature_columns"] = int(xtr.shape[1])
    out["featurize_seconds"] = time.perf_counter() - t0
    ytr, yte = d.y[d.train], d.y[d.test]
    log("  (a) Quorum-equivalent features, all train labels")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out["quorum_lr"] = c_path(xtr, ytr, xte, yte, len(d.classes), CS)
    record_warnings(caught, notes)
    out["best_c"], out["best_accuracy"] = best_of(out["quorum_lr"])
    if d.kind == "text" and args.grid and (not args.grid_datasets or d.name in args.grid_datasets):
        log("  (b) oracle TF-IDF + LR grid (progress below)")
        out["oracle_pipeline"] = oracle_grid(d, notes)
    log(f"  (c) {args.subset}-label subset (smallest fnv1a64(id))")
    out[f"subset{args.subset}"] = subset_fit(d, xtr, xte, args.subset, notes)
    if d.name == "reuters_r8" and args.lrcv:
        log("  (d) LogisticRegressionCV timing")
        out["lrcv"] = lrcv(xtr, ytr, xte, yte, len(d.classes), notes, "accuracy", 2)
        out["lrcv_neg_log_loss"] = lrcv(xtr, ytr, xte, yte, len(d.classes), notes, "neg_log_loss", 1)
    out["warnings"] = notes
    return out


def table(results, subset):
    lines = ["| dataset | C=0.01 | C=0.1 | C=1 | C=10 | C=100 | best C | oracle grid best | "
             f"{subset}-label acc by C | ECE at best C |", "|" + "---|" * 10]
    for r in results:
        accs = " | ".join(f"{row['accuracy']:.4f}" for row in r["quorum_lr"])
        bestrow = next(row for row in r["quorum_lr"] if row["C"] == r["best_c"])
        og = r.get("oracle_pipeline")
        ogs = (f"{og['best']['accuracy']:.4f} (ngram {tuple(og['best']['ngram_range'])}, min_df {og['best']['min_df']}, "
               f"sublinear {og['best']['sublinear_tf']}, C {og['best']['C']:g})") if og else "—"
        sub = "/".join(f"{row['accuracy']:.3f}" for row in r[f"subset{subset}"]["by_c"])
        lines.append(f"| {r['dataset']} | {accs} | {r['best_c']:g} | {ogs} | {sub} | {bestrow['ece']:.4f} |")
    lines += ["", "fit seconds (cold, all train): " + "; ".join(
        f"{r['dataset']}: " + "/".join(f"{row['fit_seconds']:.2f}" for row in r["quorum_lr"]) for r in results)]
    for r in results:
        for key in ("lrcv", "lrcv_neg_log_loss"):
            if key in r:
                v = r[key]
                lines.append(f"{r['dataset']} LogisticRegressionCV(scoring={v['scoring']}): best {v['fit_seconds_best']:.2f}s "
                             f"(runs {', '.join(f'{t:.2f}' for t in v['fit_seconds'])}), C_={v['chosen_C']:g}, "
                             f"test acc {v['test_accuracy']:.4f}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datasets", nargs="+")
    ap.add_argument("--out")
    ap.add_argument("--no-grid", dest="grid", action="store_false", help="skip (b)")
    ap.add_argument("--grid-datasets", type=lambda s: [x for x in s.split(",") if x],
                    help="run (b) only for these dataset names (comma-separated)")
    ap.add_argument("--no-lrcv", dest="lrcv", action="store_false", help="skip (d)")
    ap.add_argument("--subset", type=int, default=500)
    args = ap.parse_args()
    results = []
    meta = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cs": CS,
            "load_average_1m_start": os.getloadavg()[0], "cpus": os.cpu_count(),
            "blas_threads": blas_threads()}
    for path in args.datasets:
        results.append(run_dataset(path, args))
        doc = {"meta": meta, "datasets": results}
        if args.out:  # written after every dataset so a long run leaves partial results
            with open(args.out, "w") as f:
                json.dump(doc, f, indent=1)
    meta["load_average_1m_end"] = os.getloadavg()[0]
    doc = {"meta": meta, "datasets": results}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
    print(json.dumps(doc, indent=1))
    log(table(results, args.subset))


if __name__ == "__main__":
    main()
