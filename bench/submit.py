"""Citizens submitting at full speed through gunicorn, against a minimal Flask + sqlite3 form app.

Usage: .venv/bin/python bench/submit.py [--seconds 20] [--clients 16] [--postgres URL]
       [--warmup 2] [--processes 4] [--accept-encoding "gzip, deflate, br"]

Prepares a temporary SQLite database with the real commands (`flask init-db`, a small `seed-demo`,
`counter-url --all`; with --postgres also a private schema of that database, dropped afterwards),
serves the app with the production server (`gunicorn -c gunicorn.conf.py wsgi:app`: its workers and
threads, WEB_CONCURRENCY and GUNICORN_THREADS honoured; a fixed SECRET_KEY, rate limit off) on a free
local port, and drives --clients concurrent citizens for --seconds (after --warmup seconds not
counted). Each citizen loops without pause: GET a counter's signed page (a random demo counter,
persistent connection, session cookie, Accept-Encoding of a phone's browser), read the CSRF token,
the submission key and the questionnaire (every radio group and its values, every select list), POST
a complete valid set of random answers, expect 303. There is no think time, so latency includes the
clients' wait for the server's worker threads and CPUs: it falls as the CPU cost per request falls.
The load generator is --processes processes of threads, each on a persistent HTTP/1.1 connection
(a small raw-socket client: http.client would take several times more CPU from the server measured).

Then, with the server stopped, checks the database: every acknowledged (303) submission_key stored
exactly once with the number of answers sent, no key stored twice. Prints throughput (citizen
submissions, i.e. GET + POST, per second; requests per second), p50/p99 latency of GETs and POSTs,
and the CPU used by the server and by the load generator. Then the same for bench/baseline_app.py
(GET a tiny form, POST one row into SQLite, 303) under the same gunicorn settings (gunicorn.conf.py), clients and
duration, and the ratio app / baseline.

Targets: throughput at least 0.8 × the baseline's; p99 of the app's GETs and POSTs under 100 ms.
Exit status 0 when the targets are met and every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _serve  # noqa: E402

RATIO_TARGET = 0.8
P99_TARGET = 0.100  # seconds


# --- the load generator (runs in child processes) ------------------------------------------------------


@dataclass
class Plan:
    kind: str  # "app" or "baseline"
    port: int
    paths: list[str]
    threads: int
    seed: int
    measure_from: float  # time.monotonic() values: the same clock in every process
    end_at: float
    accept_encoding: str


@dataclass
class Tally:
    """What clients saw: latencies (start, seconds) of requests started in the measured window, end times
    of requests answered in it; every submission key sent."""

    gets: list[tuple[float, float]] = field(default_factory=list)
    posts: list[tuple[float, float]] = field(default_factory=list)
    completed: list[float] = field(default_factory=list)  # end times of acknowledged submissions
    requests_done: list[float] = field(default_factory=list)  # end times of all answered requests
    acknowledged: dict[str, int] = field(default_factory=dict)  # submission_key → answers sent
    unacknowledged: set[str] = field(default_factory=set)
    problems: Counter = field(default_factory=Counter)
    reconnects: int = 0

    def merge(self, other: Tally) -> None:
        self.gets += other.gets
        self.posts += other.posts
        self.completed += other.completed
        self.requests_done += other.requests_done
        self.acknowledged.update(other.acknowledged)
        self.unacknowledged |= other.unacknowledged
        self.problems.update(other.problems)
        self.reconnects += other.reconnects


def citizen(plan: Plan, index: int, tally: Tally, lock: threading.Lock) -> None:
    """One client: GET the form, POST the answers, again and again until the end of the run."""
    rng = random.Random(plan.seed * 1000 + index)
    client = _serve.Client(plan.port, accept_encoding=plan.accept_encoding)
    shapes: dict[str, _serve.FormShape] = {}
    local = Tally()
    try:
        while time.monotonic() < plan.end_at:
            path = rng.choice(plan.paths)
            started = time.monotonic()
            try:
                status, _, page = client.request("GET", path)
            except _serve.CONNECTION_ERRORS as exc:
                local.problems[f"GET {type(exc).__name__}"] += 1
                time.sleep(0.05)
                continue
            ended = time.monotonic()
            if plan.measure_from <= started < plan.end_at:
                local.gets.append((started, ended - started))
            if plan.measure_from <= ended <= plan.end_at:
                local.requests_done.append(ended)
            if status != 200:
                local.problems[f"GET status {status}"] += 1
                continue
            hidden = _serve.hidden_fields(page)
            if plan.kind == "app":
                key = hidden.get("submission_key", "")
                if path not in shapes:
                    shapes[path] = _serve.FormShape.parse(page)
                answers = shapes[path].random_answers(rng)
                fields = [("csrf_token", hidden.get("csrf_token", "")), ("submission_key", key), *answers]
                stored = shapes[path].stored_answers(answers)
            else:
                key = hidden.get("key", "")
                fields, stored = [("key", key), ("value", str(rng.randint(1, 5)))], 1
            body = urlencode(fields).encode()
            started = time.monotonic()
            try:
                status, _, _ = client.request("POST", path, body)
            except _serve.CONNECTION_ERRORS as exc:
                local.problems[f"POST {type(exc).__name__}"] += 1
                local.unacknowledged.add(key)
                continue
            ended = time.monotonic()
            counted = plan.measure_from <= ended <= plan.end_at
            if plan.measure_from <= started < plan.end_at:
                local.posts.append((started, ended - started))
            if counted:
                local.requests_done.append(ended)
            if status == 303:
                local.acknowledged[key] = stored
                if counted:
                    local.completed.append(ended)
            else:
                local.unacknowledged.add(key)
                local.problems[f"POST status {status}"] += 1
    finally:
        client.close()
        local.reconnects = client.reconnects
        with lock:
            tally.merge(local)


def client_process(plan: Plan, pipe) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent cleans up on Ctrl+C
    tally, lock = Tally(), threading.Lock()
    threads = [threading.Thread(target=citizen, args=(plan, i, tally, lock)) for i in range(plan.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pipe.send(tally)
    pipe.close()


# --- measuring -------------------------------------------------------------------------------------------


def system_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values[:8]) - idle) / tick, sum(values[:8]) / tick


def process_cpu(pids: list[int]) -> float:
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


@dataclass
class Result:
    label: str
    seconds: float
    tally: Tally
    server_cpu: float
    client_cpu: float
    busy_cpu: float

    @property
    def submissions_per_s(self) -> float:
        return len(self.tally.completed) / self.seconds

    @property
    def requests_per_s(self) -> float:
        return len(self.tally.requests_done) / self.seconds

    def latency(self, kind: str, q: float) -> float:
        values = sorted(lat for _, lat in getattr(self.tally, kind))
        return _serve.percentile(values, q)


def drive(kind: str, port: int, paths: list[str], args, server: _serve.Server) -> Result:
    """Run the clients against a ready server; returns what they measured in the window."""
    ctx = multiprocessing.get_context("fork")
    processes = max(1, min(args.processes, args.clients))
    now = time.monotonic()
    measure_from = now + 0.5 + args.warmup  # half a second to start the processes
    end_at = measure_from + args.seconds
    children = []
    try:
        for p in range(processes):
            threads = args.clients // processes + (1 if p < args.clients % processes else 0)
            plan = Plan(kind, port, paths, threads, args.seed + p, measure_from, end_at, args.accept_encoding)
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=client_process, args=(plan, send), daemon=True)
            proc.start()
            send.close()
            children.append((proc, receive))
        time.sleep(max(0.0, measure_from - time.monotonic()))
        pids = [proc.pid for proc, _ in children]
        cpu0 = (server.cpu_seconds(), process_cpu(pids), system_cpu())
        time.sleep(max(0.0, end_at - time.monotonic()))
        cpu1 = (server.cpu_seconds(), process_cpu(pids), system_cpu())
        tally = Tally()
        for proc, receive in children:
            if not receive.poll(60):
                raise RuntimeError("a client process did not report within 60 s of the end")
            tally.merge(receive.recv())
            proc.join(10)
    finally:
        for proc, _ in children:
            if proc.is_alive():
                proc.kill()
                proc.join()
    busy = (cpu1[2][0] - cpu0[2][0]) / max(1e-9, cpu1[2][1] - cpu0[2][1])
    return Result(kind, args.seconds, tally, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1], busy)


# --- checking the stored rows ------------------------------------------------------------------------------


def check_app(db: _serve.Database, tally: Tally, seeded: set[str]) -> list[str]:
    """Problems found in the app's database after the run (empty: all good)."""
    rows = db.query(
        "SELECT r.submission_key, count(a.response_id) FROM responses r "
        "LEFT JOIN answers a ON a.response_id = r.id GROUP BY r.id, r.submission_key"
    )
    stored = Counter(key for key, _ in rows)
    answers = {key: n for key, n in rows}
    return compare(tally, stored, answers, seeded)


