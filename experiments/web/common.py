"""Shared code for the web benchmarks (load.py, crash.py): Python 3 standard library only.

- build_project: a fresh project made with the `quorum` binary (init, import, annotators, round start);
- start_server / stop_server: `quorum serve --port 0`, the port read from its first stdout line;
- Api: one keep-alive http.client connection per simulated annotator;
- summarize: p50/p90/p99/max of a list of seconds, in milliseconds;
- check_database: the invariants on quorum.sqlite, opened read-only.
"""
import hashlib
import http.client
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_QUORUM = os.path.join(REPO, ".build", "release", "quorum")
DEFAULT_BENCH = os.path.join(REPO, ".build", "release", "quorum-bench")
DEFAULT_DATASET = "/work/shared/datasets/rotten_tomatoes.jsonl"
LABELS = ["positive", "negative", "neutral", "off_topic"]


def binary_env():
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run_quorum(quorum, args):
    """Runs `quorum ARGS`, returns stdout; raises with stderr on failure."""
    p = subprocess.run([quorum] + args, capture_output=True, text=True, env=binary_env())
    if p.returncode != 0:
        raise RuntimeError(f"quorum {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


# ---------------------------------------------------------------- the project

def write_items(dataset, count, path):
    """The first `count` rows of `dataset` (file order) whose text is not an exact repeat of an
    earlier row's text (Quorum links content duplicates and samples each content once, so a
    repeated text would leave the round short of `count` tasks). Writes id, text, movie."""
    seen = set()
    written = skipped = read = 0
    first_id = last_id = None
    with open(dataset, encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
        for line in src:
            if written == count:
                break
            read += 1
            row = json.loads(line)
            text = row.get("text")
            if not text or text in seen:
                skipped += 1
                continue
            seen.add(text)
            item = {"id": row["id"], "text": text}
            if "movie" in row:
                item["movie"] = row["movie"]
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            written += 1
            first_id = first_id or row["id"]
            last_id = row["id"]
    if written < count:
        raise RuntimeError(f"{dataset} has only {written} distinct texts")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {"dataset": dataset, "items": written, "rows_read": read, "repeated_texts_skipped": skipped,
            "first_id": first_id, "last_id": last_id, "items_file_sha256": digest}


def build_project(quorum, workdir, n_items, n_annotators, overlap, dataset=DEFAULT_DATASET, labels=LABELS, seed=1):
    """init, import, annotators add (one process each), round start. Returns a dict with
    the project path, the annotators' tokens and the set-up timings."""
    project = os.path.join(workdir, "project")
    items_path = os.path.join(workdir, "items.jsonl")
    info = {"project": project, "labels": labels}
    info["data"] = write_items(dataset, n_items, items_path)

    t = time.perf_counter()
    run_quorum(quorum, ["init", "--labels", ",".join(labels), "--project", project])
    info["init_seconds"] = time.perf_counter() - t

    t = time.perf_counter()
    out = run_quorum(quorum, ["import", items_path, "--meta-fields", "movie", "--format", "json", "--project", project])
    info["import_seconds"] = time.perf_counter() - t
    info["import_output"] = json.loads(out) if out.strip().startswith("{") else out.strip()

    t = time.perf_counter()
    tokens = {}
    for i in range(n_annotators):
        name = f"ann{i:03d}"
        out = json.loads(run_quorum(quorum, ["annotators", "add", name, "--format", "json", "--project", project]))
        assert out["annotator"] == name and out["role"] == "annotator", out
        tokens[name] = out["token"]
    info["annotators_add_seconds"] = time.perf_counter() - t
    info["annotators"] = n_annotators

    t = time.perf_counter()
    out = run_quorum(quorum, ["round", "start", "--size", str(n_items), "--overlap", str(overlap),
                              "--gold-rate", "0", "--audit-rate", "0", "--blind-rate", "0",
                              "--seed", str(seed), "--format", "json", "--project", project])
    info["round_start_seconds"] = time.perf_counter() - t
    info["round"] = json.loads(out)
    if info["round"]["tasks"] != n_items:
        raise RuntimeError(f"round start made {info['round']['tasks']} tasks, not {n_items}: {out}")
    return info, tokens


# ---------------------------------------------------------------- the server

class Server:
    """`quorum serve`: started with --port 0 (or a given port); stdout's first line gives the port."""

    def __init__(self, quorum, project, log_path, lease=None, port=0, host="127.0.0.1"):
        self.quorum, self.project, self.log_path, self.lease = quorum, project, log_path, lease
        args = [quorum, "serve", "--project", project, "--host", host, "--port", str(port)]
        if lease is not None:
            args += ["--lease", str(lease)]
        self.args = args
        self.log = open(log_path, "ab")
        t = time.perf_counter()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, env=binary_env())
        line = self._first_line(timeout=30)
        self.startup_seconds = time.perf_counter() - t
        prefix = "listening on http://"
        if not line.startswith(prefix):
            self.proc.kill()
            raise RuntimeError(f"quorum serve printed {line!r}, expected '{prefix}HOST:PORT' (log: {log_path})")
        hostport = line[len(prefix):].strip().rstrip("/")
        self.host, port_text = hostport.rsplit(":", 1)
        self.port = int(port_text)
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _first_line(self, timeout):
        box = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not box:
            self.proc.kill()
            raise RuntimeError(f"quorum serve printed nothing in {timeout} s (log: {self.log_path})")
        return box[0].decode("utf-8", "replace").rstrip("\n")

    def _drain(self):
        for line in self.proc.stdout:
            self.log.write(b"[stdout] " + line)
            self.log.flush()

    @property
    def pid(self):
        return self.proc.pid

    def cpu_seconds(self):
        """user + system CPU time of the server process so far (from /proc)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return None

    def peak_rss_mb(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None

    def threads(self):
        try:
            return len(os.listdir(f"/proc/{self.pid}/task"))
        except OSError:
            return None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.flush()
        return self.proc.returncode


# ---------------------------------------------------------------- the client

class Api:
    """One annotator's keep-alive HTTP/1.1 connection. request() returns (status, parsed JSON or text,
    seconds from sending the request to having read the whole response)."""

    def __init__(self, host, port, token, timeout=60):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self.conn = None
        self.connections_opened = 0

    def retarget(self, host, port):
        self.close()
        self.host, self.port = host, port

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, token=True):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        if self.conn.sock is None:
            self.connections_opened += 1
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {self.token if token is True else token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except Exception:
            self.close()
            raise
        elapsed = time.perf_counter() - t
        if resp.will_close:
            self.close()
        ctype = resp.getheader("Content-Type", "")
        if "json" in ctype:
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = raw.decode("utf-8", "replace")
        else:
            payload = raw.decode("utf-8", "replace")
        return resp.status, payload, elapsed


TASK_KEYS = {"id", "round", "text", "meta", "fields", "content", "suggestion", "labels", "lease_seconds", "blind"}
NEXT_KEYS = {"task", "reason", "retry_after", "progress"}
PROGRESS_KEYS = {"done", "left", "mine"}


def next_shape_problems(body):
    """Differences between a /api/v1/next body and the contract (/tmp/quorum-api.md)."""
    problems = []
    if not isinstance(body, dict):
        return [f"body is not a JSON object: {str(body)[:200]}"]
    missing = NEXT_KEYS - body.keys()
    if missing:
        problems.append(f"next: missing keys {sorted(missing)}")
    progress = body.get("progress")
    if not isinstance(progress, dict) or PROGRESS_KEYS - progress.keys():
        problems.append(f"next: progress is {progress!r}")
    task = body.get("task")
    if task is not None:
        missing = TASK_KEYS - task.keys()
        if missing:
            problems.append(f"next: task lacks keys {sorted(missing)}")
        if body.get("reason") is not None:
            problems.append(f"next: task given with reason {body.get('reason')!r}")
    elif body.get("reason") not in ("done", "waiting", "no_round"):
        problems.append(f"next: no task and reason {body.get('reason')!r}")
    return problems


class Problems:
    """Contract mismatches seen, counted by kind, with the first example of each."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = {}

    def add(self, kind, example):
        with self.lock:
            if kind not in self.seen:
                self.seen[kind] = {"count": 0, "example": example}
            self.seen[kind]["count"] += 1

    def as_dict(self):
        with self.lock:
            return dict(self.seen)


