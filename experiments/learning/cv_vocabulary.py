#!/usr/bin/env python3
"""Why cross-validation scores held-out rows as new items (CrossValidation.heldOutAsNewItems).

On wordnet_verbs (train split, 5 stratified folds), TF-IDF word 1-2-grams + LogisticRegression,
min df 1 and 2, C 10 and 100: out-of-fold accuracy with the vocabulary fitted on the whole
training split (as Quorum fitted it on the item table) and with the vocabulary fitted on the
training folds alone, against the test items. Prints one line per setting (about 2 minutes).

    python3 experiments/learning/cv_vocabulary.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402,F401  (single-threaded BLAS before numpy loads)
import numpy as np  # noqa: E402
from _common import QUORUM_TFIDF
from models import split
from benchmark import DATASETS
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
train, test = split(DATASETS['wordnet_verbs'][0])
X = [r['text'] for r in train]; y = np.array([r['label'] for r in train])
Xt = [r['text'] for r in test]; yt = np.array([r['label'] for r in test])
for min_df in (1, 2):
    params = dict(QUORUM_TFIDF, ngram_range=(1,2), min_df=min_df, sublinear_tf=True)
    for C in (10, 100):
        accs_in, accs_out = [], []
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
            # (a) vectorizer on all training texts (transductive, like Quorum's table)
            v = TfidfVectorizer(**params).fit(X)
            m = LogisticRegression(C=C, max_iter=300).fit(v.transform([X[i] for i in tr]), y[tr])
            accs_in.append((m.predict(v.transform([X[i] for i in te])) == y[te]).mean())
            # (b) vectorizer on the training fold only
            v = TfidfVectorizer(**params).fit([X[i] for i in tr])
            m = LogisticRegression(C=C, max_iter=300).fit(v.transform([X[i] for i in tr]), y[tr])
            accs_out.append((m.predict(v.transform([X[i] for i in te])) == y[te]).mean())
        v = TfidfVectorizer(**params).fit(X)
        m = LogisticRegression(C=C, max_iter=300).fit(v.transform(X), y)
        print(f"min_df={min_df} C={C}: cv(table vocab) {np.mean(accs_in):.4f}  cv(fold vocab) {np.mean(accs_out):.4f}  test {(m.predict(v.transform(Xt))==yt).mean():.4f}", flush=True)