def check_baseline(path: Path, tally: Tally) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    stored = Counter(key for (key,) in conn.execute("SELECT key FROM submissions"))
    conn.close()
    return compare(tally, stored, None, set())


def compare(tally: Tally, stored: Counter, answers: dict | None, seeded: set[str]) -> list[str]:
    problems = []
    missing = [k for k in tally.acknowledged if stored[k] == 0]
    twice = [k for k, n in stored.items() if n > 1]
    wrong = [k for k, n in tally.acknowledged.items() if answers is not None and stored[k] and answers[k] != n]
    unknown = [k for k in stored if k not in seeded and k not in tally.acknowledged and k not in tally.unacknowledged]
    if missing:
        problems.append(f"{len(missing)} acknowledged submissions not stored (e.g. {missing[0]})")
    if twice:
        problems.append(f"{len(twice)} submission keys stored more than once (e.g. {twice[0]})")
    if wrong:
        problems.append(f"{len(wrong)} responses stored with a different number of answers (e.g. {wrong[0]})")
    if unknown:
        problems.append(f"{len(unknown)} stored submissions never sent by the clients")
    stored_unacked = sum(1 for k in tally.unacknowledged if stored[k])
    print(
        f"  checked: {len(tally.acknowledged):,} acknowledged, all stored once: {'yes' if not problems else 'NO'}; "
        f"{len(tally.unacknowledged):,} unacknowledged ({stored_unacked:,} of them stored, once); "
        f"{tally.reconnects:,} requests resent on a new connection after the server closed a kept-alive one"
    )
    return problems