# ---------------------------------------------------------------- figures

def quantile(sorted_values, p):
    # Same rule as quorum-bench label-latency: s[min(n-1, floor(n*p))].
    n = len(sorted_values)
    return sorted_values[min(n - 1, int(n * p))]


def summarize(seconds):
    s = sorted(seconds)
    if not s:
        return {"n": 0}
    ms = lambda v: round(v * 1000, 3)
    return {"n": len(s), "p50_ms": ms(quantile(s, 0.5)), "p90_ms": ms(quantile(s, 0.9)),
            "p99_ms": ms(quantile(s, 0.99)), "max_ms": ms(s[-1]), "mean_ms": ms(sum(s) / len(s))}


def machine_info():
    info = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["load_average_at_start"] = os.getloadavg()
    return info


def busiest_processes(n=5):
    """The top CPU users right now (ps), to show what else shared the machine."""
    try:
        out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout
        return [line.strip() for line in out.splitlines()[1:n + 1]]
    except OSError:
        return []


def git_revision():
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" + working tree" if dirty else "")
    except OSError:
        return None


def binary_info(path):
    st = os.stat(path)
    return {"path": path, "mtime": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(st.st_mtime)),
            "sha256": sha256_file(path)}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def write_results(summary, kind):
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(HERE, "results", f"{kind}-{stamp}.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return path


# ---------------------------------------------------------------- the database

def open_readonly(project):
    return sqlite3.connect(f"file:{os.path.join(project, 'quorum.sqlite')}?mode=ro", uri=True)


def claims_snapshot(project):
    """Every row of claims with its item id (read-only)."""
    db = open_readonly(project)
    try:
        return [{"annotator": a, "item": i, "task_id": t, "expires_at": e} for a, i, t, e in db.execute(
            "SELECT c.annotator, i.id, c.task_id, c.expires_at FROM claims c JOIN tasks t ON t.id = c.task_id "
            "JOIN items i ON i.key = t.item_key")]
    finally:
        db.close()


def answers_by_pair(project):
    """(item id, annotator) -> (label, created_at) for every answer in the database."""
    db = open_readonly(project)
    try:
        return {(item, ann): (label, created) for item, ann, label, created in db.execute(
            "SELECT i.id, a.annotator, a.label, a.created_at FROM answers a JOIN tasks t ON t.id = a.task_id "
            "JOIN items i ON i.key = t.item_key")}
    finally:
        db.close()


def check_invariants(q, expected_tasks, overlap):
    """The invariants after a finished run, through `q(sql, *args) -> rows` on either backend
    (the SQL is both SQLite's and PostgreSQL's). Returns (ok, details)."""
    d = {}
    d["answers"] = q("SELECT COUNT(*) FROM answers")[0][0]
    d["answers_with_label"] = q("SELECT COUNT(*) FROM answers WHERE label IS NOT NULL")[0][0]
    d["tasks"] = q("SELECT COUNT(*) FROM tasks")[0][0]
    d["duplicate_task_annotator_pairs"] = q(
        "SELECT COUNT(*) FROM (SELECT task_id, annotator FROM answers GROUP BY 1, 2 HAVING COUNT(*) > 1) x")[0][0]
    d["duplicate_item_annotator_pairs"] = q(
        "SELECT COUNT(*) FROM (SELECT t.item_key, a.annotator FROM answers a JOIN tasks t ON t.id = a.task_id "
        "GROUP BY 1, 2 HAVING COUNT(*) > 1) x")[0][0]
    per_task = dict(q("SELECT n, COUNT(*) FROM (SELECT t.id, COUNT(a.id) AS n FROM tasks t "
                      "LEFT JOIN answers a ON a.task_id = t.id GROUP BY t.id) x GROUP BY n"))
    d["tasks_by_answer_count"] = {str(k): v for k, v in sorted(per_task.items())}
    d["tasks_done_column_mismatch"] = q(
        "SELECT COUNT(*) FROM tasks t WHERE t.done <> (SELECT COUNT(*) FROM answers a WHERE a.task_id = t.id "
        "AND (a.label IS NOT NULL OR a.flagged))")[0][0]
    d["tasks_not_complete"] = q("SELECT COUNT(*) FROM tasks WHERE done < needed")[0][0]
    d["claims_left"] = q("SELECT COUNT(*) FROM claims")[0][0]
    d["distinct_annotators_answering"] = q("SELECT COUNT(DISTINCT annotator) FROM answers")[0][0]
    expected_answers = expected_tasks * overlap
    d["expected_answers"] = expected_answers
    checks = {
        "exactly_expected_answers": d["answers"] == expected_answers,
        "all_answers_labelled": d["answers_with_label"] == expected_answers,
        "expected_tasks": d["tasks"] == expected_tasks,
        "no_pair_twice": d["duplicate_task_annotator_pairs"] == 0 and d["duplicate_item_annotator_pairs"] == 0,
        "every_task_answered_exactly_overlap_times": per_task == {overlap: expected_tasks},
        "tasks_done_column_consistent": d["tasks_done_column_mismatch"] == 0,
    }
    d["checks"] = checks
    return all(checks.values()), d


def check_database(project, expected_tasks, overlap):
    """check_invariants on the project's SQLite file (opened read-only)."""
    db = open_readonly(project)
    try:
        return check_invariants(lambda sql, *a: db.execute(sql, a).fetchall(), expected_tasks, overlap)
    finally:
        db.close()


def run_terminal_bench(bench, pool, pause_ms, workdir, quorum=None):
    """quorum-bench label-latency (the terminal loop's cycle), parsed JSON, with the command line.

    A quorum-bench whose project does not register its annotators ("measured is not registered to
    label in this project") is run again, and this time, as soon as its project appears,
    `quorum annotators policy open` is run on it (anyone may label) while the bench is still
    importing: the workaround is recorded in the result."""
    cmd = [bench, "label-latency", "--pool", str(pool), "--worker-pause-ms", str(pause_ms), "--workdir", workdir]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=binary_env())
    workaround = None
    if p.returncode != 0 and "is not registered to label" in p.stderr and quorum:
        workaround = (f"the bench failed ({p.stderr.strip().splitlines()[-1][:160]}); rerun with "
                      "`quorum annotators policy open` applied to its project as soon as the project existed")
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=binary_env())
        project = os.path.join(workdir, f"quorum-latency-{proc.pid}", "project")
        attempts, last_error = 0, None
        while proc.poll() is None:
            if os.path.exists(os.path.join(project, "quorum.sqlite")):
                # The bench's import holds the write lock for seconds on a big pool: retry until it takes.
                attempts += 1
                r = subprocess.run([quorum, "annotators", "policy", "open", "--project", project],
                                   capture_output=True, text=True, env=binary_env())
                if r.returncode == 0:
                    break
                last_error = r.stderr.strip()[:200]
                time.sleep(0.01)
            else:
                time.sleep(0.002)
        workaround += f" ({attempts} attempt(s){'; last error: ' + last_error if last_error else ''})"
        stdout, stderr = proc.communicate()
        p = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}"
                           + (f" [workaround: {workaround}]" if workaround else ""))
    out = json.loads(p.stdout)
    out["command"] = " ".join(cmd)
    out["wall_seconds"] = round(time.perf_counter() - t, 1)
    if workaround:
        out["workaround"] = workaround
    return out


