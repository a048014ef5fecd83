#!/usr/bin/env python3
"""Label economy on six real datasets: `quorum simulate` arms, run through the
lead's path (round start -> answers -> round close), cached per (dataset, arm).

    python3 experiments/learning/benchmark.py [--jobs 2] [--arms random,default,...] [--datasets digits,...]
        [--seeds 5] [--fresh]

Each arm is one `quorum simulate --no-baseline` run (the random arm is the
uniform baseline), written to experiments/learning/results/simulate/DATASET__ARM.json;
an existing file is reused unless --fresh. Every arm of a dataset uses the same
seeds 1..S, the same initial labels and the same test split. Prints one line per
finished run. The tables are written by tables.py.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared", "datasets"))
LOCAL = os.path.join(ROOT, "experiments", "data", "learning")
OUT = os.path.join(HERE, "results", "simulate")
QUORUM = os.environ.get("QUORUM_BIN", os.path.join(ROOT, ".build", "release", "quorum"))

# dataset -> (path, batch, rounds): 30 rounds; batches sized so uniform random
# sampling can reach 99% of the full-pool accuracy within the run on most sets.
DATASETS = {
    "digits": (os.path.join(SHARED, "digits.jsonl"), 20, 30),
    "satellite": (os.path.join(LOCAL, "satellite.jsonl"), 40, 30),
    "reuters_r8": (os.path.join(SHARED, "reuters_r8.jsonl"), 50, 30),
    "reuters_r52": (os.path.join(SHARED, "reuters_r52.jsonl"), 50, 30),
    "rotten_tomatoes": (os.path.join(SHARED, "rotten_tomatoes.jsonl"), 100, 30),
    "wordnet_verbs": (os.path.join(LOCAL, "wordnet_verbs.jsonl"), 100, 30),
    # rotten_tomatoes again with batches of 200 (6,020 labels): in 3,020 labels no arm reliably reaches 95%.
    "rotten_tomatoes_6k": (os.path.join(SHARED, "rotten_tomatoes.jsonl"), 200, 30),
}

# arm -> extra simulate arguments (the default arm passes none: what a lead gets).
ARMS = {
    "default": [],
    "random": ["--blend", "random=1"],
    "margin": ["--blend", "uncertainty=1", "--uncertainty", "margin", "--diversity", "none"],
    "least-confident": ["--blend", "uncertainty=1", "--uncertainty", "least-confident", "--diversity", "none"],
    "blend-kcenter": ["--diversity", "k-center"],
    "blend-none": ["--diversity", "none"],   # the default until 2026-12-03
    "blend-cluster-margin": ["--diversity", "cluster-margin"],
    "blend-weighted-kmeans": ["--diversity", "weighted-kmeans++"],
    "uncertainty85": ["--blend", "uncertainty=0.85,random=0.15"],
    "blend60": ["--blend", "uncertainty=0.6,stratified=0.15,random=0.25"],
    "blend50": ["--blend", "uncertainty=0.5,stratified=0.2,random=0.3"],
    "auto": ["--blend", "auto"],
}


def run(dataset, arm, seeds, fresh):
    path, batch, rounds = DATASETS[dataset]
    out = os.path.join(OUT, f"{dataset}__{arm}.json")
    if os.path.exists(out) and not fresh:
        return dataset, arm, "cached", 0.0
    cmd = [QUORUM, "simulate", "--data", path, "--rounds", str(rounds), "--batch", str(batch),
           "--seeds", str(seeds), "--no-baseline", "--out", out + ".part", "--force"] + ARMS[arm]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    log = open(os.path.join(OUT, f"{dataset}__{arm}.log"), "w")
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env)
    seconds = time.time() - t0
    if r.returncode != 0:
        return dataset, arm, f"FAILED ({r.returncode}), see {log.name}", seconds
    os.replace(out + ".part", out)
    with open(out) as f:
        result = json.load(f)
    result["wall_seconds"] = round(seconds, 1)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    return dataset, arm, f"95%: {result['labels_to_95']}, 99%: {result['labels_to_99']}", seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--arms", default="random,default,margin,least-confident")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--fresh", action="store_true")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not os.path.exists(os.path.join(LOCAL, "wordnet_verbs.jsonl")):
        subprocess.run([sys.executable, os.path.join(HERE, "fetch_datasets.py")], check=True)
    jobs = [(d, arm) for arm in a.arms.split(",") for d in a.datasets.split(",")]
    with ThreadPoolExecutor(a.jobs) as pool:
        for dataset, arm, what, seconds in pool.map(lambda j: run(j[0], j[1], a.seeds, a.fresh), jobs):
            print(f"{dataset:16} {arm:22} {seconds:7.1f} s  {what}", flush=True)


if __name__ == "__main__":
    main()