# --- the two servers ----------------------------------------------------------------------------------------


def run_app(label: str, db: _serve.Database, folder: Path, args) -> tuple[Result, list[str]]:
    print(f"{label}: preparing the database (init-db, seed-demo, counter-url --all)", flush=True)
    started = time.monotonic()
    paths = _serve.prepare(db.url)
    seeded = {key for (key,) in db.query("SELECT submission_key FROM responses")}
    print(f"  {len(paths)} counters, {len(seeded):,} seeded responses, {time.monotonic() - started:.1f} s", flush=True)
    port = _serve.free_port()
    env = _serve.app_env(db.url, port)
    with _serve.Server("wsgi:app", port, env, folder / f"gunicorn-{db.kind}.log") as server:
        ready = server.start(ready_path=next(iter(paths.values())))
        print(f"  gunicorn ready in {ready:.1f} s; driving {args.clients} clients for {args.seconds:g} s", flush=True)
        result = drive("app", port, list(paths.values()), args, server)
        server.stop()
    result.label = label
    problems = report_problems(result)
    problems += check_app(db, result.tally, seeded)
    return result, problems


def run_baseline(folder: Path, args) -> tuple[Result, list[str]]:
    label = "baseline (Flask + sqlite3)"
    print(f"{label}: bench/baseline_app.py, one row per POST", flush=True)
    port = _serve.free_port()
    path = folder / "baseline.sqlite3"
    env = {**_serve.app_env("", port), "BASELINE_DATABASE": str(path)}
    env.pop("DATABASE_URL")
    with _serve.Server("bench.baseline_app:app", port, env, folder / "gunicorn-baseline.log") as server:
        ready = server.start()
        print(f"  gunicorn ready in {ready:.1f} s; driving {args.clients} clients for {args.seconds:g} s", flush=True)
        result = drive("baseline", port, ["/"], args, server)
        server.stop()
    result.label = label
    problems = report_problems(result)
    problems += check_baseline(path, result.tally)
    return result, problems


