#!/usr/bin/env python3
"""Crash benchmark for `quorum serve`: kill -9 the server mid-round, restart it, finish the round.

    python3 experiments/web/crash.py [--quorum .build/release/quorum] [--annotators 50] [--tasks 5000]
                                     [--overlap 2] [--seed 1] [--lease 5] [--kill-at 0.4] [--leavers 10]
                                     [--downtime 1]

Same project and annotators as load.py, but the server runs with `--lease 5`. When 40% of the
answers wanted have been acknowledged (200), the server gets SIGKILL. Right then the claims table
is read (read-only): the claims the dead server had granted. After --downtime seconds a new
`quorum serve` starts on a new port; the annotators reconnect to it and go on until next says
done, except --leavers of them (10 by default: the first by name among those holding a claim at the
kill), who walk away at the crash: their claims must come back when their 5 s lease ends.

Checks: every answer that got a 200 is in the database with its label; still exactly T×K answers,
no (task, annotator) pair twice, every task answered exactly K times; every item claimed at the
kill is answered K times by the end; each task a leaver held was completed only after that
leaver's claim expired (the lease is honoured across the restart) and not by the leaver; the
annotators who came back were handed the item they held (resume). Prints a JSON summary and writes
experiments/web/results/crash-*.json. Exit status 1 when a check fails.
"""
import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import load  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quorum", default=common.DEFAULT_QUORUM)
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--overlap", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--build", default="release", help="what --quorum is (recorded in the results): release or debug")
    ap.add_argument("--lease", type=float, default=5)
    ap.add_argument("--kill-at", type=float, default=0.4, help="share of the wanted answers acknowledged before kill -9")
    ap.add_argument("--leavers", type=int, default=10, help="annotators holding a claim at the kill who do not come back")
    ap.add_argument("--downtime", type=float, default=1.0, help="seconds between the kill and the restart")
    ap.add_argument("--dataset", default=common.DEFAULT_DATASET)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--max-retry-sleep", type=float, default=1.0)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    return ap.parse_args()


def parse_timestamp(text):
    # Quorum's created_at: 2026-12-03T10:25:27.855Z (UTC).
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


class Crasher:
    """Watches the acknowledged answers; at the threshold: kill -9, read the claims, restart, publish."""

    def __init__(self, args, quorum, project, server, address, work):
        self.args, self.quorum, self.project, self.server, self.address, self.work = args, quorum, project, server, address, work
        self.threshold = int(args.kill_at * args.tasks * args.overlap)
        self.info = {}
        self.new_server = None
        self.error = None
        self.done = threading.Event()

    def start(self, annotators, t0):
        self.annotators, self.t0 = annotators, t0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            while sum(len(a.acked) for a in self.annotators) < self.threshold:
                time.sleep(0.002)
            info = self.info
            info["acknowledged_before_kill"] = sum(len(a.acked) for a in self.annotators)
            info["server_cpu_seconds_before_kill"] = self.server.cpu_seconds()
            t_kill = time.perf_counter()
            info["kill_wall_clock"] = time.time()
            self.server.kill9()
            self.t_dead = time.perf_counter()
            info["kill_at_seconds"] = round(t_kill - self.t0, 3)
            info["kill_exit_status"] = self.server.proc.returncode
            claims = common.claims_snapshot(self.project)
            info["claims_at_kill"] = claims
            self.answers_at_kill = common.answers_by_pair(self.project)
            info["answers_in_database_at_kill"] = len(self.answers_at_kill)
            # The leavers: the first --leavers annotators (by name) holding a live claim at the kill, so that
            # claims are left behind for the lease to bring back. The others come back after the restart.
            holders = sorted({c["annotator"] for c in claims if c["expires_at"] > info["kill_wall_clock"]})
            self.address.leavers = set(holders[:self.args.leavers])
            info["leavers"] = sorted(self.address.leavers)
            self.address.decided.set()
            remaining = self.args.downtime - (time.perf_counter() - t_kill)
            if remaining > 0:
                time.sleep(remaining)
            self.new_server = common.Server(self.quorum, self.project, os.path.join(self.work, "serve.log"),
                                            lease=self.args.lease)
            t_up = time.perf_counter()
            self.address.publish(self.new_server.host, self.new_server.port)
            info["restart_startup_seconds"] = round(self.new_server.startup_seconds, 3)
            info["kill_to_listening_seconds"] = round(t_up - t_kill, 3)
            info["new_port"] = self.new_server.port
            self.t_kill, self.t_up = t_kill, t_up
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"
            self.address.closed = True
            self.address.decided.set()
            with self.address.cond:
                self.address.cond.notify_all()
        finally:
            self.done.set()


