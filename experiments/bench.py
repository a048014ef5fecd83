#!/usr/bin/env python3
"""Runs every benchmark and its peer in the same run, and writes experiments/results/.

Usage: bench.py [--only import,gemm,digits] [--repeats N] [--bin DIR]
Expects release binaries in DIR (default .build-release/release) and the inputs
from gen_data.py in experiments/data/. run_benchmarks.sh does both first.

Every figure is recorded with the exact command that produced it (run from the
package root) and the environment changes it ran with. Ratios compare figures
measured in this same run, interleaved where the runs are long.
"""
import argparse, json, os, platform, shlex, shutil, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REL = lambda p: os.path.relpath(p, ROOT)
DATA = os.path.join(HERE, "data")
WORK = os.path.join(HERE, "work")
RESULTS = os.path.join(HERE, "results")
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def env_without(*names, **extra):
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(extra)
    return env


# Quorum picks the core type itself only when nobody set one.
ENV_QUORUM_AUTO = env_without("OPENBLAS_CORETYPE", "QUORUM_BLAS_CORETYPE_AUTO")
ENV_PRESCOTT = env_without("QUORUM_BLAS_CORETYPE_AUTO", OPENBLAS_CORETYPE="Prescott")
# numpy bundles a newer OpenBLAS: these variables only slow it down.
ENV_NUMPY = env_without(*BLAS_VARS)
# Single-threaded variants: less sensitive to another process holding one of the two cores.
ENV_QUORUM_AUTO_1T = env_without("OPENBLAS_CORETYPE", "QUORUM_BLAS_CORETYPE_AUTO", OPENBLAS_NUM_THREADS="1")
ENV_PRESCOTT_1T = env_without("QUORUM_BLAS_CORETYPE_AUTO", OPENBLAS_CORETYPE="Prescott", OPENBLAS_NUM_THREADS="1")
ENV_NUMPY_1T = env_without(*BLAS_VARS, OPENBLAS_NUM_THREADS="1")
ENV_NOTES = {id(ENV_QUORUM_AUTO): "env -u OPENBLAS_CORETYPE -u QUORUM_BLAS_CORETYPE_AUTO",
             id(ENV_PRESCOTT): "env -u QUORUM_BLAS_CORETYPE_AUTO OPENBLAS_CORETYPE=Prescott",
             id(ENV_NUMPY): "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE",
             id(ENV_QUORUM_AUTO_1T): "env -u OPENBLAS_CORETYPE -u QUORUM_BLAS_CORETYPE_AUTO OPENBLAS_NUM_THREADS=1",
             id(ENV_PRESCOTT_1T): "env -u QUORUM_BLAS_CORETYPE_AUTO OPENBLAS_CORETYPE=Prescott OPENBLAS_NUM_THREADS=1",
             id(ENV_NUMPY_1T): "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1"}


def command_text(cmd, env):
    return (ENV_NOTES[id(env)] + " " if id(env) in ENV_NOTES else "") + " ".join(shlex.quote(c) for c in cmd)


def run(cmd, env=None, parse=True):
    """Runs cmd from the package root; returns (wall seconds, parsed last stdout line, command text)."""
    env = env if env is not None else ENV_QUORUM_AUTO
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"command failed ({p.returncode}): {command_text(cmd, env)}\n{p.stderr}")
    out = json.loads(p.stdout.strip().splitlines()[-1]) if parse else p.stdout
    return wall, out, command_text(cmd, env)


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        if os.path.isfile(path + suffix):
            os.remove(path + suffix)


def loadavg():
    return round(os.getloadavg()[0], 2)


def best_rate(items, walls):
    return items / min(walls)


# ---------------------------------------------------------------- import

