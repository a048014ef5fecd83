#!/usr/bin/env python3
"""Multi-label model (issue 15) on a real data set: Quorum's one-vs-rest
MultiLabelClassifier against scikit-learn's OneVsRestClassifier(LogisticRegression),
same split, same run.

Data: Yeast (Elisseeff & Weston 2001; 2,417 genes, 103 numeric features, 14
functional classes, ~4.2 per gene), as bundled in PyPI `river` 0.26.1
(river/datasets/yeast.csv.gz, BSD-3-Clause package; read locally, never
downloaded by river). Split: test = items whose fnv1a64(id) % 5 == 0, as in
experiments/learning.

Quorum: `quorum-bench multilabel` (release build) with the defaults: per label,
C and features by 5-fold cross-validation, 5 members, out-of-fold temperature.
scikit-learn: StandardScaler on the training rows, OneVsRestClassifier(
LogisticRegression(C)) for C in {0.01, 0.1, 1, 10, 100}; the best test micro F1
(an oracle: chosen on the test items) and the fit time at that C.

    python3 experiments/multilabel/run.py     # writes experiments/multilabel/results.json
"""
import gzip, io, json, os, subprocess, sys, time, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(ROOT, "experiments", "data", "multilabel")
sys.path.insert(0, os.path.join(ROOT, "experiments", "learning"))
from _common import fnv1a64  # noqa: E402  (also sets single-threaded BLAS)
import numpy as np  # noqa: E402


def fetch():
    os.makedirs(DATA, exist_ok=True)
    out = os.path.join(DATA, "yeast.jsonl")
    if os.path.exists(out):
        return out
    wheels = [f for f in os.listdir(DATA) if f.startswith("river-0.26.1") and f.endswith(".whl")]
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "river==0.26.1", "--no-deps", "-d", DATA], check=True)
        wheels = [f for f in os.listdir(DATA) if f.startswith("river-0.26.1") and f.endswith(".whl")]
    with zipfile.ZipFile(os.path.join(DATA, wheels[0])) as z:
        text = gzip.decompress(z.read("river/datasets/yeast.csv.gz")).decode()
    lines = text.strip().split("\n")
    header = lines[0].split(",")
    features = [i for i, h in enumerate(header) if h.startswith("Att")]
    classes = [i for i, h in enumerate(header) if h.startswith("Class")]
    with open(out, "w") as f:
        for n, line in enumerate(lines[1:]):
            cells = line.split(",")
            item = f"yeast-{n:04d}"
            f.write(json.dumps({"id": item, "vector": [float(cells[i]) for i in features],
                                "labels": [header[i] for i in classes if cells[i] == "1"],
                                "split": "test" if fnv1a64(item) % 5 == 0 else "train"}) + "\n")
    return out


