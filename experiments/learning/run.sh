#!/usr/bin/env bash
# Reruns the whole learning benchmark and prints the tables of experiments/learning/README.md.
# Release build; every arm of a dataset runs on the same seeds, splits and initial labels;
# scikit-learn runs in the same session. Results are cached in experiments/learning/results/
# (pass FRESH=1 to recompute). Takes hours on 2 cores: see README.md for what each step costs.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup.sh
python3 -c "import sklearn" 2>/dev/null || pip install scikit-learn
swift build -c release --product quorum
fresh=${FRESH:+--fresh}
python3 experiments/learning/fetch_datasets.py
# Label economy: the lead's path (quorum simulate), then scikit-learn margin sampling on the same splits.
python3 experiments/learning/benchmark.py --arms random,default,margin,least-confident \
  --datasets digits,satellite,reuters_r8,reuters_r52,rotten_tomatoes,wordnet_verbs $fresh
python3 experiments/learning/benchmark.py --arms blend-kcenter,blend-cluster-margin,auto --datasets digits,satellite $fresh
python3 experiments/learning/benchmark.py --arms auto --datasets reuters_r8,rotten_tomatoes,wordnet_verbs $fresh
python3 experiments/learning/benchmark.py --arms random,default --datasets rotten_tomatoes_6k $fresh
for name in digits satellite reuters_r8 reuters_r52 rotten_tomatoes wordnet_verbs; do
  sim=experiments/learning/results/simulate/${name}__random.json
  c=$(python3 -c "import json,glob; print(next((d['best_c'] for f in glob.glob('experiments/learning/results/models_*.json') for d in json.load(open(f))['datasets'] if d['dataset']=='$name'), 1.0))")
  path=$(python3 -c "import sys; sys.path.insert(0,'experiments/learning'); from benchmark import DATASETS; print(DATASETS['$name'][0])")
  python3 experiments/learning/sklearn_sampling.py "$path" "$sim" --c "$c" --out "experiments/learning/results/sampling_${name}.json"
done
# Models: quorum train against scikit-learn on the same splits (and LogisticRegressionCV timing on reuters_r8).
python3 experiments/learning/models.py
python3 experiments/learning/sklearn_models.py /work/shared/datasets/{digits,reuters_r8,rotten_tomatoes}.jsonl --out experiments/learning/results/models_main.json
python3 experiments/learning/sklearn_models.py experiments/data/learning/{satellite,wordnet_verbs}.jsonl --no-lrcv --out experiments/learning/results/models_extra.json
python3 experiments/learning/sklearn_models.py /work/shared/datasets/reuters_r52.jsonl --no-lrcv --no-grid --out experiments/learning/results/models_r52.json
# How much of scikit-learn's best-C accuracy on the hard text sets is where its solver stops.
python3 experiments/learning/solver_tolerance.py rotten_tomatoes wordnet_verbs
python3 experiments/learning/tables.py
