#!/usr/bin/env python3
"""Benchmark 2: answer-to-next-item latency with 50 concurrent annotators over HTTP (`quorum serve`),
a PostgreSQL project against a SQLite project, same binary, same data, same settings, same run.

    python3 experiments/postgres/load_bench.py --url postgresql://postgres@127.0.0.1:PORT/quorum \
        --cluster-dir DIR [--quorum .build/release/quorum] [--annotators 50] [--tasks 5000] [--overlap 2]
        [--scenarios paced,flat] [--think-ms 1000]

Normally started by run.py, which starts the cluster. The load itself is experiments/web's, reused as
it is (its common.py and load.py are imported, not copied): the same project recipe (the first 5,000
distinct review snippets, 50 × `annotators add`, `round start --size 5000 --overlap 2 --gold-rate 0
--audit-rate 0 --blind-rate 0 --seed 1`), the same simulated annotator (GET /api/v1/next → POST
/api/v1/answers → GET next …, one keep-alive connection each), the same timings and percentiles.
What is added here: `quorum init --database URL` for the PostgreSQL project (a fresh database each
run), the database checks done with psycopg for it, and the CPU time of the PostgreSQL cluster.

Scenarios: `paced` = each annotator pauses think × U(0.5, 1.5) after getting an item (--think-ms 1000,
outside every timing); `flat` = no pause (a closed loop: the server saturated). In each scenario the
PostgreSQL project runs first, then the SQLite project.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcommon  # noqa: E402
from pgcommon import common, log  # noqa: E402
import load as webload  # noqa: E402  (experiments/web/load.py: run_annotators, collect, contract_probes)
from import_bench import Attached  # noqa: E402


def build_project(quorum, workdir, n_items, n_annotators, overlap, database=None, seed=1):
    """experiments/web/common.build_project, with `--database URL` given to `quorum init` when set."""
    labels = common.LABELS
    project = os.path.join(workdir, "project")
    items_path = os.path.join(workdir, "items.jsonl")
    info = {"project": project, "labels": labels, "database": database}
    info["data"] = common.write_items(common.DEFAULT_DATASET, n_items, items_path)
    t = time.perf_counter()
    init = ["init", "--labels", ",".join(labels), "--project", project]
    if database:
        init += ["--database", database]
    common.run_quorum(quorum, init)
    info["init_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    out = common.run_quorum(quorum, ["import", items_path, "--meta-fields", "movie", "--format", "json", "--project", project])
    info["import_seconds"] = time.perf_counter() - t
    info["import_output"] = json.loads(out)
    t = time.perf_counter()
    tokens = {}
    for i in range(n_annotators):
        name = f"ann{i:03d}"
        out = json.loads(common.run_quorum(quorum, ["annotators", "add", name, "--format", "json", "--project", project]))
        assert out["annotator"] == name and out["role"] == "annotator", out
        tokens[name] = out["token"]
    info["annotators_add_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    out = common.run_quorum(quorum, ["round", "start", "--size", str(n_items), "--overlap", str(overlap),
                                     "--gold-rate", "0", "--audit-rate", "0", "--blind-rate", "0",
                                     "--seed", str(seed), "--format", "json", "--project", project])
    info["round_start_seconds"] = time.perf_counter() - t
    info["round"] = json.loads(out)
    if info["round"]["tasks"] != n_items:
        raise RuntimeError(f"round start made {info['round']['tasks']} tasks, not {n_items}: {out}")
    for k in ("init_seconds", "import_seconds", "annotators_add_seconds", "round_start_seconds"):
        info[k] = round(info[k], 3)
    return info, tokens


# ---------------------------------------------------------------- checks with psycopg (PostgreSQL)

def check_database_pg(cluster, db, expected_tasks, overlap):
    """experiments/web/common.check_invariants, on the PostgreSQL project."""
    with cluster.connect(db) as c:
        return common.check_invariants(lambda sql, *a: c.execute(sql, a).fetchall(), expected_tasks, overlap)


def answers_by_pair_pg(cluster, db):
    with cluster.connect(db) as c:
        return {(item, ann): (label, created) for item, ann, label, created in c.execute(
            "SELECT i.id, a.annotator, a.label, a.created_at FROM answers a JOIN tasks t ON t.id = a.task_id "
            "JOIN items i ON i.key = t.item_key")}


def acknowledged_check(db_answers, annotators):
    missing, wrong = [], []
    for a in annotators:
        for item, label, _ in a.acked:
            got = db_answers.get((item, a.name))
            if got is None:
                missing.append([item, a.name])
            elif got[0] != label:
                wrong.append([item, a.name, label, got[0]])
    return {"missing": missing[:20], "missing_count": len(missing), "wrong_label": wrong[:20], "wrong_label_count": len(wrong)}


# ---------------------------------------------------------------- what the server's connections do

class ActivitySampler:
    """Every `interval` s, reads pg_stat_activity for Quorum's connections to `db` (application_name
    'quorum') and counts each connection's state: running a statement (`active`, split into waiting
    for the advisory lock — Quorum's writer lock — or not), `idle in transaction` (the server waits for
    the next statement from Quorum: a round trip, or work in the Quorum process), or `idle` (in the
    pool). The averages say where the connections' time goes."""

    def __init__(self, cluster, db, interval=0.02):
        import threading
        self.cluster, self.db, self.interval = cluster, db, interval
        self.samples = 0
        self.counts = {}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        with self.cluster.connect(self.db) as c:
            while not self.stop_event.is_set():
                rows = c.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'quorum' AND pid <> pg_backend_pid()").fetchall()
                self.samples += 1
                for state, wtype, wevent in rows:
                    if state == "active":
                        key = "active: waiting for the writer lock (advisory)" if wevent == "advisory" else \
                            ("active: running" if wtype is None else f"active: waiting on {wtype}/{wevent}")
                    else:
                        key = str(state)
                    self.counts[key] = self.counts.get(key, 0) + 1
                self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)
        n = max(1, self.samples)
        return {"samples": self.samples, "interval_s": self.interval,
                "mean_connections_by_state": {k: round(v / n, 3) for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])}}