def sklearn_side(path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, hamming_loss
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import StandardScaler
    rows = [json.loads(l) for l in open(path)]
    names = sorted({l for r in rows for l in r["labels"]}, key=lambda s: int(s[5:]))
    X = np.array([r["vector"] for r in rows]); Y = np.array([[int(n in r["labels"]) for n in names] for r in rows])
    test = np.array([r["split"] == "test" for r in rows])
    sc = StandardScaler().fit(X[~test])
    xtr, xte = sc.transform(X[~test]), sc.transform(X[test])
    out = []
    for c in [0.01, 0.1, 1.0, 10.0, 100.0]:
        t0 = time.perf_counter()
        m = OneVsRestClassifier(LogisticRegression(C=c, max_iter=1000)).fit(xtr, Y[~test])
        secs = time.perf_counter() - t0
        pred = (m.predict_proba(xte) > 0.5).astype(int)
        out.append({"C": c, "micro_f1": f1_score(Y[test], pred, average="micro"),
                    "macro_f1": f1_score(Y[test], pred, average="macro", zero_division=0),
                    "hamming_loss": hamming_loss(Y[test], pred), "fit_seconds": secs})
        print(f"  sklearn C={c:g}: micro F1 {out[-1]['micro_f1']:.4f} ({secs:.1f} s)", file=sys.stderr)
    return {"grid": out, "best": max(out, key=lambda r: r["micro_f1"]), "train_rows": int((~test).sum()), "test_rows": int(test.sum())}


def quorum_train(path, quorum_bin):
    """`quorum train` with its defaults on a multi-label project: the training split as seed, the test split as test."""
    import tempfile
    rows = [json.loads(l) for l in open(path)]
    names = sorted({l for r in rows for l in r["labels"]}, key=lambda s: int(s[5:]))
    with tempfile.TemporaryDirectory() as d:
        def q(*args):
            return subprocess.run([quorum_bin, *args, "--project", d + "/p"], capture_output=True, text=True, check=True,
                                  env=dict(os.environ, OPENBLAS_NUM_THREADS="1")).stdout
        q("init", "--task", "multi-label", "--labels", ",".join(names))
        for split, kind in (("train", "seed"), ("test", "test")):
            with open(f"{d}/{split}.jsonl", "w") as f:
                for r in rows:
                    if r["split"] == split:
                        f.write(json.dumps({"id": r["id"], "vector": r["vector"], "labels": r["labels"]}) + "\n")
            q("import", f"{d}/{split}.jsonl", "--as", kind)
        t0 = time.perf_counter()
        out = json.loads(q("train", "--format", "json"))
        out["wall_seconds"] = time.perf_counter() - t0
    print(f"  quorum train: micro F1 {out['micro_f1']:.4f} ({out['wall_seconds']:.1f} s)", file=sys.stderr)
    return {k: out[k] for k in ("micro_f1", "macro_f1", "hamming_loss", "test_accuracy", "ece", "c", "per_label", "wall_seconds")}


def simulate(path, quorum_bin, rounds=20, batch=40, seeds=5):
    """`quorum simulate` on the multi-label file: the default blend against uniform random, micro F1 per round."""
    out = os.path.join(HERE, "results_simulate.json")
    t0 = time.perf_counter()
    subprocess.run([quorum_bin, "simulate", "--data", path, "--rounds", str(rounds), "--batch", str(batch),
                    "--seeds", str(seeds), "--out", out, "--force"], check=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    r = json.load(open(out))
    curve, rand = r["curve"], r["random"]["curve"]
    diff = sum(a["accuracy"] - b["accuracy"] for a, b in zip(curve[1:], rand[1:])) / (len(curve) - 1)
    summary = {"metric": r["metric"], "full_pool": r["full_accuracy"], "labels_to_95": r["labels_to_95"], "labels_to_99": r["labels_to_99"],
               "random_labels_to_95": r["random"]["labels_to_95"], "random_labels_to_99": r["random"]["labels_to_99"],
               "mean_difference_points": round(100 * diff, 2), "end": curve[-1], "random_end": rand[-1],
               "seconds": round(time.perf_counter() - t0, 1)}
    print(f"  simulate: {summary}", file=sys.stderr)
    return summary


def main():
    path = fetch()
    quorum_bin = os.environ.get("QUORUM_BIN", os.path.join(ROOT, ".build", "release", "quorum"))
    bench = os.environ.get("QUORUM_BENCH", os.path.join(ROOT, ".build", "release", "quorum-bench"))
    if not os.path.exists(bench):
        subprocess.run(["swift", "build", "-c", "release", "--product", "quorum-bench"], cwd=ROOT, check=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    quorum = json.loads(subprocess.run([bench, "multilabel", "--data", path], capture_output=True, text=True, env=env, check=True).stdout)
    print(f"  quorum: micro F1 {quorum['micro_f1']:.4f} ({quorum['fit_seconds']:.1f} s)", file=sys.stderr)
    sk = sklearn_side(path)
    cli = quorum_train(path, quorum_bin)
    result = {"dataset": "yeast (river 0.26.1)", "quorum": quorum, "quorum_train": cli, "sklearn": sk,
              "micro_f1_difference_points": round(100 * (quorum["micro_f1"] - sk["best"]["micro_f1"]), 2),
              "train_micro_f1_difference_points": round(100 * (cli["micro_f1"] - sk["best"]["micro_f1"]), 2)}
    if "--no-simulate" not in sys.argv:
        result["simulate"] = simulate(path, quorum_bin)
    with open(os.path.join(HERE, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({"quorum_micro_f1": quorum["micro_f1"], "sklearn_best_micro_f1": sk["best"]["micro_f1"],
                      "difference_points": result["micro_f1_difference_points"]}))


if __name__ == "__main__":
    main()