def report_problems(result: Result) -> list[str]:
    problems = []
    if not result.tally.completed:
        problems.append(f"{result.label}: no submission acknowledged")
    for what, count in sorted(result.tally.problems.items()):
        problems.append(f"{result.label}: {count:,} × {what}")
    return problems


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_table(results: list[Result]) -> None:
    print(
        f"\n{'':<28}{'subm/s':>8}{'req/s':>8}{'GET p50':>9}{'GET p99':>9}{'POST p50':>10}{'POST p99':>10}"
        f"{'server CPU':>12}{'server':>8}{'load gen':>10}{'machine':>9}"
    )
    print(
        f"{'':<28}{'':>8}{'':>8}{'ms':>9}{'ms':>9}{'ms':>10}{'ms':>10}{'ms/subm':>12}{'cores':>8}{'cores':>10}{'busy':>9}"
    )
    for r in results:
        n = max(1, len(r.tally.completed))
        print(
            f"{r.label:<28}{r.submissions_per_s:>8.1f}{r.requests_per_s:>8.1f}"
            f"{ms(r.latency('gets', 50)):>9}{ms(r.latency('gets', 99)):>9}"
            f"{ms(r.latency('posts', 50)):>10}{ms(r.latency('posts', 99)):>10}"
            f"{r.server_cpu * 1000 / n:>12.1f}{r.server_cpu / r.seconds:>8.2f}{r.client_cpu / r.seconds:>10.2f}"
            f"{r.busy_cpu:>9.0%}"
        )
    print(
        "(a submission: one GET and one POST answered 303; server CPU: gunicorn master and workers, not "
        "PostgreSQL's own processes; machine busy: all CPUs, including other programs)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration of each run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent citizens")
    parser.add_argument("--postgres", help="also measure the app on PostgreSQL at this SQLAlchemy URL")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--processes", type=int, default=4, help="load generator processes")
    parser.add_argument("--accept-encoding", default=_serve.BROWSER_ENCODING, help="clients' Accept-Encoding")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _serve.stop_on_sigterm()
    workers = os.environ.get("WEB_CONCURRENCY", "default")
    threads = os.environ.get("GUNICORN_THREADS", "default")
    print(
        f"{args.clients} clients ({min(args.processes, args.clients)} processes), {args.seconds:g} s measured after "
        f"{args.warmup:g} s warm-up; gunicorn.conf.py with WEB_CONCURRENCY={workers}, GUNICORN_THREADS={threads}; "
        f"{os.cpu_count()} CPUs"
    )
    results, problems, databases = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        folder = Path(tmp)
        try:
            databases.append(("survey app, SQLite", _serve.Database("sqlite", folder)))
            if args.postgres:
                databases.append(("survey app, PostgreSQL", _serve.Database("postgresql", folder, args.postgres)))
            for label, db in databases:
                result, found = run_app(label, db, folder, args)
                results.append(result)
                problems += found
            baseline, found = run_baseline(folder, args)
            problems += found
        finally:
            for _, db in databases:
                db.drop()
    print_table([*results, baseline])
    ok = not problems
    for problem in problems:
        print(f"problem: {problem}")
    print()
    for r in results:
        ratio = r.submissions_per_s / baseline.submissions_per_s if baseline.submissions_per_s else 0.0
        met = ratio >= RATIO_TARGET
        ok &= met
        print(
            f"{r.label}: throughput {r.submissions_per_s:.1f} / {baseline.submissions_per_s:.1f} subm/s = "
            f"{ratio:.2f} of the baseline (target ≥ {RATIO_TARGET}) → {'met' if met else 'NOT MET'}"
        )
        for kind in ("gets", "posts"):
            p99 = r.latency(kind, 99)
            met = p99 < P99_TARGET
            ok &= met
            print(
                f"{r.label}: {kind[:-1].upper()} p99 {ms(p99)} ms (target < {P99_TARGET * 1000:.0f} ms) → "
                f"{'met' if met else 'NOT MET'}"
            )
    print(f"checks (stored once, answers complete, no unexpected status): {'passed' if not problems else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    _serve.run_main(main)
