#!/usr/bin/env python3
"""Benchmark 1: `quorum import` of 1,000,000 short texts into PostgreSQL, against psycopg 3 COPY
into the same table on the same server, and against `quorum import` into SQLite for reference.

    python3 experiments/postgres/import_bench.py --url postgresql://postgres@127.0.0.1:PORT/quorum \
        --cluster-dir DIR [--quorum .build/release/quorum] [--repeats 3] [--items 1000000]

Normally started by run.py, which starts the cluster. Each repeat, in this order:
  quorum → PostgreSQL: fresh database, `quorum init --labels A,B --database URL`, CHECKPOINT,
      then `quorum import FILE --format json` timed (wall clock of the whole process);
  psycopg COPY: fresh database, `quorum init --database URL` (Quorum's own items table), CHECKPOINT,
      then peer_copy.py (its own clock: from opening the file to the commit's return);
  quorum → SQLite: fresh `quorum init --labels A,B` project, `quorum import FILE --format json` timed.
Each run is checked (1,000,000 rows in items). Then one diagnostic run of each PostgreSQL side with
`log_min_duration_statement = 0` on its database (every statement's server time), not in the figures.
"""
import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcommon  # noqa: E402
from pgcommon import common, log  # noqa: E402


class Attached:
    """The cluster started by run.py, seen from here (its URL and directory)."""

    def __init__(self, url, directory):
        self.dir = directory
        self.url = url
        self.base = url.rsplit("/", 1)[0]
        self.log_path = os.path.join(directory, "server.log")

    connect = pgcommon.Cluster.connect
    fresh_database = pgcommon.Cluster.fresh_database
    drop_database = pgcommon.Cluster.drop_database
    checkpoint = pgcommon.Cluster.checkpoint
    settings = pgcommon.Cluster.settings
    postmaster_pid = pgcommon.Cluster.postmaster_pid
    cpu_seconds = pgcommon.Cluster.cpu_seconds
    log_offset = pgcommon.Cluster.log_offset
    log_since = pgcommon.Cluster.log_since


def count_pg(cluster, db):
    with cluster.connect(db) as c:
        return c.execute("SELECT COUNT(*) FROM items").fetchone()[0]


def db_size(cluster, db):
    with cluster.connect(db) as c:
        return c.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def table_sizes(cluster, db):
    """Bytes of items and staged_items with their indexes, and their live/dead rows, right after the import."""
    with cluster.connect(db) as c:
        out = {}
        for t in ("items", "staged_items"):
            size = c.execute("SELECT pg_total_relation_size(%s::regclass)", (t,)).fetchone()[0]
            live, dead = c.execute("SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", (t,)).fetchone()
            out[t] = {"bytes_with_indexes": size, "live_rows": live, "dead_rows": dead}
        return out


def timed_into_fresh_project(args, cluster, work, name, command, diagnostic):
    """Makes a fresh Quorum project in a new database `name`, runs `command(url, project)` timed,
    and returns (stdout JSON, wall, user, sys, server CPU, other processes' CPU, rows in items,
    database bytes, table sizes, statements or None); drops the database afterwards."""
    url = cluster.fresh_database(name)
    project = os.path.join(work, name)
    pgcommon.run_timed([args.quorum, "init", "--project", project, "--labels", "A,B", "--database", url])
    if diagnostic:
        with cluster.connect() as c:
            c.execute(f'ALTER DATABASE "{name}" SET log_min_duration_statement = 0')
    cluster.checkpoint()
    offset = cluster.log_offset()
    cpu0 = cluster.cpu_seconds()
    busy0 = pgcommon.machine_busy_seconds()
    p, wall, user, sys_ = command(url, project)
    busy = pgcommon.machine_busy_seconds() - busy0
    server_cpu = cluster.cpu_seconds() - cpu0
    end = cluster.log_offset()
    measured = {"out": json.loads(p.stdout), "wall": wall, "user": user, "sys": sys_, "server_cpu": server_cpu,
                "other_cpu": busy - user - sys_ - server_cpu, "rows": count_pg(cluster, name),
                "bytes": db_size(cluster, name), "tables": table_sizes(cluster, name),
                "statements": statements(cluster, offset, end) if diagnostic else None}
    cluster.drop_database(name)
    shutil.rmtree(project, ignore_errors=True)
    return measured