# ---------------------------------------------------------------- one run

def slow_cycles(annotators, t0, threshold=0.1):
    """When the slow cycles (> threshold s) happened: their count per 10 s of the run, and the 10 slowest."""
    pairs = [(mark - t0, dt) for a in annotators for mark, dt in zip(a.cycle_marks, a.cycle_times)]
    buckets = {}
    for at, dt in pairs:
        if dt > threshold:
            b = int(at // 10) * 10
            buckets[b] = buckets.get(b, 0) + 1
    worst = sorted(pairs, key=lambda p: -p[1])[:10]
    return {"threshold_ms": threshold * 1000, "count": sum(buckets.values()),
            "count_by_10s_from_start": {str(k): v for k, v in sorted(buckets.items())},
            "slowest_at_s_and_ms": [[round(at, 1), round(dt * 1000, 1)] for at, dt in worst]}


def pg_stat_statements_on(cluster, on):
    """Restarts the cluster with (or without) pg_stat_statements preloaded."""
    import glob
    import subprocess
    with cluster.connect() as c:
        if on:
            c.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        else:
            loaded = "pg_stat_statements" in c.execute("SHOW shared_preload_libraries").fetchone()[0]
            if loaded:
                c.execute("ALTER SYSTEM RESET pg_stat_statements.track_planning")
            c.execute("ALTER SYSTEM RESET shared_preload_libraries")
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    cmd = [pg_ctl, "-D", os.path.join(cluster.dir, "data"), "-l", cluster.log_path, "-w", "-m", "fast", "restart"]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True)
    if on:
        with cluster.connect() as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            # Known only once the library is loaded; a reload applies it to new sessions.
            c.execute("ALTER SYSTEM SET pg_stat_statements.track_planning = on")
            c.execute("SELECT pg_reload_conf()")


