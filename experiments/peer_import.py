#!/usr/bin/env python3
"""Peer for Quorum's import: json.loads per line + sqlite3 executemany, one transaction.

Usage: peer_import.py FILE DB [--schema minimal|matched]

  minimal  items(key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text, vector BLOB, meta)
  matched  Quorum's items table (kind, content_hash, label, two extra indexes,
           ON CONFLICT(id) DO NOTHING) with the same SHA-256 content hash Quorum computes.

--cache-size N sets PRAGMA cache_size (a diagnostic: how much of the matched
schema's time is the 2 MB default page cache spilling to the WAL file).

Vectors are stored as little-endian float32 BLOBs (as Quorum does); every field
other than id/text/vector/label is kept as compact JSON metadata.
Prints one JSON object: items, seconds (open -> commit), items_per_second.
"""
import argparse, hashlib, json, os, sqlite3, sys, time
from array import array

MINIMAL = """CREATE TABLE items (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
             text TEXT, vector BLOB, meta TEXT)"""
MATCHED = """CREATE TABLE items (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
             kind TEXT NOT NULL CHECK (kind IN ('pool','seed','test','gold')),
             content_hash TEXT NOT NULL, text TEXT, vector BLOB, meta TEXT, label TEXT,
             CHECK (kind = 'pool' OR label IS NOT NULL));
             CREATE INDEX items_by_content ON items(content_hash);
             CREATE INDEX items_by_kind ON items(kind);"""
MAPPED = ("id", "text", "vector", "label")


def rows(path, matched):
    with open(path, "rb") as f:
        for line in f:
            o = json.loads(line)
            text = o.get("text")
            vec = o.get("vector")
            blob = array("f", vec).tobytes() if vec is not None else None
            meta = {k: v for k, v in o.items() if k not in MAPPED}
            meta = json.dumps(meta, separators=(",", ":"), ensure_ascii=False) if meta else None
            if matched:
                h = hashlib.sha256()
                if text is not None:
                    h.update(b"\x01")
                    h.update(text.encode())
                h.update(b"\x00")
                if blob is not None:
                    h.update(b"\x02")
                    h.update(blob)
                yield (str(o["id"]), "pool", h.hexdigest(), text, blob, meta, None)
            else:
                yield (str(o["id"]), text, blob, meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("db")
    ap.add_argument("--schema", choices=["minimal", "matched"], default="minimal")
    ap.add_argument("--cache-size", type=int, default=None,
                    help="PRAGMA cache_size (negative = KiB); default: SQLite's own (-2000, i.e. 2 MB), as Quorum")
    a = ap.parse_args()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(a.db + suffix):
            os.remove(a.db + suffix)
    t0 = time.perf_counter()
    con = sqlite3.connect(a.db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    if a.cache_size is not None:
        con.execute(f"PRAGMA cache_size={a.cache_size}")
    con.executescript(MATCHED if a.schema == "matched" else MINIMAL)
    matched = a.schema == "matched"
    sql = ("INSERT INTO items(id, kind, content_hash, text, vector, meta, label) VALUES (?,?,?,?,?,?,?) "
           "ON CONFLICT(id) DO NOTHING") if matched else \
          "INSERT INTO items(id, text, vector, meta) VALUES (?,?,?,?)"
    con.execute("BEGIN")
    con.executemany(sql, rows(a.file, matched))
    con.execute("COMMIT")
    n = con.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    con.close()
    seconds = time.perf_counter() - t0
    print(json.dumps({"peer": "python json.loads + sqlite3 executemany", "schema": a.schema, "file": a.file,
                      "items": n, "seconds": seconds, "cache_size": a.cache_size, "items_per_second": n / seconds,
                      "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}))


if __name__ == "__main__":
    main()
