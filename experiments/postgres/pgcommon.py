"""Shared code for the PostgreSQL benchmarks (run.py, import_bench.py, load_bench.py).

- Cluster: scripts/postgres.sh start/stop (a throw-away cluster on 127.0.0.1, fsync=off), fresh
  databases, the cluster's CPU time (postmaster + every backend, live or exited), server settings;
- make_items: the deterministic 1,000,000-line JSONL of short real texts;
- cpu_children / run_timed: wall clock and CPU of a child process.

Reuses experiments/web/common.py (binary_env, binary_info, machine_info, busiest_processes, log, …).
"""
import hashlib
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "experiments", "web"))
import common  # noqa: E402  (experiments/web/common.py)

DEFAULT_QUORUM = os.path.join(REPO, ".build", "release", "quorum")
DEFAULT_DATASET = "/work/shared/datasets/rotten_tomatoes.jsonl"
DEFAULT_ITEMS = "/tmp/quorum-pg-bench/items_1m.jsonl"
POSTGRES_SH = os.path.join(REPO, "scripts", "postgres.sh")

log = common.log


# ---------------------------------------------------------------- the data

def make_items(dataset, count, path):
    """`count` lines {"id": "rt-<n>", "text": <review snippet n mod N> + " #<n>", "movie": …}, n = 0 … count-1,
    cycling through `dataset` in file order. Every line is a new item (distinct id and distinct text).
    Deterministic: the same dataset gives the same bytes (sha256 recorded). Reuses the file when it
    is already there with the expected line count and a matching recipe stamp."""
    stamp_path = path + ".recipe.json"
    with open(dataset, "rb") as f:
        dataset_sha = hashlib.sha256(f.read()).hexdigest()
    recipe = {"dataset": dataset, "dataset_sha256": dataset_sha, "count": count, "version": 1,
              "rule": 'id = "rt-<n>", text = text[n mod rows] + " #<n>", movie kept; n = 0..count-1'}
    if os.path.exists(path) and os.path.exists(stamp_path):
        with open(stamp_path) as f:
            old = json.load(f)
        if {k: old.get(k) for k in recipe} == recipe:
            return old
    rows = []
    with open(dataset, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            rows.append((o.get("text") or "", o.get("movie")))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    h = hashlib.sha256()
    t = time.perf_counter()
    with open(path + ".tmp", "w", encoding="utf-8") as out:
        buf = []
        for n in range(count):
            text, movie = rows[n % len(rows)]
            item = {"id": f"rt-{n}", "text": f"{text} #{n}"}
            if movie is not None:
                item["movie"] = movie
            buf.append(json.dumps(item, ensure_ascii=False) + "\n")
            if len(buf) == 10000:
                chunk = "".join(buf)
                out.write(chunk)
                h.update(chunk.encode("utf-8"))
                buf = []
        chunk = "".join(buf)
        out.write(chunk)
        h.update(chunk.encode("utf-8"))
    os.replace(path + ".tmp", path)
    info = dict(recipe, path=path, bytes=os.path.getsize(path), sha256=h.hexdigest(),
                dataset_rows=len(rows), seconds_to_write=round(time.perf_counter() - t, 2))
    with open(stamp_path, "w") as f:
        json.dump(info, f, indent=2)
    return info


# ---------------------------------------------------------------- processes

def run_timed(args, env=None, check=True):
    """Runs a child; returns (CompletedProcess, wall seconds, child CPU seconds user, system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, env=env or common.binary_env())
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p, wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def machine_busy_seconds():
    """CPU seconds the whole machine has been busy (all cores, all processes) since boot: /proc/stat's
    user + nice + system + irq + softirq + steal. The difference over a run, less the CPU of the
    processes under test, is what anything else on the machine used meanwhile."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- the cluster

class Cluster:
    """A throw-away PostgreSQL cluster started with scripts/postgres.sh (fsync=off, 127.0.0.1)."""

    def __init__(self, directory):
        self.dir = directory
        p = subprocess.run(["bash", POSTGRES_SH, "start", directory], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"scripts/postgres.sh start {directory} failed: {p.stderr.strip()}")
        self.url = p.stdout.strip().splitlines()[-1]          # postgresql://postgres@127.0.0.1:PORT/quorum
        self.base = self.url.rsplit("/", 1)[0]
        self.admin_url = self.base + "/postgres"
        self.log_path = os.path.join(directory, "server.log")

    def stop(self):
        subprocess.run(["bash", POSTGRES_SH, "stop", self.dir], capture_output=True, text=True)

    def connect(self, db="postgres", autocommit=True):
        import psycopg
        return psycopg.connect(f"{self.base}/{db}", autocommit=autocommit)

    def fresh_database(self, name):
        """Drops `name` if it exists and creates it empty. Returns its URL."""
        with self.connect() as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base}/{name}"

    def drop_database(self, name):
        with self.connect() as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def checkpoint(self):
        with self.connect() as c:
            c.execute("CHECKPOINT")

    def settings(self):
        names = ["server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers",
                 "work_mem", "maintenance_work_mem", "max_wal_size", "checkpoint_timeout", "max_connections",
                 "autovacuum", "jit"]
        with self.connect() as c:
            return {n: c.execute(f"SHOW {n}").fetchone()[0] for n in names}

    def postmaster_pid(self):
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def cpu_seconds(self):
        """CPU (user + system) of the whole cluster so far: the postmaster's own and its reaped
        children's (exited backends), plus every live child's."""
        tck = os.sysconf("SC_CLK_TCK")
        pm = self.postmaster_pid()

        def stat(pid):
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()

        s = stat(pm)
        total = int(s[11]) + int(s[12]) + int(s[13]) + int(s[14])
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == pm:
                continue
            try:
                f = stat(entry)
            except OSError:
                continue
            if int(f[1]) == pm:            # ppid
                total += int(f[11]) + int(f[12])
        return total / tck

    def log_offset(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, offset, end=None):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            data = f.read() if end is None else f.read(max(0, end - offset))
            return data.decode("utf-8", "replace")