def bench_import(bins, repeats):
    files = [("short texts", os.path.join(DATA, "texts_1m.jsonl")),
             ("128-float vectors", os.path.join(DATA, "vectors_200k.jsonl"))]
    out = []
    for label, path in files:
        f = REL(path)
        proj = REL(os.path.join(WORK, "cli-import"))
        db = REL(os.path.join(WORK, "peer.sqlite"))
        cli, peer_min, peer_matched, loads, cmds = [], [], [], [], {}
        items = None
        for r in range(repeats):  # interleaved, so load changes hit every side alike
            loads.append(loadavg())
            fresh(os.path.join(ROOT, proj))
            _, _, cmds["cli_init"] = run([bins["quorum"], "init", "--project", proj, "--labels", "pos,neg"], parse=False)
            wall, s, cmds["cli"] = run([bins["quorum"], "import", f, "--project", proj, "--format", "json"])
            cli.append({"wall": wall, "internal": s["seconds"]})
            items = s["read"]
            assert s["imported"] == items, s
            wall, s, cmds["peer_minimal"] = run(["python3", REL(os.path.join(HERE, "peer_import.py")), f, db, "--schema", "minimal"])
            peer_min.append({"wall": wall, "internal": s["seconds"]})
            assert s["items"] == items, s
            wall, s, cmds["peer_matched"] = run(["python3", REL(os.path.join(HERE, "peer_import.py")), f, db, "--schema", "matched"])
            peer_matched.append({"wall": wall, "internal": s["seconds"]})
            print(f"  import {label} {r + 1}/{repeats}: quorum CLI {cli[-1]['wall']:.2f} s · "
                  f"peer {peer_min[-1]['wall']:.2f} s · peer (matched) {peer_matched[-1]['wall']:.2f} s", file=sys.stderr)
        fresh(os.path.join(ROOT, proj))
        fresh(os.path.join(ROOT, db))
        _, lib, cmds["library"] = run([bins["quorum-bench"], "import", "--file", f, "--repeats", str(repeats),
                                       "--workdir", REL(WORK)])
        _, parse, cmds["parse_only"] = run([bins["quorum-bench"], "parse", "--file", f, "--repeats", str(repeats)])
        rate = lambda runs, key="wall": items / min(x[key] for x in runs)
        row = {
            "input": label, "file": f, "items": items, "bytes": os.path.getsize(path), "repeats": repeats,
            "quorum_cli_items_per_s": rate(cli), "quorum_cli_internal_items_per_s": rate(cli, "internal"),
            "quorum_library_items_per_s": lib["items_per_second_best"],
            "quorum_parse_only_items_per_s": parse["items_per_second_best"],
            "peer_items_per_s": rate(peer_min), "peer_internal_items_per_s": rate(peer_min, "internal"),
            "peer_matched_items_per_s": rate(peer_matched),
            "runs": {"quorum_cli": cli, "peer_minimal": peer_min, "peer_matched": peer_matched,
                     "quorum_library": lib["import_seconds"]},
            "load_average_1m": loads, "commands": cmds,
        }
        row["ratio_cli_vs_peer"] = row["quorum_cli_items_per_s"] / row["peer_items_per_s"]
        row["ratio_library_vs_peer"] = row["quorum_library_items_per_s"] / row["peer_items_per_s"]
        row["ratio_cli_vs_peer_matched"] = row["quorum_cli_items_per_s"] / row["peer_matched_items_per_s"]
        out.append(row)
    return out


# ---------------------------------------------------------------- gemm

def bench_gemm(bins, rounds, n=2048):
    configs = [("quorum_auto", ENV_QUORUM_AUTO), ("quorum_prescott", ENV_PRESCOTT), ("numpy", ENV_NUMPY),
               ("quorum_auto_1t", ENV_QUORUM_AUTO_1T), ("quorum_prescott_1t", ENV_PRESCOTT_1T), ("numpy_1t", ENV_NUMPY_1T)]
    runs = {name: [] for name, _ in configs}
    cmds = {}
    for _ in range(rounds):  # interleaved rounds; each run is itself best of 5 after a warm-up
        for name, env in configs:
            cmd = (["python3", REL(os.path.join(HERE, "peer_numpy_gemm.py"))] if name.startswith("numpy")
                   else [bins["quorum-bench"], "gemm"]) + ["--n", str(n), "--repeats", "5"]
            _, s, cmds[name] = run(cmd, env)
            runs[name].append(s)
    _, doctor, cmds["doctor"] = run([bins["quorum"], "doctor", "--gemm-size", str(n), "--format", "json"], ENV_QUORUM_AUTO)
    best = lambda name: max(r["gflops"] for r in runs[name])
    row = {"n": n, "rounds": rounds}
    for name, _ in configs:
        row[f"{name}_gflops"] = best(name)
        first = runs[name][0]
        if name.startswith("numpy"):
            row[f"{name}_blas"] = first["blas"]
            row["numpy_version"] = first["numpy"]
        else:
            row[f"{name}_kernel"] = first["blas_kernel"]
            row[f"{name}_threads"] = first["blas_threads"]
            row[f"{name}_library"] = first["blas_library"]
    row.update({
        "doctor_gflops": doctor["sgemm_gflops"], "doctor_kernel": doctor["blas_kernel"],
        "runs": {name: [r["gflops"] for r in runs[name]] for name, _ in configs},
        "load_average_1m": [r["load_average_1m"] for r in runs["quorum_auto"]], "commands": cmds,
    })
    for suffix in ("", "_1t"):
        row[f"ratio_auto_vs_prescott{suffix}"] = row[f"quorum_auto{suffix}_gflops"] / row[f"quorum_prescott{suffix}_gflops"]
        row[f"ratio_auto_vs_numpy{suffix}"] = row[f"quorum_auto{suffix}_gflops"] / row[f"numpy{suffix}_gflops"]
    return row