def quorum_pg(args, cluster, work, tag, diagnostic=False):
    m = timed_into_fresh_project(args, cluster, work, f"imp_quorum_{tag}", lambda url, project: pgcommon.run_timed(
        [args.quorum, "import", args.file, "--project", project, "--format", "json"]), diagnostic)
    out, wall = m["out"], m["wall"]
    run = {"side": "quorum-postgres", "wall_seconds": round(wall, 3), "items_per_second": round(args.items / wall),
           "quorum_cpu_user": round(m["user"], 2), "quorum_cpu_system": round(m["sys"], 2),
           "postgres_cpu_seconds": round(m["server_cpu"], 2), "quorum_reported_seconds": round(out.get("seconds", 0), 3),
           "other_processes_cpu_seconds": round(m["other_cpu"], 2),
           "import_output": out, "rows_in_items": m["rows"], "database_bytes": m["bytes"], "tables": m["tables"],
           "ok": m["rows"] == args.items and out.get("imported") == args.items}
    if diagnostic:
        run["statements"] = m["statements"]
    return run


def copy_peer(args, cluster, work, tag, diagnostic=False):
    m = timed_into_fresh_project(args, cluster, work, f"imp_copy_{tag}", lambda url, project: pgcommon.run_timed(
        [sys.executable, os.path.join(pgcommon.HERE, "peer_copy.py"), args.file, url], env=dict(os.environ)), diagnostic)
    out = m["out"]
    run = {"side": "psycopg-copy", "wall_seconds": round(out["seconds"], 3), "items_per_second": round(args.items / out["seconds"]),
           "process_wall_seconds": round(m["wall"], 3), "python_cpu_user": round(m["user"], 2), "python_cpu_system": round(m["sys"], 2),
           "postgres_cpu_seconds": round(m["server_cpu"], 2), "peer_output": out,
           "other_processes_cpu_seconds": round(m["other_cpu"], 2), "rows_in_items": m["rows"],
           "database_bytes": m["bytes"], "tables": m["tables"], "ok": m["rows"] == args.items}
    if diagnostic:
        run["statements"] = m["statements"]
    return run


def quorum_sqlite(args, work, tag):
    project = os.path.join(work, f"sqlite-{tag}")
    pgcommon.run_timed([args.quorum, "init", "--project", project, "--labels", "A,B"])
    busy0 = pgcommon.machine_busy_seconds()
    p, wall, user, sys_ = pgcommon.run_timed([args.quorum, "import", args.file, "--project", project, "--format", "json"])
    busy = pgcommon.machine_busy_seconds() - busy0
    out = json.loads(p.stdout)
    db = sqlite3.connect(f"file:{os.path.join(project, 'quorum.sqlite')}?mode=ro", uri=True)
    rows = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    db.close()
    size = sum(os.path.getsize(os.path.join(project, f)) for f in os.listdir(project) if f.startswith("quorum.sqlite"))
    run = {"side": "quorum-sqlite", "wall_seconds": round(wall, 3), "items_per_second": round(args.items / wall),
           "quorum_cpu_user": round(user, 2), "quorum_cpu_system": round(sys_, 2),
           "quorum_reported_seconds": round(out.get("seconds", 0), 3), "import_output": out,
           "other_processes_cpu_seconds": round(busy - user - sys_, 2),
           "rows_in_items": rows, "database_bytes": size, "ok": rows == args.items and out.get("imported") == args.items}
    shutil.rmtree(project, ignore_errors=True)
    return run


