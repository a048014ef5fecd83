#!/usr/bin/env python3
"""Model table: `quorum train` (defaults: C and features chosen by 5-fold
cross-validation, out-of-fold calibration) on each dataset's training split,
scored on its test split; also from 500 labels (the 500 training items with
the smallest fnv1a64(id), as sklearn_models.py takes them; the rest of the
training split is imported as unlabelled pool, so the vocabulary sees it).

    python3 experiments/learning/models.py [--datasets a,b] -> results/quorum_models.json
"""
import argparse, json, os, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import fnv1a64  # noqa: E402
from benchmark import DATASETS, QUORUM, HERE  # noqa: E402


def split(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    has_split = any("split" in r for r in rows)
    test = [r for r in rows if (r.get("split") == "test" if has_split else fnv1a64(r["id"]) % 5 == 0)]
    ids = {r["id"] for r in test}
    return [r for r in rows if r["id"] not in ids], test


def quorum(project, *args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([QUORUM, *args, "--project", project, "--format", "json"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"quorum {' '.join(args)}: {out.stderr}")
    return json.loads(out.stdout) if out.stdout.strip().startswith("{") else None


def run(name, path, seed_rows, pool_rows, test_rows, labels, tmp):
    project = os.path.join(tmp, name)
    quorum(project, "init", "--labels", ",".join(labels))
    for kind, rows in (("seed", seed_rows), ("pool", pool_rows), ("test", test_rows)):
        if not rows:
            continue
        f = os.path.join(tmp, f"{name}-{kind}.jsonl")
        with open(f, "w") as out:
            for r in rows:
                r = dict(r)
                if kind == "pool":
                    r.pop("label", None)
                out.write(json.dumps(r) + "\n")
        quorum(project, "import", f, "--as", kind)
    t0 = time.time()
    result = quorum(project, "train")
    result["wall_seconds"] = round(time.time() - t0, 2)
    return {k: result.get(k) for k in ("test_accuracy", "macro_f1", "ece", "c", "features", "seconds", "wall_seconds", "trained_on")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=",".join(d for d in DATASETS if not d.endswith("_6k")))
    a = ap.parse_args()
    out_path = os.path.join(HERE, "results", "quorum_models.json")
    results = json.load(open(out_path)) if os.path.exists(out_path) else {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.datasets.split(","):
            path = DATASETS[name][0]
            train, test = split(path)
            labels = list(dict.fromkeys(json.loads(l)["label"] for l in open(path) if l.strip()))
            full = run(name + "-full", path, train, [], test, labels, tmp)
            order = sorted(train, key=lambda r: fnv1a64(r["id"]))
            small = run(name + "-500", path, order[:500], order[500:], test, labels, tmp)
            results[name] = {"full": full, "labels_500": small}
            print(name, json.dumps(results[name]), flush=True)
            with open(out_path, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
