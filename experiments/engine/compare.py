#!/usr/bin/env python3
"""Pre-labelling engine vs scikit-learn (issue "Pre-labelling engine").

  compare.py prepare --out DIR
      Writes DIR/{digits,reuters_r8}_{train,test}.jsonl and DIR/labels.json.
      digits: test = rows whose 1-based line number is divisible by 5, train = the rest.
      reuters_r8: the published `split` field.
  compare.py sklearn --dataset digits|reuters_r8 --dir DIR --c C [--repeats N]
      scikit-learn's side on the same files; prints one JSON object.
      digits: StandardScaler + LogisticRegression(C, lbfgs, max_iter=1000).
      reuters_r8: TfidfVectorizer(ngram_range=(1,2), sublinear_tf=True) + the same.
      With --dump FILE (written by `quorum-bench engine --dump`), also fits
      scikit-learn on exactly the rows Quorum's configurations (a) and (b)
      learned from: one model on the same 80% (a's rows), and a 5-member
      bagged ensemble with the same bootstrap counts as sample_weight (b's rows
      and weights), both uncalibrated: they separate "less data / bagging"
      from "Quorum's solver or featurizer".
  compare.py table --dir DIR --out results.json
      Joins DIR/cli_*.json, DIR/bench_*.json and DIR/sklearn_*.json into
      results.json and prints the Markdown tables.

ECE: 15 equal-width bins on top-class confidence, [0,1/15), …, [14/15,1]
(confidence 1.0 in the last bin); ECE = Σ |b|/n · |acc(b) − conf(b)|,
computed as Quorum's Metrics.expectedCalibrationError does.
"""
import argparse, glob, json, os, sys, time

DATASETS = {
    "digits": "datasets/digits/digits.jsonl",              # relative to the package root
    "reuters_r8": "/work/shared/datasets/reuters_r8.jsonl",
}


def prepare(a):
    os.makedirs(a.out, exist_ok=True)
    labels = {}
    for name, path in DATASETS.items():
        train, test, seen = [], [], set()
        with open(path) as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                o = json.loads(line)
                seen.add(o["label"])
                if name == "digits":
                    is_test = lineno % 5 == 0
                else:
                    assert o["split"] in ("train", "test"), o["split"]
                    is_test = o["split"] == "test"
                (test if is_test else train).append(line if line.endswith("\n") else line + "\n")
        for part, rows in (("train", train), ("test", test)):
            with open(os.path.join(a.out, f"{name}_{part}.jsonl"), "w") as f:
                f.writelines(rows)
        labels[name] = sorted(seen, key=lambda s: (len(s), s)) if name == "digits" else sorted(seen)
        print(f"{name}: {len(train)} train, {len(test)} test, labels {','.join(labels[name])}", file=sys.stderr)
    with open(os.path.join(a.out, "labels.json"), "w") as f:
        json.dump(labels, f)


