#!/usr/bin/env python3
"""numpy peer for Quorum's ensemble scoring kernel (QuorumNumerics.Ensemble.measures).

Generates (seeded) the ensemble probabilities once, as a raw little-endian float32
file of shape members x items x classes (member-major), then times numpy computing
each measure the natural vectorised way, best of --repeats, and writes numpy's
float64 results for the first --sample items so quorum-bench can check Swift's.

Usage:
    env -u OPENBLAS_CORETYPE python3 experiments/scoring/numpy_peer.py \
        [--members 5] [--items 1000000] [--classes 20] [--repeats 3] [--sample 1000] \
        [--data experiments/data/scoring]

Outputs (in --data, which is gitignored):
    probs_M{M}_n{n}_k{k}.f32     raw float32, M*n*k values; member m's n x k block at m*n*k
    reference_M{M}_n{n}_k{k}.f64 raw float64, sample x (7 + k): predicted, confidence, margin,
                                 entropy, vote_entropy, mean_kl, mutual_information, then the
                                 k mean probabilities
    numpy_times.json             the timings printed on stdout
"""
import argparse, json, os, time
import numpy as np

MEASURES = ["predicted", "confidence", "margin", "entropy", "vote_entropy", "mean_kl", "mutual_information"]


def generate(M, n, k, seed=20240617):
    """Softmax of normal logits: an item-level component shared by the members
    (so they mostly agree) plus member noise; ~3% of entries forced to exact zero
    in member 0 (renormalised) so 0 * log 0 is exercised."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, k), dtype=np.float32) * np.float32(2.5)
    P = np.empty((M, n, k), dtype=np.float32)
    for m in range(M):
        z = base + rng.standard_normal((n, k), dtype=np.float32) * np.float32(1.0)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        P[m] = z
    zero = rng.random((n, k)) < 0.03
    zero[:, 0] &= False  # keep at least one nonzero per row
    P[0][zero] = 0
    P[0] /= P[0].sum(axis=1, keepdims=True)
    return P


# ---- numpy, the natural way (float32 in, vectorised) -------------------------------------

def np_mean(P):
    return P.mean(axis=0)


def np_confidence(P):
    pbar = P.mean(axis=0)
    return pbar.argmax(axis=1), pbar.max(axis=1)      # predicted, confidence (least confidence = 1 - it)


def np_margin(P):
    pbar = P.mean(axis=0)
    top2 = np.partition(pbar, -2, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def np_entropy(P):
    pbar = P.mean(axis=0)
    return -(pbar * np.log(np.clip(pbar, 1e-12, None))).sum(axis=1)


def np_vote_entropy(P):
    M, n, k = P.shape
    votes = P.argmax(axis=2)                           # M x n
    counts = np.zeros((n, k), dtype=np.float32)
    rows = np.arange(n)
    for m in range(M):
        counts[rows, votes[m]] += 1
    q = counts / M
    return -(q * np.log(np.where(q > 0, q, 1))).sum(axis=1)


def np_mean_kl(P):
    pbar = P.mean(axis=0)
    logp = np.log(np.clip(P, 1e-12, None))
    logpbar = np.log(np.clip(pbar, 1e-12, None))
    return (P * (logp - logpbar[None])).sum(axis=2).mean(axis=0)


def np_bald(P):
    pbar = P.mean(axis=0)
    h_mean = -(pbar * np.log(np.clip(pbar, 1e-12, None))).sum(axis=1)
    h_members = -(P * np.log(np.clip(P, 1e-12, None))).sum(axis=2)   # M x n
    return h_mean - h_members.mean(axis=0)


def np_all(P):
    """Every measure, sharing p-bar and log P the way a careful numpy user would."""
    M, n, k = P.shape
    pbar = P.mean(axis=0)
    predicted = pbar.argmax(axis=1)
    confidence = pbar.max(axis=1)
    top2 = np.partition(pbar, -2, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    logpbar = np.log(np.clip(pbar, 1e-12, None))
    entropy = -(pbar * logpbar).sum(axis=1)
    logp = np.log(np.clip(P, 1e-12, None))
    plogp = (P * logp).sum(axis=2)                      # M x n
    mean_kl = (plogp - (P * logpbar[None]).sum(axis=2)).mean(axis=0)
    bald = entropy + plogp.mean(axis=0)
    votes = P.argmax(axis=2)
    counts = np.zeros((n, k), dtype=np.float32)
    rows = np.arange(n)
    for m in range(M):
        counts[rows, votes[m]] += 1
    q = counts / M
    vote_entropy = -(q * np.log(np.where(q > 0, q, 1))).sum(axis=1)
    return pbar, predicted, confidence, margin, entropy, vote_entropy, mean_kl, bald


# ---- float64 reference for the sample -----------------------------------------------------

def xlogx(x):
    return np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)


def reference(P32):
    P = P32.astype(np.float64)
    M, n, k = P.shape
    pbar = P.mean(axis=0)
    predicted = pbar.argmax(axis=1).astype(np.float64)
    confidence = pbar.max(axis=1)
    s = np.sort(pbar, axis=1)
    margin = s[:, -1] - s[:, -2]
    entropy = -xlogx(pbar).sum(axis=1)
    votes = P.argmax(axis=2)
    q = np.stack([(votes == c).sum(axis=0) for c in range(k)], axis=1) / M
    vote_entropy = -xlogx(q).sum(axis=1)
    # KL(p_m || pbar) with 0 log 0 = 0 (pbar > 0 wherever p_m > 0)
    logpbar = np.log(np.where(pbar > 0, pbar, 1.0))
    mean_kl = (xlogx(P) - np.where(P > 0, P * logpbar[None], 0.0)).sum(axis=2).mean(axis=0)
    bald = entropy - (-xlogx(P).sum(axis=2)).mean(axis=0)
    cols = [predicted, confidence, margin, entropy, vote_entropy, mean_kl, bald]
    return np.concatenate([np.stack(cols, axis=1), pbar], axis=1)


def best_of(fn, P, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(P)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data", "scoring"))
    a = ap.parse_args()
    M, n, k = a.members, a.items, a.classes
    os.makedirs(a.data, exist_ok=True)
    tag = f"M{M}_n{n}_k{k}"
    probs_path = os.path.join(a.data, f"probs_{tag}.f32")
    if os.path.exists(probs_path) and os.path.getsize(probs_path) == 4 * M * n * k:
        P = np.fromfile(probs_path, dtype="<f4").reshape(M, n, k)
    else:
        P = generate(M, n, k)
        P.astype("<f4").tofile(probs_path)
    ref = reference(P[:, : a.sample])
    ref.astype("<f8").tofile(os.path.join(a.data, f"reference_{tag}.f64"))

    timings = {}
    for name, fn in [("mean", np_mean), ("predicted+confidence", np_confidence), ("margin", np_margin),
                     ("entropy", np_entropy), ("vote_entropy", np_vote_entropy), ("mean_kl", np_mean_kl),
                     ("mutual_information", np_bald), ("all_shared", np_all)]:
        timings[name] = best_of(fn, P, a.repeats)

    # sanity: the shared version agrees with the float64 reference on the sample
    got = np_all(P[:, : a.sample])
    np.testing.assert_allclose(got[7], ref[:, 6], atol=1e-4)
    out = {"peer": "numpy (float32, vectorised)", "numpy": np.__version__, "members": M, "items": n,
           "classes": k, "repeats": a.repeats, "best_seconds": timings,
           "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
           "load_average_1m": os.getloadavg()[0], "probs": probs_path}
    with open(os.path.join(a.data, "numpy_times.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
