#!/usr/bin/env python3
"""Load benchmark for `quorum serve`: N simulated annotators label a round of T tasks × overlap K.

    python3 experiments/web/load.py [--quorum .build/release/quorum] [--annotators 50] [--tasks 5000]
                                    [--overlap 2] [--seed 1] [--terminal-bench auto|none|PATH]

Builds a fresh temp project with the binary (init, import T distinct texts of a real dataset,
annotators add × N, round start --size T --overlap K, no gold, audit or blind tasks, no model),
starts `quorum serve --port 0`, and runs N threads, each an annotator with one keep-alive
http.client connection, looping GET /api/v1/next → POST /api/v1/answers (random label, RNG seeded
per annotator) until next says done. Times every POST, every GET, and the cycle POST + GET (from
sending an answer to having the next item). Then checks quorum.sqlite (read-only): exactly T×K
answers, no (task, annotator) or (item, annotator) pair twice, every task answered exactly K times,
every answer that got 200 is there with its label. Runs quorum-bench label-latency (the terminal
loop's cycle) in the same session for comparison. Prints a JSON summary and writes
experiments/web/results/load-*.json. Exit status 1 when a check fails.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def parse_args(argv=None, description=__doc__):
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quorum", default=common.DEFAULT_QUORUM, help="the quorum binary (default: the release build)")
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--overlap", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--build", default="release", help="what --quorum is (recorded in the results): release or debug")
    ap.add_argument("--dataset", default=common.DEFAULT_DATASET)
    ap.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds of labelling")
    ap.add_argument("--max-retry-sleep", type=float, default=1.0,
                    help="cap on the sleep after a 'waiting' answer (retry_after, else 0.2 s)")
    ap.add_argument("--think-ms", type=float, default=0,
                    help="each annotator pauses think × U(0.5, 1.5) after getting an item, before answering "
                         "(0 = flat out, the default; the pause is not in any timing)")
    ap.add_argument("--keep", action="store_true", help="keep the temp project")
    ap.add_argument("--no-write", action="store_true", help="do not write results/*.json")
    ap.add_argument("--terminal-bench", default="auto",
                    help="quorum-bench binary for the terminal loop's figure; auto = next to --quorum; none = skip")
    ap.add_argument("--terminal-pool", type=int, nargs="*", default=[5000, 1000000],
                    help="pool sizes for quorum-bench label-latency (one run each)")
    return ap.parse_args(argv)


def contract_probes(server, token, problems):
    """A few cheap checks of the contract before the load: healthz, 401 without a token, /me."""
    api = common.Api(server.host, server.port, token)
    out = {}
    status, body, _ = api.request("GET", "/healthz", token=False)
    out["healthz"] = [status, body]
    if status != 200 or str(body).strip() != "ok":
        problems.add("GET /healthz is not 200 ok", {"status": status, "body": body})
    status, body, _ = api.request("GET", "/api/v1/next", token=False)
    out["next_without_token"] = status
    if status != 401:
        problems.add("GET /api/v1/next without a token is not 401", {"status": status, "body": body})
    status, body, _ = api.request("GET", "/api/v1/next", token="qrm_" + "0" * 64)
    out["next_bad_token"] = status
    if status != 401:
        problems.add("GET /api/v1/next with an unknown token is not 401", {"status": status, "body": body})
    status, body, _ = api.request("GET", "/api/v1/me")
    out["me"] = body
    if status != 200 or not isinstance(body, dict) or [l.get("name") for l in body.get("labels", [])] != common.LABELS:
        problems.add("GET /api/v1/me does not list the project's labels", {"status": status, "body": body})
    api.close()
    return out


def run_annotators(server_address, tokens, seed, problems, timeout, max_retry_sleep,
                   reconnect=False, leavers=(), on_start=None, think_seconds=0.0):
    deadline = time.perf_counter() + timeout
    annotators = [common.Annotator(i, name, token, server_address, seed, problems, deadline, reconnect=reconnect,
                                   leaves_on_crash=name in leavers, max_retry_sleep=max_retry_sleep,
                                   think_seconds=think_seconds)
                  for i, (name, token) in enumerate(sorted(tokens.items()))]
    threads = [threading.Thread(target=a.run, name=a.name, daemon=True) for a in annotators]
    cpu0 = os.times()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    if on_start:
        on_start(annotators, t0)
    for t in threads:
        t.join()
    t1 = time.perf_counter()
    cpu1 = os.times()
    client_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return annotators, t0, t1, client_cpu


def collect(annotators, t0, t1):
    posts = [x for a in annotators for x in a.post_times]
    gets = [x for a in annotators for x in a.get_times]
    cycles = [x for a in annotators for x in a.cycle_times]
    acked = sum(len(a.acked) for a in annotators)
    last = max((a.t_last for a in annotators if a.t_last), default=t1)
    non_200 = {}
    for a in annotators:
        for k, v in a.non_200.items():
            non_200[k] = non_200.get(k, 0) + v
    per_annotator = sorted(len(a.acked) for a in annotators)
    return {
        "answers_acknowledged": acked,
        "wall_seconds": round(t1 - t0, 3),
        "seconds_to_last_answer": round(last - t0, 3),
        "throughput_answers_per_s": round(acked / (last - t0), 1) if acked else 0,
        "cycle_post_answer_plus_get_next": common.summarize(cycles),
        "post_answers": common.summarize(posts),
        "get_next": common.summarize(gets),
        "waiting_responses": sum(a.waiting_responses for a in annotators),
        "retry_after_max": max((r for a in annotators for r in a.retry_after_seen if r is not None), default=None),
        "seconds_slept_waiting": round(sum(a.wait_seconds for a in annotators), 2),
        "connections_opened": sum(a.api.connections_opened for a in annotators),
        "non_200_responses": non_200,
        "answers_per_annotator_min_median_max": [per_annotator[0], per_annotator[len(per_annotator) // 2],
                                                 per_annotator[-1]] if per_annotator else None,
        "annotator_errors": {a.name: a.error for a in annotators if a.error},
        "finished_reasons": {r: sum(1 for a in annotators if str(a.finished_reason) == r)
                             for r in sorted({str(a.finished_reason) for a in annotators})},
    }


def acknowledged_in_database(project, annotators):
    """Every answer that got 200 is in the database with the label sent."""
    db_answers = common.answers_by_pair(project)
    missing, wrong_label = [], []
    for a in annotators:
        for item, label, _ in a.acked:
            got = db_answers.get((item, a.name))
            if got is None:
                missing.append([item, a.name])
            elif got[0] != label:
                wrong_label.append([item, a.name, label, got[0]])
    return {"missing": missing[:20], "missing_count": len(missing),
            "wrong_label": wrong_label[:20], "wrong_label_count": len(wrong_label)}, db_answers


def terminal_figures(args):
    if args.terminal_bench == "none":
        return None
    bench = args.terminal_bench
    if bench == "auto":
        bench = os.path.join(os.path.dirname(os.path.abspath(args.quorum)), "quorum-bench")
    if not os.path.exists(bench):
        common.log(f"no quorum-bench at {bench}: the terminal loop's figure is skipped")
        return {"skipped": f"no binary at {bench}"}
    runs = []
    for pool in args.terminal_pool:
        work = tempfile.mkdtemp(prefix="quorum-termbench-")
        try:
            common.log(f"terminal loop: quorum-bench label-latency --pool {pool} --worker-pause-ms 50 …")
            runs.append(common.run_terminal_bench(bench, pool, 50, work, quorum=os.path.abspath(args.quorum)))
        except Exception as e:  # reported, not fatal: the web figures stand on their own
            runs.append({"pool": pool, "error": str(e)})
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return {"binary": common.binary_info(bench), "runs": runs}


def main():
    args = parse_args()
    quorum = os.path.abspath(args.quorum)
    problems = common.Problems()
    summary = {"benchmark": "web-load", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "git": common.git_revision(), "machine": common.machine_info(),
               "busy_processes_at_start": common.busiest_processes(),
               "quorum": dict(common.binary_info(quorum), build=args.build),
               "settings": {"annotators": args.annotators, "tasks": args.tasks, "overlap": args.overlap,
                            "seed": args.seed, "lease": "default (600 s)", "max_retry_sleep": args.max_retry_sleep,
                            "think_ms": args.think_ms}}
    work = tempfile.mkdtemp(prefix="quorum-web-load-")
    ok = False
    server = None
    try:
        common.log(f"building the project in {work} …")
        setup, tokens = common.build_project(quorum, work, args.tasks, args.annotators, args.overlap,
                                             dataset=args.dataset, seed=args.seed)
        summary["setup"] = {k: v for k, v in setup.items() if k != "project"}
        common.log(f"set-up: import {setup['import_seconds']:.2f} s, {args.annotators} × annotators add "
                   f"{setup['annotators_add_seconds']:.2f} s, round start {setup['round_start_seconds']:.2f} s")

        server = common.Server(quorum, setup["project"], os.path.join(work, "serve.log"))
        summary["server"] = {"startup_seconds": round(server.startup_seconds, 3), "port": server.port,
                             "command": " ".join(server.args)}
        summary["contract_probes"] = contract_probes(server, next(iter(tokens.values())), problems)
        address = common.ServerAddress(server.host, server.port)
        cpu_before = server.cpu_seconds()
        common.log(f"{args.annotators} annotators labelling on port {server.port} …")
        annotators, t0, t1, client_cpu = run_annotators(address, tokens, args.seed, problems, args.timeout,
                                                        args.max_retry_sleep, think_seconds=args.think_ms / 1000)
        run = collect(annotators, t0, t1)
        cpu_after = server.cpu_seconds()
        run["server_cpu_seconds"] = round(cpu_after - cpu_before, 2) if cpu_before is not None else None
        run["client_cpu_seconds"] = round(client_cpu, 2)
        run["server_peak_rss_mb"] = server.peak_rss_mb()
        run["server_threads"] = server.threads()
        run["load_average_after"] = os.getloadavg()
        summary["run"] = run
        summary["busy_processes_after_run"] = common.busiest_processes()
        summary["server"]["exit_status_after_sigterm"] = server.stop()

        db_ok, db = common.check_database(setup["project"], args.tasks, args.overlap)
        acked, _ = acknowledged_in_database(setup["project"], annotators)
        db["acknowledged_answers_in_database"] = acked
        db["checks"]["every_acknowledged_answer_in_database_with_its_label"] = (
            acked["missing_count"] == 0 and acked["wrong_label_count"] == 0)
        db["checks"]["acknowledged_equals_expected"] = run["answers_acknowledged"] == args.tasks * args.overlap
        db["checks"]["no_annotator_errors"] = not run["annotator_errors"]
        summary["database"] = db
        ok = all(db["checks"].values())
        summary["contract_problems"] = problems.as_dict()
        summary["terminal_loop"] = terminal_figures(args)
        summary["load_average_at_end"] = os.getloadavg()
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            summary["workdir"] = work
        else:
            shutil.rmtree(work, ignore_errors=True)
    summary["all_checks_passed"] = ok
    if not args.no_write:
        summary["results_file"] = os.path.relpath(common.write_results(summary, "load"), common.REPO)
    print(json.dumps(summary, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