def ece15(proba, y):
    import numpy as np
    pred = proba.argmax(axis=1)
    conf = proba[np.arange(len(y)), pred]
    bins = np.minimum((conf * 15).astype(int), 14)
    total = 0.0
    for b in range(15):
        m = bins == b
        if m.any():
            total += abs((pred[m] == y[m]).sum() - conf[m].sum()) / len(y)
    return float(total)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def run_sklearn(a):
    import numpy as np
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_info

    labels = json.load(open(os.path.join(a.dir, "labels.json")))[a.dataset]
    index = {l: i for i, l in enumerate(labels)}
    tr = read_jsonl(os.path.join(a.dir, f"{a.dataset}_train.jsonl"))
    te = read_jsonl(os.path.join(a.dir, f"{a.dataset}_test.jsonl"))
    ytr = np.array([index[o["label"]] for o in tr])
    yte = np.array([index[o["label"]] for o in te])
    if a.dataset == "digits":
        xtr_raw = np.asarray([o["vector"] for o in tr], dtype=np.float64)
        xte_raw = np.asarray([o["vector"] for o in te], dtype=np.float64)
        make = lambda: StandardScaler()
        featurizer = "StandardScaler()"
    else:
        xtr_raw = [o["text"] for o in tr]
        xte_raw = [o["text"] for o in te]
        make = lambda: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        featurizer = "TfidfVectorizer(ngram_range=(1,2), sublinear_tf=True)"
    fit_total, fit_lr = [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        feat = make()
        xtr = feat.fit_transform(xtr_raw)
        t1 = time.perf_counter()
        model = LogisticRegression(C=a.c, max_iter=a.max_iter).fit(xtr, ytr)
        t2 = time.perf_counter()
        fit_total.append(t2 - t0)
        fit_lr.append(t2 - t1)
    diagnostics = None
    if a.dump:
        d = json.load(open(a.dump))
        rows = d["fit_rows"]
        pick = (lambda v: v[rows]) if a.dataset == "digits" else (lambda v: [v[i] for i in rows])
        f80 = make()
        x80 = f80.fit_transform(pick(xtr_raw))
        xte80 = f80.transform(xte_raw)
        y80 = ytr[rows]
        m80 = LogisticRegression(C=a.c, max_iter=a.max_iter).fit(x80, y80)
        p80 = m80.predict_proba(xte80)
        bag = np.zeros_like(p80)
        for counts in d["bootstrap_counts"]:
            mb = LogisticRegression(C=a.c, max_iter=a.max_iter).fit(x80, y80, sample_weight=np.asarray(counts, dtype=np.float64))
            bag += mb.predict_proba(xte80) / len(d["bootstrap_counts"])
        diagnostics = {
            "fit_rows": len(rows),
            "same_80pct_1_model": {"test_accuracy": float((p80.argmax(1) == yte).mean()), "test_ece": ece15(p80, yte)},
            "same_80pct_bagged": {"members": len(d["bootstrap_counts"]),
                                  "test_accuracy": float((bag.argmax(1) == yte).mean()), "test_ece": ece15(bag, yte)},
        }
    xte = feat.transform(xte_raw)
    proba = model.predict_proba(xte)
    acc = float((proba.argmax(axis=1) == yte).mean())
    blas = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for p in threadpool_info() if p.get("user_api") == "blas"]
    out = {
        "dataset": a.dataset, "c": a.c, "featurizer": featurizer,
        "model": f"LogisticRegression(C={a.c}, max_iter={a.max_iter}) (lbfgs, multinomial, tol=1e-4)",
        "sklearn": sklearn.__version__, "train_rows": len(ytr), "test_rows": len(yte),
        "features": int(xtr.shape[1]),
        "fit_seconds": fit_total, "fit_seconds_best": min(fit_total),
        "lr_fit_seconds_best": min(fit_lr),
        "iterations": int(np.max(model.n_iter_)), "converged": bool(np.max(model.n_iter_) < a.max_iter),
        "test_accuracy": acc, "test_ece": ece15(proba, yte),
        "diagnostics": diagnostics,
        "blas": blas, "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "load_average_1m": os.getloadavg()[0],
    }
    print(json.dumps(out))


def load_json(path):
    with open(path) as f:
        return json.load(f)


