"""Reference values for Agreement.pairwise (Tests/QuorumConsensusTests/AgreementTests.swift).

Data: Krippendorff's 4 observers x 12 units example with missing values
(Krippendorff 2011, "Computing Krippendorff's alpha-reliability"), the same
matrix the Fleiss' kappa reference test uses. For every pair of observers,
Cohen's kappa is scikit-learn's cohen_kappa_score over the units both rated
(complete cases), and percent agreement is the share of those units on which
they agree.

Run: python3 experiments/agreement/pairwise_reference.py
"""
import itertools

import numpy as np
from sklearn.metrics import cohen_kappa_score

N = None
observers = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]

for a, b in itertools.combinations(range(len(observers)), 2):
    shared = [(x, y) for x, y in zip(observers[a], observers[b]) if x is not None and y is not None]
    xs, ys = np.array([s[0] for s in shared]), np.array([s[1] for s in shared])
    kappa = cohen_kappa_score(xs, ys)
    print(f"({a}, {b}, {len(shared)}, {kappa!r}, {float(np.mean(xs == ys))!r}),")
