"""Reference numbers for Quorum's ModelAware (CROWDLAB) unit test.

Runs cleanlab's get_label_quality_multiannotator (consensus_method="best_quality",
quality_method="crowdlab", the defaults) on a hand-written 7 items x 3 annotators
table, 3 classes, with hand-written model probabilities, and prints the consensus
labels, consensus quality scores (the posterior of the label), model and annotator
weights, agreement with consensus, and the full posterior rows (cleanlab's internal
_get_post_pred_probs_and_weights evaluated at the final consensus, which is what
the quality scores are read from).

    pip install --target /tmp/clpkg --no-deps cleanlab==2.9.0 termcolor tqdm
    PYTHONPATH=/tmp/clpkg env -u OPENBLAS_CORETYPE python3 experiments/consensus/crowdlab_reference.py
"""
import numpy as np
import pandas as pd
import cleanlab
from cleanlab.multiannotator import get_label_quality_multiannotator, _get_post_pred_probs_and_weights

nan = np.nan
# rows = items 1..7, columns = annotators a, b, c; classes 0, 1, 2 (Quorum: "x", "y", "z")
labels = pd.DataFrame({
    "a": [0, 1, 2, 0, 1, nan, 2],
    "b": [0, 1, 1, 1, nan, 2, nan],
    "c": [0, 2, 1, 0, nan, nan, 0],
})
pred_probs = np.array([
    [0.80, 0.10, 0.10],
    [0.20, 0.30, 0.50],
    [0.10, 0.60, 0.30],
    [0.30, 0.60, 0.10],
    [0.50, 0.40, 0.10],
    [0.10, 0.20, 0.70],
    [0.25, 0.25, 0.50],
])
out = get_label_quality_multiannotator(labels, pred_probs, return_weights=True, verbose=False)
q = out["label_quality"]
print("cleanlab", cleanlab.__version__)
print("consensus_label", q["consensus_label"].tolist())
print("consensus_quality_score", [f"{x:.10f}" for x in q["consensus_quality_score"]])
print("model_weight", f"{out['model_weight']:.10f}")
print("annotator_weight", [f"{x:.10f}" for x in out["annotator_weight"]])
stats = out["annotator_stats"].sort_index()
print("agreement_with_consensus", stats["agreement_with_consensus"].round(10).to_dict())
num = labels.count(axis=1).to_numpy()
cons = q["consensus_label"].to_numpy()
agree = np.array([np.mean(labels.iloc[i].dropna().to_numpy() == cons[i]) for i in range(len(cons))])
post, mw, aw = _get_post_pred_probs_and_weights(labels.to_numpy(), cons, pred_probs, num, agree, verbose=False)
for row in post:
    print("[" + ", ".join(f"{x:.10f}" for x in row) + "],")
