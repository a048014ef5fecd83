#!/usr/bin/env python3
"""Writes the markdown tables of experiments/learning/README.md from results/:
quorum_models.json (models.py), models_*.json (sklearn_models.py),
simulate/*.json (benchmark.py) and sampling_*.json (sklearn_sampling.py)."""
import glob, json, os
HERE = os.path.dirname(os.path.abspath(__file__))
R = os.path.join(HERE, "results")
ORDER = ["digits", "satellite", "reuters_r8", "reuters_r52", "rotten_tomatoes", "rotten_tomatoes_6k", "wordnet_verbs"]


def load(p):
    return json.load(open(p)) if os.path.exists(p) else None


def pct(x):
    return "–" if x is None else f"{100 * x:.2f}"


def models():
    q = load(os.path.join(R, "quorum_models.json")) or {}
    sk = {}
    for f in glob.glob(os.path.join(R, "models_*.json")):
        for d in load(f)["datasets"]:
            sk[d["dataset"]] = d
    print("| dataset | Quorum `train` (C, features) | sklearn best C on the same features | Δ | sklearn best TF-IDF pipeline | Δ | Quorum ECE | Quorum from 500 labels: acc, ECE (C) | sklearn best C from 500 | Quorum train s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in ORDER:
        if name not in q or name not in sk:
            continue
        f, s = q[name]["full"], sk[name]
        oracle = (s.get("oracle_pipeline") or {}).get("best")
        o = oracle["accuracy"] if oracle else None
        best500 = max(s["subset500"]["by_c"], key=lambda r: r["accuracy"])
        small = q[name]["labels_500"]
        delta_o = "–" if o is None else "%+.2f" % (100 * (f["test_accuracy"] - o))
        print(f"| {name} | {pct(f['test_accuracy'])} (C={f['c']:g}, {f['features']}) | {pct(s['best_accuracy'])} (C={s['best_c']:g}) "
              f"| {100 * (f['test_accuracy'] - s['best_accuracy']):+.2f} | {pct(o)} | "
              f"{delta_o} | {f['ece']:.3f} | "
              f"{pct(small['test_accuracy'])}, {small['ece']:.3f} (C={small['c']:g}) | {pct(best500['accuracy'])} (C={best500['C']:g}) | {f['seconds']:.1f} |")


def sampler():
    arms = ["default", "random", "margin", "least-confident"]
    print("| dataset | seeds | full-pool acc | " + " | ".join(f"{a} 95% / 99%" for a in arms)
          + " | sklearn margin 95% / 99% | default ÷ random at 99% |")
    print("|---|---|---|" + "---|" * (len(arms) + 2))
    for name in ORDER:
        runs = {a: load(os.path.join(R, "simulate", f"{name}__{a}.json")) for a in arms}
        if not runs["default"] and not runs["random"]:
            continue
        any_run = next(r for r in runs.values() if r)
        cells = []
        for a in arms:
            r = runs[a]
            cells.append("not run" if not r else f"{r['labels_to_95'] or '>' + str(r['curve'][-1]['labels'])} / "
                         f"{r['labels_to_99'] or '>' + str(r['curve'][-1]['labels'])}"
                         + ("" if r["seeds"] == any_run["seeds"] else f" ({r['seeds']} seeds)"))
        sk = None
        for f in glob.glob(os.path.join(R, "sampling_*.json")):
            x = load(f)
            if x.get("dataset") == name and "fake" not in f:
                sk = x
        skc = "not run" if not sk else f"{sk['labels_to_95'] or '>' + str(sk['curve'][-1]['labels'])} / {sk['labels_to_99'] or '>' + str(sk['curve'][-1]['labels'])}"
        d, r = runs["default"], runs["random"]
        ratio = "–"
        if d and r and d["labels_to_99"] and r["labels_to_99"]:
            ratio = f"{d['labels_to_99'] / r['labels_to_99']:.2f}"
        elif d and r and d["labels_to_99"] and not r["labels_to_99"]:
            ratio = f"< {d['labels_to_99'] / r['curve'][-1]['labels']:.2f}"
        print(f"| {name} | {any_run['seeds']} | {pct(any_run['full_accuracy'])} | " + " | ".join(cells) + f" | {skc} | {ratio} |")


def candidates():
    arms = ["default", "blend-none", "blend-kcenter", "blend-cluster-margin", "blend-weighted-kmeans", "uncertainty85", "auto", "random"]
    print("| dataset | " + " | ".join(arms) + " |")
    print("|---|" + "---|" * len(arms))
    for name in ORDER:
        runs = {a: load(os.path.join(R, "simulate", f"{name}__{a}.json")) for a in arms}
        if sum(1 for r in runs.values() if r) < 3:
            continue
        print(f"| {name} | " + " | ".join("–" if not r else f"{r['labels_to_95'] or '>'} / {r['labels_to_99'] or '>'}" for r in runs.values()) + " |")


def versus_random():
    """Mean over the curve of (arm - random) test accuracy, in points, with the last point of each."""
    arms = ["default", "auto", "margin", "least-confident"]
    print("| dataset | labels at the end | random at the end | " + " | ".join(f"{a}: mean Δ, at the end" for a in arms) + " |")
    print("|---|---|---|" + "---|" * len(arms))
    for name in ORDER:
        base = load(os.path.join(R, "simulate", f"{name}__random.json"))
        if not base:
            continue
        cells = []
        for a in arms:
            r = load(os.path.join(R, "simulate", f"{name}__{a}.json"))
            if not r or len(r["curve"]) != len(base["curve"]):
                cells.append("–")
                continue
            diffs = [x["accuracy"] - y["accuracy"] for x, y in zip(r["curve"], base["curve"])]
            cells.append(f"{100 * sum(diffs) / len(diffs):+.2f}, {pct(r['curve'][-1]['accuracy'])}")
        print(f"| {name} | {base['curve'][-1]['labels']} | {pct(base['curve'][-1]['accuracy'])} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    print("### Model\n"); models()
    print("\n### Sampler (labels to 95% / 99% of the full-pool accuracy)\n"); sampler()
    print("\n### Candidates for the default (labels to 95% / 99%)\n"); candidates()
    print("\n### Against random over the whole curve (test accuracy, points)\n"); versus_random()
