#!/usr/bin/env python3
"""Peer for `quorum import` on PostgreSQL: psycopg 3 COPY FROM STDIN into Quorum's own items table.

    peer_copy.py FILE URL

URL names a database that `quorum init --database URL` has just created (so `items` is exactly
Quorum's table: its primary key, UNIQUE(id), the content_hash index and the CHECKs). In one
transaction: read FILE line by line (json.loads), and for each line write one row with
psycopg's `cursor.copy()` / `write_row`:

    COPY items(key, id, kind, content_hash, text, meta) FROM STDIN

key = 1 … N in file order, kind = 'pool', content_hash = the first 64 bits of SHA-256(0x01 ‖ text ‖ 0x00)
read as a little-endian signed integer (what Quorum computes for a text item), meta = compact JSON of the
fields other than id/text/vector/label (NULL when none). Then COMMIT.

Does NOT: check for ids already in the table or repeated in the file (a repeat fails the whole COPY
on the UNIQUE index instead of being skipped), stage anything, run ANALYZE, or write an event.

Prints one JSON object: items, seconds (from opening the file to the commit's return), items_per_second.
"""
import hashlib
import json
import sys
import time

import psycopg

MAPPED = ("id", "text", "vector", "label")


def content_hash(text):
    h = hashlib.sha256()
    h.update(b"\x01")
    h.update(text.encode("utf-8"))
    h.update(b"\x00")
    return int.from_bytes(h.digest()[:8], "little", signed=True)


def main():
    path, url = sys.argv[1], sys.argv[2]
    conn = psycopg.connect(url)                       # not autocommit: one transaction
    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as f, conn.cursor() as cur:
        with cur.copy("COPY items(key, id, kind, content_hash, text, meta) FROM STDIN") as copy:
            for line in f:
                o = json.loads(line)
                text = o.get("text")
                meta = {k: v for k, v in o.items() if k not in MAPPED}
                n += 1
                copy.write_row((n, str(o["id"]), "pool", content_hash(text or ""), text,
                                json.dumps(meta, separators=(",", ":"), ensure_ascii=False) if meta else None))
    conn.commit()
    seconds = time.perf_counter() - t0
    count = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    conn.close()
    print(json.dumps({"items": n, "items_in_table": count, "seconds": round(seconds, 3),
                      "items_per_second": round(n / seconds), "psycopg": psycopg.__version__,
                      "psycopg_impl": psycopg.pq.__impl__}))


if __name__ == "__main__":
    main()
