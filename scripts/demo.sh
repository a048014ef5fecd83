#!/usr/bin/env bash
# The main job: one full labelling round on the bundled digits dataset, with
# two simulated annotators, printing what the round bought.
#
#   pool 1,398 items · seed 40 · held-out test 359 (every 5th line)
#   train → round of 50 items × 2 annotators → consensus → close → snapshot → report
#
# The annotators are simulated from the dataset's true labels: "alice" is
# always right, "bob" is wrong on about 15% of items (seeded), so some items
# end in a dispute. Set QUORUM_DEMO_DIR to keep the project somewhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== building quorum (release)"
swift build -c release --product quorum 2>&1 | tail -1
quorum="$(swift build -c release --show-bin-path)/quorum"

data=datasets/digits/digits.jsonl
dir="${QUORUM_DEMO_DIR:-demo-project}"
rm -rf "$dir"
mkdir -p "$dir"
awk 'NR % 5 == 0' "$data" > "$dir/test.jsonl"
awk 'NR % 5 != 0 && ++n <= 40' "$data" > "$dir/seed.jsonl"
awk 'NR % 5 != 0 && ++n > 40' "$data" > "$dir/pool.jsonl"
# bob: a noisy copy of the true labels (seeded, so every run is the same)
awk 'BEGIN { srand(7) } { if (rand() < 0.15) sub(/"label": "[0-9]"/, "\"label\": \"" int(rand() * 10) "\""); print }' "$data" > "$dir/bob.jsonl"

q() { echo "\$ quorum $*"; "$quorum" "$@" --project "$dir"; }

echo "== a project with labels 0-9"
q init --labels 0,1,2,3,4,5,6,7,8,9 --name digits-demo
q import "$dir/pool.jsonl"
q import "$dir/seed.jsonl" --as seed
q import "$dir/test.jsonl" --as test
q doctor
echo "== the model before the round (40 seed labels)"
q train
echo "== round 1: 50 items picked by the default blend, 2 annotators each"
q round start --size 50 --overlap 2
q annotators add alice
q annotators add bob
q label --annotator alice --answers "$data"
q label --annotator bob --answers "$dir/bob.jsonl"
q round status
q consensus
echo "== closing the round: consensus, retrain, evaluate on the 359 test items"
q round close
q snapshot create -m "after round 1"
q snapshot export v1 --format jsonl --out "$dir/v1.jsonl"
q snapshot show v1
q annotators list
q report
q report --format html --out "$dir/report.html"