def crash_checks(project, annotators, crasher, leavers, overlap):
    info = crasher.info
    answers = common.answers_by_pair(project)  # (item, annotator) -> (label, created_at)
    by_item = {}
    for (item, ann), (label, created) in answers.items():
        by_item.setdefault(item, []).append((parse_timestamp(created), ann))
    out, checks = {}, {}

    # In-flight answers at the kill: the client never heard back.
    unknown = [(u["item"], a.name) for a in annotators for u in a.unknown]
    committed = [p for p in unknown if p in crasher.answers_at_kill]
    acked_pairs = {(item, a.name) for a in annotators for item, _, _ in a.acked}
    out["answers_in_flight_at_kill"] = len(unknown)
    out["in_flight_answers_committed_anyway"] = len(committed)
    out["in_flight_answers_not_committed"] = len(unknown) - len(committed)
    out["in_flight_answers_not_committed_and_answered_again_after_restart"] = sum(
        1 for p in unknown if p not in committed and p in acked_pairs)
    out["in_flight_answers_not_committed_by_leavers"] = sum(1 for p in unknown if p not in committed and p[1] in leavers)
    out["answers_in_database_not_acknowledged"] = len(set(answers) - acked_pairs)

    # Claims the dead server had granted.
    claims = info["claims_at_kill"]
    out["claims_at_kill"] = len(claims)
    out["claims_at_kill_live"] = sum(1 for c in claims if c["expires_at"] > info["kill_wall_clock"])
    not_complete = [c["item"] for c in claims if len(by_item.get(c["item"], [])) != overlap]
    out["claimed_items_not_answered_exactly_overlap_times"] = not_complete
    checks["every_item_claimed_at_kill_answered_overlap_times"] = not not_complete

    leaver_claims = [c for c in claims if c["annotator"] in leavers]
    out["leaver_claims_at_kill"] = len(leaver_claims)
    early, by_leaver, delays = [], [], []
    for c in leaver_claims:
        times = sorted(by_item.get(c["item"], []))
        if any(ann == c["annotator"] for _, ann in times):
            by_leaver.append(c)
        if times:
            last = times[-1][0]
            delays.append(last - c["expires_at"])
            # Completed before the leaver's lease ended (1 ms slack: created_at has millisecond resolution).
            if last < c["expires_at"] - 0.001:
                early.append({"item": c["item"], "completed": last, "claim_expired": c["expires_at"]})
    out["leaver_claims_answered_by_the_leaver"] = len(by_leaver)
    out["leaver_tasks_completed_before_their_lease_ended"] = early
    if delays:
        out["leaver_tasks_completed_after_lease_end_seconds_min_max"] = [round(min(delays), 3), round(max(delays), 3)]
    checks["leaver_claims_came_back_and_were_answered_by_others"] = not by_leaver and not not_complete
    checks["lease_honoured_across_restart"] = not early

    # The annotators who came back: their first next after the restart.
    held_at_kill = {}
    for c in claims:
        held_at_kill.setdefault(c["annotator"], []).append(c["item"])
    resumed_same, resumed_other, details = 0, 0, []
    for a in annotators:
        if a.name in leavers or a.resumed is None:
            continue
        held = held_at_kill.get(a.name, [])
        live = [c for c in claims if c["annotator"] == a.name and c["expires_at"] > info["kill_wall_clock"]]
        if not live:
            continue
        if a.resumed["after"] in held:
            resumed_same += 1
        else:
            resumed_other += 1
            details.append({"annotator": a.name, "claimed_at_kill": held, "client_view": a.lost_at,
                            "first_next_after_restart": a.resumed})
    out["returning_annotators_with_a_claim_at_kill"] = resumed_same + resumed_other
    out["returning_annotators_handed_their_claimed_item_first"] = resumed_same
    out["returning_annotators_handed_another_item"] = details[:10]
    checks["returning_annotators_resume_their_claim"] = resumed_other == 0
    return out, checks


