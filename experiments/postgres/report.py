#!/usr/bin/env python3
"""Prints the README's tables (Markdown) from results/import-*.json and results/load-*.json.

    python3 experiments/postgres/report.py [FILE …]     (default: every results file, oldest first)
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def fmt_int(x):
    return f"{x:,}" if isinstance(x, (int, float)) else "—"


def import_tables(path, s):
    name = os.path.basename(path)
    print(f"\n### {name}\n")
    print("| side | median s | min s | max s | items/s (median) | items/s (best) | runs (s) | CPU of the process under test (s, each run) | PostgreSQL CPU (s, each run) | other processes' CPU (s, each run) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for side in ("quorum-postgres", "psycopg-copy", "quorum-sqlite"):
        f = s["figures"].get(side)
        runs = s["runs"][side]
        if not f:
            print(f"| {side} | failed | | | | | | | | |")
            continue
        walls = ", ".join(f"{r['wall_seconds']:.2f}" for r in runs)
        cpu = ", ".join(f"{r.get('quorum_cpu_user', r.get('python_cpu_user', 0)) + r.get('quorum_cpu_system', r.get('python_cpu_system', 0)):.1f}" for r in runs)
        pg = ", ".join(f"{r['postgres_cpu_seconds']:.1f}" if r.get("postgres_cpu_seconds") is not None else "—" for r in runs)
        other = ", ".join(f"{r['other_processes_cpu_seconds']:.1f}" if r.get("other_processes_cpu_seconds") is not None else "n/m" for r in runs)
        print(f"| {side} | {f['median_seconds']:.2f} | {f['min_seconds']:.2f} | {f['max_seconds']:.2f} | "
              f"{fmt_int(f['median_items_per_second'])} | {fmt_int(f['best_items_per_second'])} | {walls} | {cpu} | {pg} | {other} |")
    r = s["figures"].get("ratio_time_quorum_postgres_over_psycopg_copy")
    q = s["figures"].get("ratio_time_quorum_postgres_over_quorum_sqlite")
    if r:
        print(f"\nTime ratio Quorum→PostgreSQL ÷ psycopg COPY: **{r['median']}** (medians), {r['min']} (minimums). "
              f"Quorum→PostgreSQL ÷ Quorum→SQLite: {q['median']} (medians), {q['min']} (minimums).")
    if s.get("warmup_seconds"):
        print(f"Warm-up runs (untimed): {s['warmup_seconds']}.")
    d = s.get("diagnostic")
    if d:
        for side, run in d.items():
            st = run.get("statements")
            if not st:
                continue
            print(f"\nDiagnostic {side} ({run['wall_seconds']:.2f} s, statements logged): {st['executions']} statements, "
                  f"{st['total_server_ms'] / 1000:.2f} s of server time (parse + bind + execute)")
            print("\n| statement | executions | server ms |\n|---|---|---|")
            for x in st["by_statement"][:8]:
                print(f"| `{x['statement'][:70]}` | {x['executions']} | {x['total_ms']:,.0f} |")


def load_tables(path, s):
    name = os.path.basename(path)
    print(f"\n### {name}\n")
    print("| scenario | backend | cycle p50 ms | p90 | p99 | max | POST p50 | GET p50 | answers/s | quorum serve CPU ms/answer | PostgreSQL CPU ms/answer | other processes' CPU (s) | checks |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in s["runs"]:
        if "run" not in r:
            print(f"| {r['scenario']} | {r['backend']} | failed: {r.get('error')} |")
            continue
        x = r["run"]
        c = x["cycle_post_answer_plus_get_next"]
        n = max(1, x["answers_acknowledged"])
        print(f"| {r['scenario']} ({r['annotators']} × {r['tasks']} × {r['overlap']}) | {r['backend']} | {c['p50_ms']:.1f} | {c['p90_ms']:.1f} | "
              f"{c['p99_ms']:.1f} | {c['max_ms']:.1f} | {x['post_answers']['p50_ms']:.1f} | {x['get_next']['p50_ms']:.1f} | "
              f"{x['throughput_answers_per_s']} | {1000 * x['server_cpu_seconds'] / n:.1f} | {1000 * x['postgres_cpu_seconds'] / n:.1f} | "
              f"{x.get('other_processes_cpu_seconds', 'n/m')} | {'pass' if r['all_checks_passed'] else 'FAIL'} |")
    print("\n| scenario | PG ÷ SQLite cycle p50 | PG ÷ SQLite cycle p99 | PG ÷ SQLite throughput |\n|---|---|---|---|")
    for row in s["figures"]:
        ratio = row.get("ratio_pg_over_sqlite")
        if ratio:
            print(f"| {row['scenario']} | {ratio['cycle_p50']} | {ratio['cycle_p99']} | {ratio['throughput']} |")
    for r in s["runs"]:
        act = r.get("run", {}).get("postgres_activity")
        if act:
            states = ", ".join(f"{k} {v}" for k, v in act["mean_connections_by_state"].items() if v >= 0.01)
            print(f"\n{r['scenario']}: Quorum's PostgreSQL connections, mean number in each state: {states}")
    d = s.get("diagnostic", {}).get("run", {}).get("statements")
    if d:
        print(f"\nDiagnostic, 1 annotator, every statement logged: {d['executions_per_answer']} statements and "
              f"{d['server_ms_per_answer']} ms of server time (parse + bind + execute) per answer.")
    ds = s.get("diagnostic_statements", {})
    st = ds.get("run", {}).get("pg_stat_statements")
    if st:
        print(f"\nDiagnostic, {ds['annotators']} annotators flat out on {ds['tasks']} × {ds['overlap']} with pg_stat_statements "
              f"({ds['run']['throughput_answers_per_s']} answers/s): {st['calls_per_answer']} statements per answer; execution "
              f"{st['exec_ms_per_answer']} ms per answer, of which {st['exec_ms_per_answer_without_lock_waits_and_sampler']} ms is not "
              f"waiting for the writer lock (nor the sampler); planning {st.get('plan_ms_per_answer', '—')} ms per answer "
              f"({st.get('plans_per_answer', '—')} plans).")
        print("\n| statement | calls/answer | mean exec ms | plan ms total | buffers hit/call |\n|---|---|---|---|---|")
        for x in st["top"][:12]:
            print(f"| `{x['query'][:80]}` | {x['calls_per_answer']} | {x['mean_ms']} | {x.get('plan_ms_total', '—')} | {x['shared_blocks_hit_per_call']} |")
    elif ds.get("error"):
        print(f"\npg_stat_statements diagnostic failed: {ds['error']}")


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(HERE, "results", "*.json")), key=lambda p: os.path.basename(p).split("-", 1)[1])
    for path in files:
        with open(path) as f:
            s = json.load(f)
        if s.get("benchmark") == "postgres-import":
            import_tables(path, s)
        elif s.get("benchmark") == "postgres-web-load":
            load_tables(path, s)


if __name__ == "__main__":
    main()