def one_run(args, cluster, backend, scenario, think_ms, n_annotators, n_tasks, overlap, log_statements=False,
            stat_statements=False):
    work = tempfile.mkdtemp(prefix=f"quorum-pg-load-{backend}-{scenario}-")
    db = f"load_{scenario.replace('-', '_')}_{backend}"
    database = cluster.fresh_database(db) if backend == "postgres" else None
    if log_statements:
        with cluster.connect() as c:
            c.execute(f'ALTER DATABASE "{db}" SET log_min_duration_statement = 0')
    problems = common.Problems()
    result = {"backend": backend, "scenario": scenario, "think_ms": think_ms, "database": database,
              "annotators": n_annotators, "tasks": n_tasks, "overlap": overlap, "statements_logged": log_statements,
              "busy_processes_at_start": common.busiest_processes(), "load_average_at_start": os.getloadavg()}
    server = None
    ok = False
    try:
        log(f"[{scenario}/{backend}] building the project …")
        setup, tokens = build_project(args.quorum, work, n_tasks, n_annotators, overlap, database=database,
                                      seed=args.seed)
        result["setup"] = {k: v for k, v in setup.items() if k != "project"}
        log(f"[{scenario}/{backend}] set-up: import {setup['import_seconds']:.2f} s, {n_annotators} × annotators add "
            f"{setup['annotators_add_seconds']:.2f} s, round start {setup['round_start_seconds']:.2f} s")
        if backend == "postgres":
            cluster.checkpoint()
        server = common.Server(args.quorum, setup["project"], os.path.join(work, "serve.log"))
        result["server"] = {"startup_seconds": round(server.startup_seconds, 3), "command": " ".join(server.args)}
        result["contract_probes"] = webload.contract_probes(server, next(iter(tokens.values())), problems)
        address = common.ServerAddress(server.host, server.port)
        cpu_server0 = server.cpu_seconds()
        cpu_pg0 = cluster.cpu_seconds()
        busy0 = pgcommon.machine_busy_seconds()
        log_offset = cluster.log_offset()
        if stat_statements:
            with cluster.connect() as c:
                c.execute("SELECT pg_stat_statements_reset()")
        sampler = ActivitySampler(cluster, db).start() if backend == "postgres" and not log_statements else None
        log(f"[{scenario}/{backend}] {n_annotators} annotators labelling {n_tasks} × {overlap} "
            f"(think {think_ms} ms) …")
        annotators, t0, t1, client_cpu = webload.run_annotators(address, tokens, args.seed, problems, args.timeout,
                                                                args.max_retry_sleep, think_seconds=think_ms / 1000)
        log_end = cluster.log_offset()
        activity = sampler.stop() if sampler else None
        run = webload.collect(annotators, t0, t1)
        run["slow_cycles"] = slow_cycles(annotators, t0)
        if stat_statements:
            with cluster.connect() as c:
                rows = c.execute(
                    "SELECT query, calls, total_exec_time, rows, shared_blks_hit, shared_blks_read, total_plan_time, plans "
                    "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = %s) "
                    "ORDER BY total_exec_time DESC", (db,)).fetchall()
            answers = max(1, run["answers_acknowledged"])
            run["pg_stat_statements"] = {
                "calls_per_answer": round(sum(r[1] for r in rows) / answers, 2),
                "exec_ms_per_answer": round(sum(r[2] for r in rows) / answers, 3),
                "plan_ms_per_answer": round(sum(r[6] for r in rows) / answers, 3),
                "plans_per_answer": round(sum(r[7] for r in rows) / answers, 2),
                "exec_ms_per_answer_without_lock_waits_and_sampler": round(sum(
                    r[2] for r in rows if "pg_advisory_xact_lock" not in r[0] and "pg_stat_activity" not in r[0]) / answers, 3),
                "top": [{"query": " ".join(q.split())[:160], "calls": calls, "calls_per_answer": round(calls / answers, 2),
                         "total_ms": round(total, 1), "mean_ms": round(total / max(1, calls), 3),
                         "exec_ms_per_answer": round(total / answers, 3), "rows": nrows,
                         "shared_blocks_hit_per_call": round(hit / max(1, calls), 1), "shared_blocks_read": read,
                         "plan_ms_total": round(plan, 1), "plans": plans}
                        for q, calls, total, nrows, hit, read, plan, plans in rows[:20]]}
        if activity:
            run["postgres_activity"] = activity
        if log_statements:
            triples = pgcommon.statement_durations(cluster.log_since(log_offset, log_end))
            top, total_ms, executions = pgcommon.summarize_statements(triples, top=25)
            answers = max(1, run["answers_acknowledged"])
            run["statements"] = {"executions": executions, "executions_per_answer": round(executions / answers, 2),
                                 "server_ms_total": total_ms, "server_ms_per_answer": round(total_ms / answers, 3),
                                 "by_statement": top}
        run["server_cpu_seconds"] = round(server.cpu_seconds() - cpu_server0, 2)
        run["postgres_cpu_seconds"] = round(cluster.cpu_seconds() - cpu_pg0, 2)   # the whole cluster (idle for SQLite)
        run["client_cpu_seconds"] = round(client_cpu, 2)
        run["other_processes_cpu_seconds"] = round(pgcommon.machine_busy_seconds() - busy0 - run["server_cpu_seconds"]
                                                   - run["postgres_cpu_seconds"] - client_cpu, 2)
        run["server_peak_rss_mb"] = server.peak_rss_mb()
        run["server_threads"] = server.threads()
        run["load_average_after"] = os.getloadavg()
        if backend == "postgres":
            with cluster.connect(db) as c:
                run["postgres_connections_at_end"] = c.execute(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'quorum'").fetchone()[0]
        result["run"] = run
        result["busy_processes_after_run"] = common.busiest_processes()
        result["server"]["exit_status_after_sigterm"] = server.stop()
        log(f"[{scenario}/{backend}] cycle p50 {run['cycle_post_answer_plus_get_next'].get('p50_ms')} ms, "
            f"p99 {run['cycle_post_answer_plus_get_next'].get('p99_ms')} ms, {run['throughput_answers_per_s']} answers/s")

        if backend == "postgres":
            db_ok, checks = check_database_pg(cluster, db, n_tasks, overlap)
            acked = acknowledged_check(answers_by_pair_pg(cluster, db), annotators)
        else:
            db_ok, checks = common.check_database(setup["project"], n_tasks, overlap)
            acked = acknowledged_check(common.answers_by_pair(setup["project"]), annotators)
        checks["acknowledged_answers_in_database"] = acked
        checks["checks"]["every_acknowledged_answer_in_database_with_its_label"] = (
            acked["missing_count"] == 0 and acked["wrong_label_count"] == 0)
        checks["checks"]["acknowledged_equals_expected"] = run["answers_acknowledged"] == n_tasks * overlap
        checks["checks"]["no_annotator_errors"] = not run["annotator_errors"]
        result["database_checks"] = checks
        result["contract_problems"] = problems.as_dict()
        ok = all(checks["checks"].values())
        if not ok:
            log(f"[{scenario}/{backend}] CHECKS FAILED: {json.dumps(checks['checks'])}")
        if server is not None:
            serve_log = os.path.join(work, "serve.log")
            with open(serve_log, "rb") as f:
                tail = f.read()[-4000:].decode("utf-8", "replace")
            result["serve_log_tail"] = tail
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {e}"
        log(f"[{scenario}/{backend}] FAILED: {result['error']}")
        try:
            with open(os.path.join(work, "serve.log"), "rb") as f:
                result["serve_log_tail"] = f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            pass
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
        if backend == "postgres" and not args.keep_databases:
            try:
                cluster.drop_database(db)
            except Exception as e:  # noqa: BLE001
                result["drop_error"] = str(e)
    result["all_checks_passed"] = ok
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--cluster-dir", required=True)
    ap.add_argument("--quorum", default=pgcommon.DEFAULT_QUORUM)
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--overlap", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenarios", default="paced,flat,single",
                    help="comma-separated: paced (think time), flat (no pause), single (one annotator alone, "
                         "--single-tasks × 1: the bare round trip)")
    ap.add_argument("--single-tasks", type=int, default=1000)
    ap.add_argument("--no-diagnostic", action="store_true",
                    help="skip the diagnostic run (one annotator on PostgreSQL with every statement logged; not in the figures)")
    ap.add_argument("--diagnostic-tasks", type=int, default=300)
    ap.add_argument("--statements-tasks", type=int, default=2000,
                    help="the pg_stat_statements diagnostic: 50 annotators flat out on TASKS × overlap (not in the figures)")
    ap.add_argument("--think-ms", type=float, default=1000, help="the paced scenario's think time")
    ap.add_argument("--backends", default="postgres,sqlite")
    ap.add_argument("--timeout", type=float, default=900, help="give up on a run after this many seconds of labelling")
    ap.add_argument("--max-retry-sleep", type=float, default=1.0)
    ap.add_argument("--keep-databases", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    args.quorum = os.path.abspath(args.quorum)
    cluster = Attached(args.url, args.cluster_dir)
    summary = {"benchmark": "postgres-web-load", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "git": common.git_revision(), "machine": common.machine_info(),
               "quorum": common.binary_info(args.quorum), "postgres": cluster.settings(),
               "settings": {"annotators": args.annotators, "tasks": args.tasks, "overlap": args.overlap, "seed": args.seed,
                            "think_ms_paced": args.think_ms, "lease": "default (600 s)",
                            "max_retry_sleep": args.max_retry_sleep, "OPENBLAS_NUM_THREADS": 1}}
    runs = []
    for scenario in args.scenarios.split(","):
        think = args.think_ms if scenario == "paced" else 0
        shape = (1, args.single_tasks, 1) if scenario == "single" else (args.annotators, args.tasks, args.overlap)
        for backend in args.backends.split(","):
            runs.append(one_run(args, cluster, backend, scenario, think, *shape))
    summary["runs"] = runs
    if not args.no_diagnostic:
        summary["diagnostic"] = one_run(args, cluster, "postgres", "single-logged", 0, 1, args.diagnostic_tasks, 1,
                                        log_statements=True)
        log("restarting the cluster with pg_stat_statements for the last diagnostic run …")
        try:
            pg_stat_statements_on(cluster, True)
            summary["diagnostic_statements"] = one_run(args, cluster, "postgres", "flat-statements", 0, args.annotators,
                                                       args.statements_tasks, args.overlap, stat_statements=True)
        except Exception as e:  # noqa: BLE001  (a diagnostic: reported, the figures stand)
            summary["diagnostic_statements"] = {"error": f"{type(e).__name__}: {e}"}
        finally:
            try:
                pg_stat_statements_on(cluster, False)
            except Exception as e:  # noqa: BLE001
                summary["diagnostic_statements_reset_error"] = str(e)
    table = []
    for scenario in args.scenarios.split(","):
        row = {"scenario": scenario}
        for r in runs:
            if r["scenario"] != scenario or "run" not in r:
                continue
            c = r["run"]["cycle_post_answer_plus_get_next"]
            row[r["backend"]] = {"cycle_p50_ms": c.get("p50_ms"), "cycle_p90_ms": c.get("p90_ms"),
                                 "cycle_p99_ms": c.get("p99_ms"), "cycle_max_ms": c.get("max_ms"),
                                 "post_p50_ms": r["run"]["post_answers"].get("p50_ms"),
                                 "get_p50_ms": r["run"]["get_next"].get("p50_ms"),
                                 "answers_per_s": r["run"]["throughput_answers_per_s"],
                                 "server_cpu_s": r["run"]["server_cpu_seconds"],
                                 "postgres_cpu_s": r["run"]["postgres_cpu_seconds"],
                                 "wall_s": r["run"]["seconds_to_last_answer"],
                                 "other_processes_cpu_s": r["run"].get("other_processes_cpu_seconds"),
                                 "checks_passed": r["all_checks_passed"]}
        if "postgres" in row and "sqlite" in row:
            pg, sq = row["postgres"], row["sqlite"]
            row["ratio_pg_over_sqlite"] = {
                "cycle_p50": round(pg["cycle_p50_ms"] / sq["cycle_p50_ms"], 2),
                "cycle_p99": round(pg["cycle_p99_ms"] / sq["cycle_p99_ms"], 2),
                "throughput": round(pg["answers_per_s"] / sq["answers_per_s"], 2)}
        table.append(row)
    summary["figures"] = table
    summary["all_checks_passed"] = all(r["all_checks_passed"] for r in runs) and \
        summary.get("diagnostic", {}).get("all_checks_passed", True) and \
        summary.get("diagnostic_statements", {}).get("all_checks_passed", True)
    summary["load_average_at_end"] = os.getloadavg()
    if not args.no_write:
        summary["results_file"] = os.path.relpath(pgcommon.write_results(summary, "load"), pgcommon.REPO)
    print(json.dumps(summary, indent=2))
    return 0 if summary["all_checks_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