def table(a):
    rows = []
    for path in sorted(glob.glob(os.path.join(a.dir, "sklearn_*.json"))):
        sk = load_json(path)
        ds, c = sk["dataset"], sk["c"]
        tag = f"{ds}_c{c:g}"
        bench = load_json(os.path.join(a.dir, f"bench_{tag}.json"))
        by_cfg = {r["config"]: r for r in bench["results"]}
        cli = {m: load_json(os.path.join(a.dir, f"cli_{tag}_m{m}.json"))
               for m in (1, 5) if os.path.exists(os.path.join(a.dir, f"cli_{tag}_m{m}.json"))}
        cli_of = {"a": cli.get(1), "b": cli.get(5), "c": None}
        for cfg, label in (("a", "(a) CLI --members 1, calibrated (fits on 80%)"),
                           ("b", "(b) CLI default 5 members, calibrated (fits on 80%)"),
                           ("c", "(c) 1 model, 100% of train, no calibration")):
            r = by_cfg.get(cfg)
            if r is None:
                continue
            cl = cli_of[cfg]
            acc = cl["test_accuracy"] if cl else r["test_accuracy"]
            ece = cl["ece"] if cl else r["test_ece"]
            rows.append({
                "dataset": ds, "c": c, "config": cfg, "quorum": label,
                "source": "quorum train --format json" if cl else "quorum-bench engine",
                "fitted_on": (cl["fitted_on"] if cl else r["fitted_on"]),
                "test_accuracy": acc, "sklearn_test_accuracy": sk["test_accuracy"],
                "gap_points": 100 * (acc - sk["test_accuracy"]),
                "accuracy_within_0_5": abs(100 * (acc - sk["test_accuracy"])) <= 0.5,
                "test_ece_t1": r["test_ece_t1"], "test_ece": ece, "sklearn_test_ece": sk["test_ece"],
                "ece_at_most_0_05": (ece <= 0.05) if cfg != "c" else None,  # the target is after calibration
                "temperature": r["temperature"], "calibration": cl["calibration"] if cl else r["calibration"],
                "quorum_fit_seconds": cl["seconds"] if cl else r["fit_seconds_best"],
                "quorum_fit_seconds_bench": r["fit_seconds_best"],
                "sklearn_fit_seconds": sk["fit_seconds_best"], "sklearn_lr_fit_seconds": sk["lr_fit_seconds_best"],
                "quorum_iterations": r["iterations"], "quorum_converged": r["converged"],
                "sklearn_iterations": sk["iterations"],
                "quorum_features": r["vocabulary"] + r["vector_dimensions"], "sklearn_features": sk["features"],
                "sklearn_same_rows": (sk.get("diagnostics") or {}).get(
                    {"a": "same_80pct_1_model", "b": "same_80pct_bagged"}.get(cfg, ""), None),
                "bench_matches_cli": (abs(r["test_accuracy"] - cl["test_accuracy"]) < 1e-9
                                      and abs(r["test_ece"] - cl["ece"]) < 1e-6) if cl else None,
            })
    tree = open(os.path.join(a.dir, "tree.txt")).read() if os.path.exists(os.path.join(a.dir, "tree.txt")) else None
    bench_any = load_json(sorted(glob.glob(os.path.join(a.dir, "bench_*.json")))[0])
    out = {"generated": time.strftime("%Y-%m-%d %H:%M:%S"), "source_tree": tree,
           "quorum_blas": {k: bench_any.get(k) for k in ("blas_library", "blas_kernel", "blas_threads")},
           "replication_checks": {os.path.basename(p): load_json(p)["replication_check"]
                                  for p in sorted(glob.glob(os.path.join(a.dir, "bench_*.json")))},
           "rows": rows,
           "sklearn": rows and load_json(sorted(glob.glob(os.path.join(a.dir, "sklearn_*.json")))[0])["sklearn"]}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    pct = lambda x: f"{100 * x:.2f}"
    ok_ece = lambda r: "n/a (uncalibrated)" if r["config"] == "c" else ("yes" if r["ece_at_most_0_05"] else "**no**")
    print("| dataset | C | Quorum configuration | fitted on | Quorum acc % | sklearn acc % | gap (pts) | ≤0.5? "
          "| Quorum ECE T=1 | Quorum ECE calibrated (T) | sklearn ECE | ≤0.05? | Quorum fit s | CLI train s | sklearn fit s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        calibrated = (f"{r['test_ece']:.4f} (T={r['temperature']:.2f})" if r["config"] != "c" else "n/a (T=1)")
        print(f"| {r['dataset']} | {r['c']:g} | {r['quorum']} | {r['fitted_on']} | {pct(r['test_accuracy'])} "
              f"| {pct(r['sklearn_test_accuracy'])} | {r['gap_points']:+.2f} | {'yes' if r['accuracy_within_0_5'] else '**no**'} "
              f"| {r['test_ece_t1']:.4f} | {calibrated} | {r['sklearn_test_ece']:.4f} "
              f"| {ok_ece(r)} | {r['quorum_fit_seconds_bench']:.3f} "
              f"| {'' if r['config'] == 'c' else format(r['quorum_fit_seconds'], '.3f')} | {r['sklearn_fit_seconds']:.3f} |")
    print()
    print("Diagnostic: scikit-learn fitted on exactly the rows (and bootstrap weights) Quorum's (a) and (b) learned from, "
          "uncalibrated; compare with Quorum at T=1 (argmax does not depend on T).")
    print()
    print("| dataset | C | Quorum configuration | rows | Quorum acc % | sklearn same rows acc % | gap (pts) "
          "| Quorum ECE T=1 | sklearn same rows ECE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        d = r["sklearn_same_rows"]
        if not d:
            continue
        print(f"| {r['dataset']} | {r['c']:g} | {r['quorum'][:3]} | {r['fitted_on']} | {pct(r['test_accuracy'])} "
              f"| {pct(d['test_accuracy'])} | {100 * (r['test_accuracy'] - d['test_accuracy']):+.2f} "
              f"| {r['test_ece_t1']:.4f} | {d['test_ece']:.4f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare"); p.add_argument("--out", required=True)
    s = sub.add_parser("sklearn")
    s.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    s.add_argument("--dir", required=True)
    s.add_argument("--c", type=float, default=1.0)
    s.add_argument("--max-iter", type=int, default=1000)
    s.add_argument("--repeats", type=int, default=3)
    s.add_argument("--dump")
    t = sub.add_parser("table"); t.add_argument("--dir", required=True); t.add_argument("--out", required=True)
    a = ap.parse_args()
    {"prepare": prepare, "sklearn": run_sklearn, "table": table}[a.cmd](a)


if __name__ == "__main__":
    main()
