#!/usr/bin/env python3
"""Writes the deterministic benchmark inputs (seeded; the same bytes every run).

  data/texts_1m.jsonl      1,000,000 short-text items  {"id","text","source"}
  data/vectors_200k.jsonl    200,000 items with 128-float vectors {"id","vector","source"}
  data/digits_train.jsonl / data/digits_test.jsonl   the digits split for the CLI
      (test = 1-based line number divisible by 5)

Usage: gen_data.py [--out DIR] [--digits PATH]
Prints one JSON object per file: path, items, bytes, sha256. Existing files with
the expected item count are kept (the content is seeded, so regenerating gives the same bytes).
"""
import argparse, hashlib, json, os, random

WORDS = ("film movie plot actor actress scene ending story music camera director script "
         "great good fine dull boring brilliant slow funny sad long short dark bright "
         "loved hated enjoyed watched liked missed").split()
SOURCES = ["web", "app", "email", "survey"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def count_lines(path):
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def write_texts(path, n, seed=20240601):
    rng = random.Random(seed)
    with open(path + ".tmp", "w") as f:
        for i in range(n):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
            text = f"short review text number {i} about a {words}"
            f.write(json.dumps({"id": f"i{i}", "text": text, "source": rng.choice(SOURCES)},
                               separators=(",", ":")) + "\n")
    os.replace(path + ".tmp", path)


def write_vectors(path, n, dim=128, seed=20240602):
    rng = random.Random(seed)
    with open(path + ".tmp", "w") as f:
        for i in range(n):
            vec = ",".join(f"{rng.uniform(-1, 1):.5f}" for _ in range(dim))
            f.write(f'{{"id":"v{i}","vector":[{vec}],"source":"{rng.choice(SOURCES)}"}}\n')
    os.replace(path + ".tmp", path)


def write_digits(src, train_path, test_path):
    with open(src) as f, open(train_path, "w") as tr, open(test_path, "w") as te:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            (te if lineno % 5 == 0 else tr).write(line if line.endswith("\n") else line + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "data"))
    ap.add_argument("--digits", default=os.path.join(here, "..", "datasets", "digits", "digits.jsonl"))
    ap.add_argument("--texts", type=int, default=1_000_000)
    ap.add_argument("--vectors", type=int, default=200_000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    jobs = [("texts_1m.jsonl", a.texts, lambda p: write_texts(p, a.texts)),
            ("vectors_200k.jsonl", a.vectors, lambda p: write_vectors(p, a.vectors))]
    for name, n, make in jobs:
        path = os.path.join(a.out, name)
        if not (os.path.exists(path) and count_lines(path) == n):
            make(path)
    train = os.path.join(a.out, "digits_train.jsonl")
    test = os.path.join(a.out, "digits_test.jsonl")
    write_digits(a.digits, train, test)
    for name in ["texts_1m.jsonl", "vectors_200k.jsonl", "digits_train.jsonl", "digits_test.jsonl"]:
        path = os.path.join(a.out, name)
        print(json.dumps({"path": path, "items": count_lines(path), "bytes": os.path.getsize(path),
                          "sha256": sha256(path)}))


if __name__ == "__main__":
    main()
