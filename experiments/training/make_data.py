"""Writes the training-speed benchmark data: 50,000 train + 10,000 test rows,
128 float32 features, 10 classes (Gaussian classes around random means),
seeded, as raw little-endian files read by both sides.

Usage: python3 experiments/training/make_data.py [OUT_DIR]
"""
import os, sys
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "experiments/data/training"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261122)
d, k = 128, 10
means = rng.normal(0, 0.35, size=(k, d)).astype(np.float32)
for name, n in (("train", 50_000), ("test", 10_000)):
    y = rng.integers(0, k, size=n).astype(np.int32)
    x = (means[y] + rng.normal(0, 1, size=(n, d))).astype(np.float32)
    x.tofile(os.path.join(out, f"{name}_x.f32"))
    y.tofile(os.path.join(out, f"{name}_y.i32"))
print(out)