# ---------------------------------------------------------------- digits

def bench_digits(bins, repeats):
    digits = REL(os.path.join(ROOT, "datasets", "digits", "digits.jsonl"))
    cmds = {}
    qcmd = [bins["quorum-bench"], "digits", "--data", digits, "--repeats", str(repeats)]
    skcmd = ["python3", REL(os.path.join(HERE, "peer_sklearn_digits.py")), digits, "--repeats", str(repeats)]
    configs = [("quorum", qcmd, ENV_QUORUM_AUTO), ("sklearn", skcmd, ENV_NUMPY),
               ("quorum_1t", qcmd, ENV_QUORUM_AUTO_1T), ("sklearn_1t", skcmd, ENV_NUMPY_1T),
               ("quorum_max_iter_1000", qcmd + ["--max-iter", "1000"], ENV_QUORUM_AUTO)]
    rounds = {name: [] for name, _, _ in configs}
    for _ in range(3):  # interleaved rounds, each best of `repeats`: the machine is shared
        for name, cmd, env in configs:
            _, s, cmds[name] = run(cmd, env)
            rounds[name].append(s)
    pick = lambda name: min(rounds[name], key=lambda r: r["fit_seconds_best"])
    q, sk, q1000 = pick("quorum"), pick("sklearn"), pick("quorum_max_iter_1000")
    q1, sk1 = pick("quorum_1t"), pick("sklearn_1t")
    # End-to-end CLI, for information: seed = train rows, test = test rows, pool empty.
    proj = REL(os.path.join(WORK, "cli-digits"))
    fresh(os.path.join(ROOT, proj))
    labels = ",".join(str(i) for i in range(10))
    run([bins["quorum"], "init", "--project", proj, "--labels", labels], parse=False)
    cmds["cli_init"] = command_text([bins["quorum"], "init", "--project", proj, "--labels", labels], ENV_QUORUM_AUTO)
    for kind, name in (("seed", "digits_train.jsonl"), ("test", "digits_test.jsonl")):
        _, s, cmds[f"cli_import_{kind}"] = run([bins["quorum"], "import", REL(os.path.join(DATA, name)), "--as", kind,
                                                "--project", proj, "--format", "json"])
    train_walls, train_internal, train = [], [], None
    for _ in range(repeats):
        wall, train, cmds["cli_train"] = run([bins["quorum"], "train", "--project", proj, "--format", "json"])
        train_walls.append(wall)
        train_internal.append(train["seconds"])
    fresh(os.path.join(ROOT, proj))
    row = {
        "train_rows": q["train_rows"], "test_rows": q["test_rows"], "repeats": repeats,
        "quorum_fit_s": q["fit_seconds_best"], "quorum_fit_median_s": q["fit_seconds_median"],
        "quorum_test_accuracy": q["test_accuracy"], "quorum_iterations": q["iterations"],
        "quorum_converged": q["converged"], "quorum_max_iterations": q["max_iterations"], "quorum_kernel": q["blas_kernel"],
        "quorum_max_iter_1000_fit_s": q1000["fit_seconds_best"], "quorum_max_iter_1000_accuracy": q1000["test_accuracy"],
        "quorum_max_iter_1000_iterations": q1000["iterations"],
        "sklearn_fit_s": sk["fit_seconds_best"], "sklearn_fit_median_s": sk["fit_seconds_median"],
        "sklearn_test_accuracy": sk["test_accuracy"], "sklearn_iterations": sk["iterations"],
        "sklearn_version": sk["sklearn"], "sklearn_blas": sk["blas"],
        "cli_train_wall_s_best": min(train_walls), "cli_train_walls": train_walls,
        "cli_train_internal_s": min(train_internal), "cli_train_internals": train_internal, "cli_test_accuracy": train["test_accuracy"],
        "cli_trained_on": train["trained_on"], "cli_test_items": train["test_items"],
        "quorum_1t_fit_s": q1["fit_seconds_best"], "sklearn_1t_fit_s": sk1["fit_seconds_best"],
        "quorum_1t_test_accuracy": q1["test_accuracy"], "sklearn_1t_test_accuracy": sk1["test_accuracy"],
        "runs": {name: [r["fit_seconds"] for r in rounds[name]] for name, _, _ in configs},
        "load_average_1m": [q["load_average_1m"], sk["load_average_1m"]], "commands": cmds,
    }
    row["ratio_fit_time_quorum_over_sklearn"] = row["quorum_fit_s"] / row["sklearn_fit_s"]
    row["speedup_quorum_vs_sklearn"] = row["sklearn_fit_s"] / row["quorum_fit_s"]
    row["ratio_fit_time_quorum_over_sklearn_1t"] = row["quorum_1t_fit_s"] / row["sklearn_1t_fit_s"]
    return row