def statement_durations(log_text):
    """The `duration: X ms  PHASE …: SQL` lines of a server log (PHASE = statement, or parse/bind/execute
    for the extended protocol), as (ms, phase, sql) triples."""
    out = []
    lines = log_text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        k = line.find("duration: ")
        if k >= 0 and " ms" in line[k:]:
            rest = line[k + len("duration: "):]
            ms_text, _, tail = rest.partition(" ms")
            try:
                ms = float(ms_text)
            except ValueError:
                i += 1
                continue
            head, _, sql = tail.partition(":")
            phase = head.split()[0] if head.split() else "?"
            # Multi-line statements continue on lines starting with a tab.
            j = i + 1
            while j < len(lines) and lines[j].startswith("\t"):
                sql += " " + lines[j].strip()
                j += 1
            out.append((ms, phase, " ".join(sql.split())))
            i = j
            continue
        i += 1
    return out


def summarize_statements(triples, top=12):
    """Groups statements by their text (COPY and INSERT by their first words): executions, server ms
    (parse + bind + execute), max ms of one phase."""
    groups = {}
    for ms, phase, sql in triples:
        words = sql.split()
        key = sql[:100]
        if words and words[0].upper() in ("COPY", "INSERT"):
            key = " ".join(words[:3])
        g = groups.setdefault(key, {"executions": 0, "total_ms": 0.0, "max_ms": 0.0})
        if phase in ("execute", "statement"):
            g["executions"] += 1
        g["total_ms"] += ms
        g["max_ms"] = max(g["max_ms"], ms)
    ranked = sorted(groups.items(), key=lambda kv: -kv[1]["total_ms"])
    executions = sum(1 for _, phase, _ in triples if phase in ("execute", "statement"))
    return ([{"statement": k, "executions": v["executions"], "total_ms": round(v["total_ms"], 1), "max_ms": round(v["max_ms"], 1)}
             for k, v in ranked[:top]], round(sum(ms for ms, _, _ in triples), 1), executions)


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def write_results(summary, kind):
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(HERE, "results", f"{kind}-{stamp}.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return path