# ---------------------------------------------------------------- the simulated annotator

class ServerAddress:
    """Where the server is now. crash.py publishes a new address after the restart; the annotators
    that lost their connection wait here for it (the generation number tells old from new)."""

    def __init__(self, host, port):
        self.cond = threading.Condition()
        self.host, self.port, self.generation = host, port, 0
        self.closed = False
        # crash.py: who walks away at the crash, decided right after the kill (see crash.py).
        self.leavers = set()
        self.decided = threading.Event()

    def current(self):
        with self.cond:
            return self.host, self.port, self.generation

    def publish(self, host, port):
        with self.cond:
            self.host, self.port = host, port
            self.generation += 1
            self.cond.notify_all()

    def wait_newer(self, generation, timeout):
        with self.cond:
            self.cond.wait_for(lambda: self.generation > generation or self.closed, timeout)
            return self.host, self.port, self.generation


class ConnectionLost(Exception):
    pass


class Annotator:
    """One simulated annotator: GET /api/v1/next → POST /api/v1/answers (random label, seeded) → GET next …
    until next says done. Timed: each POST, each GET, and the cycle POST + GET (from sending the answer
    to having the next item: what a person waits between items when the page does not prefetch).

    With `reconnect` set (crash.py), a lost connection is not an error: the annotator waits for the
    server's new address and resumes with GET next (or, if `leaves_on_crash`, walks away holding
    whatever it held)."""

    def __init__(self, index, name, token, address, seed, problems, deadline, reconnect=False,
                 leaves_on_crash=False, max_retry_sleep=1.0, think_seconds=0.0):
        import random
        self.think_seconds = think_seconds
        self.think_rng = random.Random(seed * 7_000_003 + index)
        self.index, self.name, self.token = index, name, token
        self.address, self.problems, self.deadline = address, problems, deadline
        self.reconnect, self.leaves_on_crash, self.max_retry_sleep = reconnect, leaves_on_crash, max_retry_sleep
        self.rng = random.Random(seed * 1_000_003 + index)
        host, port, self.generation = address.current()
        self.api = Api(host, port, token)
        self.acked = []            # (item id, label, time acked): every answer that got 200
        self.acked_items = set()
        self.post_times, self.get_times, self.cycle_times = [], [], []
        self.cycle_marks = []      # perf_counter at the end of each timed cycle (for before/after splits)
        self.waiting_responses = 0
        self.retry_after_seen = []
        self.wait_seconds = 0.0
        self.non_200 = {}          # "METHOD path status" -> count
        self.held = None           # item id shown (claimed) and not yet acknowledged
        self.unknown = []          # items whose POST was in flight when the connection died
        self.lost_at = None        # (what, held item) when the connection was lost
        self.resumed = None        # first next after the restart: {"before": item, "after": item}
        self.left = False
        self.finished_reason = None
        self.error = None
        self.t_first = self.t_last = None

    # A request; ConnectionLost when the server is gone (crash.py) or any transport error.
    def _call(self, method, path, body=None):
        try:
            return self.api.request(method, path, body)
        except (OSError, http.client.HTTPException) as e:
            raise ConnectionLost(f"{type(e).__name__}: {e}")

    def _count(self, method, path, status):
        key = f"{method} {path} {status}"
        self.non_200[key] = self.non_200.get(key, 0) + 1

    def get_next(self):
        status, body, dt = self._call("GET", "/api/v1/next")
        self.get_times.append(dt)
        if status != 200:
            self._count("GET", "/api/v1/next", status)
            self.problems.add(f"GET /api/v1/next -> {status}", {"annotator": self.name, "body": body})
            return None
        for p in next_shape_problems(body):
            self.problems.add(p, {"annotator": self.name, "body": body})
        task = body.get("task") if isinstance(body, dict) else None
        if task is not None:
            item = task.get("id")
            if item in self.acked_items:
                self.problems.add("next returned an item this annotator already answered (200)",
                                  {"annotator": self.name, "item": item})
            self.held = item
        progress = body.get("progress") if isinstance(body, dict) else None
        if isinstance(progress, dict) and progress.get("mine") is not None and progress["mine"] < len(self.acked):
            self.problems.add("progress.mine below this annotator's acknowledged answers",
                              {"annotator": self.name, "mine": progress["mine"], "acked": len(self.acked)})
        return body

    def answer(self, task):
        item = task["id"]
        labels = task.get("labels") or LABELS
        label = self.rng.choice(labels)
        try:
            status, body, dt = self._call("POST", "/api/v1/answers",
                                          {"id": item, "label": label, "seconds": round(self.rng.uniform(1, 6), 2)})
        except ConnectionLost:
            self.unknown.append({"item": item, "label": label})
            self.held = None
            raise
        self.post_times.append(dt)
        if status == 200 and isinstance(body, dict) and body.get("ok") is True:
            now = time.perf_counter()
            self.acked.append((item, label, now))
            self.acked_items.add(item)
            self.held = None
            self.t_last = now
            return True
        self._count("POST", "/api/v1/answers", status)
        self.problems.add(f"POST /api/v1/answers -> {status}", {"annotator": self.name, "item": item, "body": body})
        return False

    def run(self):
        try:
            self._run()
        except Exception as e:  # recorded, reported, and the run fails its checks
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.api.close()

    def _run(self):
        self.t_first = time.perf_counter()
        body = None
        failures = 0
        while time.perf_counter() < self.deadline:
            try:
                if body is None:
                    body = self.get_next()
                    if body is None:
                        failures += 1
                        if failures > 50:
                            raise RuntimeError("GET /api/v1/next kept failing")
                        time.sleep(0.2)
                        continue
                task = body.get("task")
                if task is None:
                    reason = body.get("reason")
                    if reason in ("done", "no_round"):
                        self.finished_reason = reason
                        return
                    self.waiting_responses += 1
                    retry = body.get("retry_after")
                    self.retry_after_seen.append(retry)
                    pause = 0.2 if retry is None else min(float(retry), self.max_retry_sleep)
                    pause = max(pause, 0.01)
                    self.wait_seconds += pause
                    time.sleep(pause)
                    body = None
                    continue
                if self.think_seconds > 0:
                    # A person reading the item: think × U(0.5, 1.5), not part of any timing.
                    time.sleep(self.think_seconds * self.think_rng.uniform(0.5, 1.5))
                t0 = time.perf_counter()
                ok = self.answer(task)
                if not ok:
                    failures += 1
                    if failures > 50:
                        raise RuntimeError("POST /api/v1/answers kept failing")
                body = self.get_next()
                t1 = time.perf_counter()
                if ok and body is not None and body.get("task") is not None:
                    self.cycle_times.append(t1 - t0)
                    self.cycle_marks.append(t1)
            except ConnectionLost as e:
                if not self.reconnect:
                    raise
                self.lost_at = {"error": str(e), "held": self.held,
                                "unknown": self.unknown[-1]["item"] if self.unknown else None}
                self.address.decided.wait(timeout=60)
                if self.leaves_on_crash or self.name in self.address.leavers:
                    self.left = True
                    return
                before = self.held or (self.unknown[-1]["item"] if self.unknown else None)
                host, port, gen = self.address.wait_newer(self.generation, timeout=max(0, self.deadline - time.perf_counter()))
                if gen == self.generation:
                    raise RuntimeError("no new server address before the deadline")
                self.generation = gen
                self.api.retarget(host, port)
                body = None
                while body is None and time.perf_counter() < self.deadline:
                    try:
                        body = self.get_next()
                    except ConnectionLost:
                        time.sleep(0.05)
                task = body.get("task") if body else None
                self.resumed = {"before": before, "after": task.get("id") if task else None,
                                "reason": body.get("reason") if body else None}
        raise RuntimeError("deadline passed before next said done")