def statements(cluster, offset, end):
    """Every statement of the timed part, from the server log (parse + bind + execute times)."""
    top, total_ms, n = pgcommon.summarize_statements(pgcommon.statement_durations(cluster.log_since(offset, end)))
    return {"executions": n, "total_server_ms": total_ms, "by_statement": top}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--cluster-dir", required=True)
    ap.add_argument("--quorum", default=pgcommon.DEFAULT_QUORUM)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--file", default=pgcommon.DEFAULT_ITEMS)
    ap.add_argument("--dataset", default=pgcommon.DEFAULT_DATASET)
    ap.add_argument("--no-diagnostic", action="store_true", help="skip the statement-logging diagnostic runs")
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up run of each side")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    args.quorum = os.path.abspath(args.quorum)
    cluster = Attached(args.url, args.cluster_dir)

    summary = {"benchmark": "postgres-import", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "git": common.git_revision(), "machine": common.machine_info(),
               "busy_processes_at_start": common.busiest_processes(),
               "quorum": common.binary_info(args.quorum), "postgres": cluster.settings(),
               "settings": {"repeats": args.repeats, "items": args.items, "OPENBLAS_NUM_THREADS": 1}}
    log(f"items file {args.file} …")
    summary["data"] = pgcommon.make_items(args.dataset, args.items, args.file)
    work = tempfile.mkdtemp(prefix="quorum-pg-import-")
    runs = {"quorum-postgres": [], "psycopg-copy": [], "quorum-sqlite": []}
    try:
        if not args.no_warmup:
            # First runs on a new cluster also create its WAL segment files (about 1.3 GB of WAL for a
            # Quorum import of 1M rows, staged then published), and read the file into the page cache.
            log("warm-up: one untimed run of each side …")
            summary["warmup_seconds"] = {}
            for side, fn in (("quorum-postgres", lambda: quorum_pg(args, cluster, work, "warmup")),
                             ("psycopg-copy", lambda: copy_peer(args, cluster, work, "warmup")),
                             ("quorum-sqlite", lambda: quorum_sqlite(args, work, "warmup"))):
                try:
                    summary["warmup_seconds"][side] = fn()["wall_seconds"]
                except Exception as e:  # noqa: BLE001
                    summary["warmup_seconds"][side] = f"failed: {e}"
        for r in range(1, args.repeats + 1):
            for side, fn in (("quorum-postgres", lambda: quorum_pg(args, cluster, work, str(r))),
                             ("psycopg-copy", lambda: copy_peer(args, cluster, work, str(r))),
                             ("quorum-sqlite", lambda: quorum_sqlite(args, work, str(r)))):
                log(f"repeat {r}: {side} …")
                try:
                    run = fn()
                except Exception as e:  # recorded, reported; the run fails its checks
                    run = {"side": side, "error": str(e), "ok": False, "wall_seconds": None, "items_per_second": 0}
                    log(f"  FAILED: {e}")
                    runs[side].append(dict(run, repeat=r))
                    continue
                run["repeat"] = r
                runs[side].append(run)
                log(f"  {run['wall_seconds']:.2f} s, {run['items_per_second']:,} items/s, ok={run['ok']}, "
                    f"other processes' CPU meanwhile {run.get('other_processes_cpu_seconds')} s")
        summary["runs"] = runs
        figures = {}
        for side, rs in runs.items():
            walls = [x["wall_seconds"] for x in rs if x.get("ok")]
            if not walls:
                figures[side] = None
                continue
            figures[side] = {"median_seconds": round(pgcommon.median(walls), 3), "min_seconds": round(min(walls), 3),
                             "max_seconds": round(max(walls), 3),
                             "median_items_per_second": round(args.items / pgcommon.median(walls)),
                             "best_items_per_second": round(args.items / min(walls))}
        ok3 = all(figures.get(k) for k in runs)
        figures["ratio_time_quorum_postgres_over_psycopg_copy"] = None if not ok3 else {
            "median": round(figures["quorum-postgres"]["median_seconds"] / figures["psycopg-copy"]["median_seconds"], 2),
            "min": round(figures["quorum-postgres"]["min_seconds"] / figures["psycopg-copy"]["min_seconds"], 2)}
        figures["ratio_time_quorum_postgres_over_quorum_sqlite"] = None if not ok3 else {
            "median": round(figures["quorum-postgres"]["median_seconds"] / figures["quorum-sqlite"]["median_seconds"], 2),
            "min": round(figures["quorum-postgres"]["min_seconds"] / figures["quorum-sqlite"]["min_seconds"], 2)}
        summary["figures"] = figures
        if not args.no_diagnostic:
            log("diagnostic runs (log_min_duration_statement = 0; not in the figures) …")
            summary["diagnostic"] = {}
            for side, fn in (("quorum-postgres", quorum_pg), ("psycopg-copy", copy_peer)):
                try:
                    summary["diagnostic"][side] = fn(args, cluster, work, "diag", diagnostic=True)
                except Exception as e:  # noqa: BLE001
                    summary["diagnostic"][side] = {"error": str(e)}
        summary["all_checks_passed"] = all(x["ok"] for rs in runs.values() for x in rs)
        summary["load_average_at_end"] = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not args.no_write:
        summary["results_file"] = os.path.relpath(pgcommon.write_results(summary, "import"), pgcommon.REPO)
    print(json.dumps(summary, indent=2))
    return 0 if summary.get("all_checks_passed") else 1


if __name__ == "__main__":
    sys.exit(main())
