#!/usr/bin/env python3
"""Runs both PostgreSQL benchmarks of issue 13 on one throw-away cluster, from the package root:

    python3 experiments/postgres/run.py [--quorum .build/release/quorum] [--repeats 3] [--skip-import] [--skip-load]

1. import_bench.py: `quorum import` of 1,000,000 short texts into PostgreSQL vs psycopg 3 COPY into the
   same table on the same server (and `quorum import` into SQLite for reference), 3 repeats each;
2. load_bench.py: 50 annotators over HTTP (`quorum serve`), a PostgreSQL project vs a SQLite project,
   paced (1 s think time) and flat out.

Starts the cluster with scripts/postgres.sh (127.0.0.1, a free port, fsync=off), stops and deletes it at
the end. Needs a release build (.build/release/quorum) and `pip install "psycopg[binary]"`.
Writes experiments/postgres/results/import-*.json and load-*.json. About 15 minutes on 2 cores.
Exit status 1 when a check failed.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcommon  # noqa: E402
from pgcommon import log  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quorum", default=pgcommon.DEFAULT_QUORUM, help="the quorum binary (default: .build/release/quorum)")
    ap.add_argument("--repeats", type=int, default=3, help="import repeats per side")
    ap.add_argument("--items", type=int, default=1_000_000, help="lines in the import file")
    ap.add_argument("--skip-import", action="store_true")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--load-args", default="", help="extra arguments for load_bench.py, e.g. '--scenarios flat'")
    args = ap.parse_args()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        sys.exit('psycopg 3 is needed: pip install "psycopg[binary]"')
    quorum = os.path.abspath(args.quorum)
    if not os.path.exists(quorum):
        sys.exit(f"no quorum binary at {quorum}: swift build -c release --product quorum")
    here = pgcommon.HERE
    cluster_dir = tempfile.mkdtemp(prefix="quorum-pg-cluster-")
    log(f"starting a PostgreSQL cluster in {cluster_dir} …")
    cluster = pgcommon.Cluster(cluster_dir)
    log(f"cluster: {cluster.url}")
    status = 0
    t = time.perf_counter()
    try:
        common_args = ["--url", cluster.url, "--cluster-dir", cluster_dir, "--quorum", quorum]
        if not args.skip_import:
            p = subprocess.run([sys.executable, os.path.join(here, "import_bench.py"), *common_args,
                                "--repeats", str(args.repeats), "--items", str(args.items)],
                               stdout=subprocess.DEVNULL)
            status |= p.returncode
        if not args.skip_load:
            p = subprocess.run([sys.executable, os.path.join(here, "load_bench.py"), *common_args, *args.load_args.split()],
                               stdout=subprocess.DEVNULL)
            status |= p.returncode
    finally:
        cluster.stop()
        log(f"cluster stopped; {time.perf_counter() - t:.0f} s in all; results in {os.path.join(here, 'results')}")
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