def main():
    args = parse_args()
    quorum = os.path.abspath(args.quorum)
    problems = common.Problems()
    summary = {"benchmark": "web-crash", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "git": common.git_revision(), "machine": common.machine_info(),
               "busy_processes_at_start": common.busiest_processes(), "quorum": dict(common.binary_info(quorum), build=args.build),
               "settings": {k: getattr(args, k) for k in ("annotators", "tasks", "overlap", "seed", "lease", "kill_at",
                                                          "leavers", "downtime", "max_retry_sleep")}}
    work = tempfile.mkdtemp(prefix="quorum-web-crash-")
    ok = False
    servers = []
    try:
        common.log(f"building the project in {work} …")
        setup, tokens = common.build_project(quorum, work, args.tasks, args.annotators, args.overlap,
                                             dataset=args.dataset, seed=args.seed)
        summary["setup"] = {k: v for k, v in setup.items() if k not in ("project",)}
        server = common.Server(quorum, setup["project"], os.path.join(work, "serve.log"), lease=args.lease)
        servers.append(server)
        summary["server"] = {"startup_seconds": round(server.startup_seconds, 3), "command": " ".join(server.args)}
        address = common.ServerAddress(server.host, server.port)
        crasher = Crasher(args, quorum, setup["project"], server, address, work)
        common.log(f"{args.annotators} annotators labelling; kill -9 after {crasher.threshold} answers …")
        annotators, t0, t1, client_cpu = load.run_annotators(address, tokens, args.seed, problems, args.timeout,
                                                             args.max_retry_sleep, reconnect=True,
                                                             on_start=crasher.start)
        crasher.done.wait(5)
        if crasher.new_server:
            servers.append(crasher.new_server)
        if crasher.error or not crasher.new_server:
            raise RuntimeError(f"the crash/restart step failed: {crasher.error}")
        leavers = set(crasher.address.leavers)
        run = load.collect(annotators, t0, t1)
        run["client_cpu_seconds"] = round(client_cpu, 2)
        t_kill, t_up = crasher.t_kill, crasher.t_up
        acked_times = sorted(t for a in annotators for _, _, t in a.acked)
        t_dead = crasher.t_dead
        before = [t for t in acked_times if t <= t_dead]
        after = [t for t in acked_times if t > t_up]
        timings = {
            "kill_after_seconds": round(t_kill - t0, 3),
            "acknowledged_before_kill": len(before),
            "throughput_before_kill_answers_per_s": round(len(before) / (t_kill - t0), 1),
            "downtime_setting_seconds": args.downtime,
            "kill_to_new_server_listening_seconds": round(t_up - t_kill, 3),
            "new_server_startup_seconds": crasher.info["restart_startup_seconds"],
            "acknowledged_between_kill_and_restart": len(acked_times) - len(before) - len(after),
            "kill_to_first_acknowledged_answer_seconds": round(after[0] - t_kill, 3) if after else None,
            "restart_to_first_acknowledged_answer_seconds": round(after[0] - t_up, 3) if after else None,
            "acknowledged_after_restart": len(after),
            "throughput_after_restart_answers_per_s": round(len(after) / (after[-1] - t_up), 1) if after else None,
            "total_seconds_to_last_answer": round(acked_times[-1] - t0, 3) if acked_times else None,
        }
        cyc_before = [c for a in annotators for c, m in zip(a.cycle_times, a.cycle_marks) if m <= t_kill]
        cyc_after = [c for a in annotators for c, m in zip(a.cycle_times, a.cycle_marks) if m > t_up]
        timings["cycle_before_kill"] = common.summarize(cyc_before)
        timings["cycle_after_restart"] = common.summarize(cyc_after)
        run["timings"] = timings
        run["leavers"] = sorted(leavers)
        run["leavers_that_left"] = sum(1 for a in annotators if a.left)
        run["annotators_that_reconnected"] = sum(1 for a in annotators if a.resumed is not None)
        crash_info = {k: v for k, v in crasher.info.items() if k != "claims_at_kill"}
        run["crash"] = crash_info
        run["new_server_cpu_seconds"] = crasher.new_server.cpu_seconds()
        summary["run"] = run
        summary["busy_processes_after_run"] = common.busiest_processes()
        summary["server"]["restarted_exit_status_after_sigterm"] = crasher.new_server.stop()

        db_ok, db = common.check_database(setup["project"], args.tasks, args.overlap)
        acked, _ = load.acknowledged_in_database(setup["project"], annotators)
        db["acknowledged_answers_in_database"] = acked
        db["checks"]["every_acknowledged_answer_in_database_with_its_label"] = (
            acked["missing_count"] == 0 and acked["wrong_label_count"] == 0)
        db["checks"]["no_annotator_errors"] = not run["annotator_errors"]
        crash_out, crash_checks_ = crash_checks(setup["project"], annotators, crasher, leavers, args.overlap)
        db["crash"] = crash_out
        db["checks"].update(crash_checks_)
        summary["database"] = db
        summary["contract_problems"] = problems.as_dict()
        ok = all(db["checks"].values())
        summary["load_average_at_end"] = os.getloadavg()
    finally:
        for s in servers:
            s.stop()
        if args.keep:
            summary["workdir"] = work
        else:
            shutil.rmtree(work, ignore_errors=True)
    summary["all_checks_passed"] = ok
    if not args.no_write:
        summary["results_file"] = os.path.relpath(common.write_results(summary, "crash"), common.REPO)
    print(json.dumps(summary, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
