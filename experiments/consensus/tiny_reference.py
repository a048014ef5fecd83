"""Reference numbers for DawidSkeneTests (the crowd-kit comparison on a tiny table).

The table: 8 tasks x 4 workers, labels a/b/c. w1-w3 answer correctly with
probability 0.8/0.7/0.6 (otherwise a uniform label), w4 is a spammer (uniform
labels); drawn once with numpy.random.default_rng(4) (picked among seeds 0-299 as
the one with the most posteriors strictly between 0.55 and 0.98, so the comparison
is not all 0s and 1s) and written out literally below.

Prints, as Swift literals, crowd-kit's labels, posteriors (probas_), priors and
each worker's error matrix (transposed to rows = true class) for two runs:
  A. DawidSkene(n_iter=100, tol=1e-5): crowd-kit's defaults. crowd-kit stops when
     the ELBO per answer gains less than tol, which here happens after 5 EM
     iterations while posteriors still move by 0.27 per iteration.
  B. DawidSkene(n_iter=1000, tol=-inf): 1000 iterations, the fixed point.

    env -u OPENBLAS_CORETYPE python3 experiments/consensus/tiny_reference.py
"""
import math

import pandas as pd
from crowdkit.aggregation import DawidSkene

ROWS = [
    # task, worker, label         (truth: c c c b c c c a)
    (1, "w1", "c"), (1, "w2", "c"), (1, "w3", "b"), (1, "w4", "a"),
    (2, "w1", "a"), (2, "w2", "b"), (2, "w3", "c"), (2, "w4", "c"),
    (3, "w1", "c"), (3, "w2", "b"), (3, "w3", "c"), (3, "w4", "c"),
    (4, "w1", "c"), (4, "w2", "b"), (4, "w3", "a"), (4, "w4", "c"),
    (5, "w1", "a"), (5, "w2", "c"), (5, "w3", "c"), (5, "w4", "b"),
    (6, "w1", "c"), (6, "w2", "c"), (6, "w3", "c"), (6, "w4", "b"),
    (7, "w1", "c"), (7, "w2", "c"), (7, "w3", "c"), (7, "w4", "c"),
    (8, "w1", "a"), (8, "w2", "a"), (8, "w3", "a"), (8, "w4", "b"),
]
LABELS = ["a", "b", "c"]


def report(tag, n_iter, tol):
    df = pd.DataFrame(ROWS, columns=["task", "worker", "label"])
    ds = DawidSkene(n_iter=n_iter, tol=tol)
    labels = ds.fit_predict(df)
    probas = ds.probas_[LABELS].sort_index()
    print(f"// {tag}: DawidSkene(n_iter={n_iter}, tol={tol}) ran {len(ds.loss_history_)} EM iterations")
    print(f"let labels{tag} = [" + ", ".join(f'"{labels[t]}"' for t in sorted(labels.index)) + "]")
    print(f"let posteriors{tag}: [[Double]] = [")
    for t, row in probas.iterrows():
        print("    [" + ", ".join(f"{v:.10f}" for v in row) + f"],  // task {t}")
    print("]")
    print(f"let priors{tag}: [Double] = [" + ", ".join(f"{ds.priors_[l]:.10f}" for l in LABELS) + "]")
    err = ds.errors_  # index (worker, observed label), columns = true label
    print(f"let confusion{tag}: [String: [[Double]]] = [")
    for w in sorted(df.worker.unique()):
        m = []
        for c in LABELS:
            row = [float(err.loc[(w, l), c]) if (w, l) in err.index else 0.0 for l in LABELS]
            m.append("[" + ", ".join(f"{v:.10f}" for v in row) + "]")
        print(f'    "{w}": [' + ", ".join(m) + "],")
    print("]")


report("A", 100, 1e-5)
report("B", 1000, -math.inf)
