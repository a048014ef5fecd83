"""Shared helpers for the scikit-learn side of Quorum's learning benchmark.

Everything here mirrors a Quorum convention; keep it in step with the Swift code:
- split: an item is test when its "split" field == "test"; an item without a
  "split" field is test when fnv1a64(id as UTF-8) % 5 == 0 (this is what
  SimulationService does, per item); everything else is train.
- text features: TF-IDF (uni+bigrams, sublinear tf, smooth idf, l2) with
  vocabulary and IDF fitted on all train-split texts;
- vector features: StandardScaler fitted on all train-split vectors
  (a zero-variance column gets scale 1, as sklearn does);
- ECE: 15 equal-width bins on the top-class probability, bin = min(floor(p*15), 14)
  (Metrics.expectedCalibrationError); predicted class = argmax, lowest index on ties.
"""
import json
import os
import sys

# Single-threaded BLAS unless the caller says otherwise. On this 2-core box, shared with
# Swift builds, multi-threaded OpenBLAS was ~200x slower (busy-waiting threads).
# Must happen before numpy is imported, so every script imports _common first.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1

QUORUM_TFIDF = dict(token_pattern=r"(?u)\b\w\w+\b", lowercase=True, ngram_range=(1, 2),
                    sublinear_tf=True, smooth_idf=True, norm="l2", min_df=1)


def fnv1a64(data):
    """FNV-1a 64-bit of a str (hashed as UTF-8) or bytes."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return h


def blas_threads():
    return {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Dataset:
    """A JSONL dataset with Quorum's train/test split.

    Attributes: name, path, kind ("text" or "vector"), ids, labels (str list),
    classes (sorted unique label strings), y (int codes into classes),
    raw (list of texts or an (n, d) float array), train / test (index arrays, file order),
    has_split (whether any row carried a "split" field).
    """

    def __init__(self, path):
        import os
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        ids, labels, texts, vectors, splits = [], [], [], [], []
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                o = json.loads(line)
                ids.append(str(o["id"]))
                labels.append(str(o["label"]))
                texts.append(o.get("text"))
                vectors.append(o.get("vector"))
                splits.append(o.get("split"))
        if all(t is not None for t in texts):
            self.kind = "text"
            self.raw = [str(t) for t in texts]
        elif all(v is not None for v in vectors):
            self.kind = "vector"
            self.raw = np.asarray(vectors, dtype=np.float64)
        else:
            raise ValueError(f"{path}: every row needs 'text' (or every row 'vector')")
        self.ids = ids
        self.labels = labels
        self.classes = sorted(set(labels))
        index = {c: i for i, c in enumerate(self.classes)}
        self.y = np.array([index[l] for l in labels], dtype=np.int64)
        self.has_split = any(s is not None for s in splits)
        is_test = np.array([(s == "test") if s is not None else (fnv1a64(i) % 5 == 0)
                            for i, s in zip(ids, splits)])
        self.train = np.flatnonzero(~is_test)
        self.test = np.flatnonzero(is_test)
        self.id_index = {i: k for k, i in enumerate(ids)}

    def subset_raw(self, idx):
        if self.kind == "text":
            return [self.raw[i] for i in idx]
        return self.raw[idx]

    def quorum_features(self, **tfidf_overrides):
        """(X_train, X_test, featurizer) with Quorum-equivalent features fitted on the train split."""
        if self.kind == "text":
            params = dict(QUORUM_TFIDF)
            params.update(tfidf_overrides)
            fz = TfidfVectorizer(**params)
            xtr = fz.fit_transform(self.subset_raw(self.train))
        else:
            fz = StandardScaler()
            xtr = fz.fit_transform(self.subset_raw(self.train))
        xte = fz.transform(self.subset_raw(self.test))
        return xtr, xte, fz

    def summary(self):
        return {"dataset": self.name, "kind": self.kind, "items": len(self.ids),
                "train": int(len(self.train)), "test": int(len(self.test)),
                "classes": len(self.classes), "split_from": "field" if self.has_split else "fnv1a64(id) % 5"}


def argmax_lowest(p):
    """Row argmax, lowest index on ties (numpy's argmax already does this)."""
    return np.argmax(p, axis=1)


def accuracy(p, y):
    return float(np.mean(argmax_lowest(p) == y))


def ece(p, y, bins=15):
    """Quorum's ECE: bin = min(floor(conf * bins), bins - 1)."""
    pred = argmax_lowest(p)
    conf = p[np.arange(len(y)), pred]
    b = np.minimum((conf * bins).astype(np.int64), bins - 1)
    correct = (pred == y).astype(np.float64)
    total = 0.0
    for k in range(bins):
        m = b == k
        if m.any():
            total += abs(correct[m].sum() - conf[m].sum())
    return float(total / len(y))


def proba_full(model, x, n_classes):
    """predict_proba expanded to all dataset classes (columns for classes absent from training are 0)."""
    p = model.predict_proba(x)
    if p.shape[1] == n_classes and np.array_equal(model.classes_, np.arange(n_classes)):
        return p
    out = np.zeros((p.shape[0], n_classes))
    out[:, model.classes_] = p
    return out


def margins(p):
    """p1 - p2 per row (top two probabilities)."""
    if p.shape[1] < 2:
        return np.ones(p.shape[0])
    part = np.partition(p, p.shape[1] - 2, axis=1)
    return part[:, -1] - part[:, -2]


def smallest_k(values, k):
    """Indices of the k smallest values, ties broken by lowest index (stable sort)."""
    return np.argsort(values, kind="stable")[:k]


def emit(result, path=None):
    """Prints `result` as indented JSON, and writes the same text to `path` when given."""
    text = json.dumps(result, indent=1)
    if path:
        with open(path, "w") as f:
            f.write(text)
    print(text)