# ---------------------------------------------------------------- report

def fmt_rate(x):
    return f"{x / 1000:,.0f}k"


def write_markdown(results, path):
    L = ["# Quorum benchmarks: results", "",
         f"{results['environment']['cpu']}, {results['environment']['cores']} cores, git {results['environment']['git_head']}. "
         "Release build. Every ratio compares figures measured in the same run of its section:",
         ""]
    for name, env in results.get("section_environments", {}).items():
        L.append(f"- {name}: run {env['started']}, load average {env['load_average_start']}, busiest processes at start "
                 f"(%CPU, name): {'; '.join(p.strip() for p in env.get('busiest_processes_at_start', []))}")
    L.append("")
    if "import" in results:
        L += ["## Import throughput (items/s, best of repeats, end-to-end wall time)", "",
              "| input | items | Quorum CLI | Quorum library | Python peer (minimal table) | CLI ÷ peer | Python peer (Quorum's schema + SHA-256) | CLI ÷ that peer | Quorum reader alone (no store) |",
              "|---|---|---|---|---|---|---|---|---|"]
        for r in results["import"]:
            L.append(f"| {r['input']} | {r['items']:,} | {fmt_rate(r['quorum_cli_items_per_s'])} | "
                     f"{fmt_rate(r['quorum_library_items_per_s'])} | {fmt_rate(r['peer_items_per_s'])} | "
                     f"{r['ratio_cli_vs_peer']:.2f}× | {fmt_rate(r['peer_matched_items_per_s'])} | {r['ratio_cli_vs_peer_matched']:.2f}× | "
                     f"{fmt_rate(r['quorum_parse_only_items_per_s'])} |")
        L.append("")
        t = results["import"][0]["quorum_cli_items_per_s"]
        L += [f"Target ≥100k items/s for short texts (Quorum CLI): **{'met' if t >= 100_000 else 'NOT met'}** ({fmt_rate(t)}/s).", ""]
    if "gemm" in results:
        g = results["gemm"]
        arch = lambda blas: ", ".join(f"{b.get('architecture')} (OpenBLAS {b.get('version')})" for b in blas)
        L += [f"## sgemm {g['n']}×{g['n']} (GFLOP/s, best of {g['rounds']} interleaved rounds × 5 repeats)", "",
              "| configuration | kernel | 2 threads | ÷ Quorum auto | 1 thread | ÷ Quorum auto |", "|---|---|---|---|---|---|"]
        rows = [("Quorum, automatic core type", g["quorum_auto_kernel"], "quorum_auto"),
                ("Quorum, OPENBLAS_CORETYPE=Prescott", g["quorum_prescott_kernel"], "quorum_prescott"),
                (f"numpy {g['numpy_version']} float32 matmul", arch(g["numpy_blas"]), "numpy")]
        for title, kernel, key in rows:
            L.append(f"| {title} | {kernel} | {g[key + '_gflops']:.0f} | {g[key + '_gflops'] / g['quorum_auto_gflops']:.2f}× | "
                     f"{g[key + '_1t_gflops']:.0f} | {g[key + '_1t_gflops'] / g['quorum_auto_1t_gflops']:.2f}× |")
        L += ["", f"Quorum auto ÷ Prescott = {g['ratio_auto_vs_prescott']:.2f}× (1 thread: {g['ratio_auto_vs_prescott_1t']:.2f}×); "
              f"Quorum auto ÷ numpy = {g['ratio_auto_vs_numpy']:.2f}× (1 thread: {g['ratio_auto_vs_numpy_1t']:.2f}×). "
              f"`quorum doctor` printed {g['doctor_gflops']} GFLOP/s ({g['doctor_kernel']}).", ""]
    if "digits" in results:
        d = results["digits"]
        L += [f"## Train on digits ({d['train_rows']} train / {d['test_rows']} test rows, best of 3 interleaved rounds × {d['repeats']} repeats)", "",
              "| side | fit (standardise + LR) | test accuracy | iterations |", "|---|---|---|---|",
              f"| Quorum Classifier.train (max {d['quorum_max_iterations']} it.) | {d['quorum_fit_s'] * 1000:.1f} ms | {d['quorum_test_accuracy']:.4f} | {d['quorum_iterations']} |",
              f"| scikit-learn {d['sklearn_version']} | {d['sklearn_fit_s'] * 1000:.1f} ms | {d['sklearn_test_accuracy']:.4f} | {d['sklearn_iterations']} |",
              f"| Quorum, OPENBLAS_NUM_THREADS=1 | {d['quorum_1t_fit_s'] * 1000:.1f} ms | {d['quorum_1t_test_accuracy']:.4f} | {d['quorum_iterations']} |",
              f"| scikit-learn, OPENBLAS_NUM_THREADS=1 | {d['sklearn_1t_fit_s'] * 1000:.1f} ms | {d['sklearn_1t_test_accuracy']:.4f} | {d['sklearn_iterations']} |",
              f"| Quorum, max_iter 1000 | {d['quorum_max_iter_1000_fit_s'] * 1000:.1f} ms | {d['quorum_max_iter_1000_accuracy']:.4f} | {d['quorum_max_iter_1000_iterations']} |", "",
              f"Fit time Quorum ÷ scikit-learn = {d['ratio_fit_time_quorum_over_sklearn']:.2f} (Quorum {d['speedup_quorum_vs_sklearn']:.1f}× faster); "
              f"single-threaded BLAS on both sides: {d['ratio_fit_time_quorum_over_sklearn_1t']:.2f}. "
              f"`quorum train` end to end: {d['cli_train_wall_s_best'] * 1000:.0f} ms wall "
              f"({d['cli_train_internal_s'] * 1000:.0f} ms inside), test accuracy {d['cli_test_accuracy']:.4f}.", ""]
    L += ["## Commands", "", "Run from the package root. Environment prefixes show what each command changed.", ""]
    for section in ("import", "gemm", "digits"):
        if section not in results:
            continue
        rows = results[section] if isinstance(results[section], list) else [results[section]]
        for r in rows:
            for name, cmd in r["commands"].items():
                L.append(f"- {section}{' (' + r['input'] + ')' if 'input' in r else ''} · {name}: `{cmd}`")
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="import,gemm,digits")
    ap.add_argument("--repeats", type=int, default=3, help="repeats for the import runs")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build-release", "release"))
    a = ap.parse_args()
    bins = {name: REL(os.path.join(a.bin, name)) for name in ("quorum", "quorum-bench")}
    for b in bins.values():
        if not os.path.exists(os.path.join(ROOT, b)):
            sys.exit(f"missing {b}: build with run_benchmarks.sh first")
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(RESULTS, exist_ok=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    results = {"environment": {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpu": cpu, "cores": os.cpu_count(),
        "load_average_start": loadavg(), "git_head": rev, "python": platform.python_version(),
        "inherited_blas_env": {k: os.environ.get(k) for k in BLAS_VARS},
        "binaries": bins,
        # This machine is shared: note what else was busy when the run started.
        "busiest_processes_at_start": subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
                                                     capture_output=True, text=True).stdout.splitlines()[:4]}}
    only = set(a.only.split(","))
    steps = [("import", lambda: bench_import(bins, a.repeats)), ("gemm", lambda: bench_gemm(bins, 3)),
             ("digits", lambda: bench_digits(bins, 5))]
    for name, step in steps:
        if name in only:
            print(f"running {name} …", file=sys.stderr)
            results[name] = step()
            results.setdefault("section_environments", {})[name] = results["environment"]
            with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
                json.dump({"environment": results["environment"], name: results[name]}, f, indent=2)
    # Sections not run this time keep their last results, so a partial rerun still gives a full summary.
    for name, _ in steps:
        path = os.path.join(RESULTS, f"{name}.json")
        if name not in results and os.path.exists(path):
            saved = json.load(open(path))
            results[name] = saved[name]
            results.setdefault("section_environments", {})[name] = saved["environment"]
    write_markdown(results, os.path.join(RESULTS, "summary.md"))
    print(open(os.path.join(RESULTS, "summary.md")).read())


if __name__ == "__main__":
    main()
