"""Officials on the dashboard while citizens answer: a city's month served by gunicorn, measured.

Usage: .venv/bin/python bench/dashboard_live.py [--responses 100000 330000] [--postgres URL]
       [--redis URL] [--seconds 60] [--workers 8] [--officials 3] [--citizens-per-second 3]
       [--national] [--keep]

For each size, builds the city's month through the command line on a fresh SQLite database (and in
a private schema of PostgreSQL with --postgres, dropped afterwards): `flask init-db`, `flask reference
import` of 157 agencies (the city, 30 departments, 126 wards) with a counter each and 20 services,
officials' accounts and an API key, then `flask import-responses` of a CSV of that many responses in
the current month (timed: rows per second). --national builds 63 provinces of 160 agencies instead
(10,080 agencies, 4 million responses unless --responses says otherwise).

Then serves it as production does: `gunicorn -c gunicorn.conf.py wsgi:app` with --workers workers for
citizens and a second instance with --staff-workers niced workers (WORKER_NICE=--staff-nice) for the
dashboard and the API (the paths a reverse proxy sends there; --staff-workers 0: one instance for
all), and one `flask figures watch` (niced) keeping the shared figures fresh; the shared store is
the database, or Redis with --redis. For --seconds:
- each official (its own process, logged in) opens `/dashboard` for its agency (--agencies: the city,
  a department, a ward; with --random-agency a random agency each time) and then its 7 charts, 6 at
  a time on 6 connections as a browser does (keeping ETags, as a browser's cache does), again and
  again without pause; a full load is the page and every chart;
- citizens arrive at --citizens-per-second (Poisson arrivals, a thread each): GET a random counter's
  page, POST a complete answer; their time is page + answer;
- a checker submits a marked response at a counter the others never use, then polls the API
  (`/api/v1/satisfaction`) and the dashboard until each counts it: the time a new response takes to
  be counted; then again, until the end.
Prints p50/p95 of a full load, the citizens' p95 and count, errors, the counting delays (max and
median, API and page), and the memory of each worker (RSS and PSS). Targets: full load p95 ≤ 1 s
(city) or ≤ 2 s (national); citizens' p95 ≤ 300 ms, no error; a new response counted within 60 s.
Exit status 0 when every target is met.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import queue
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _serve  # noqa: E402

FULL_TARGET = {"city": 1.0, "national": 2.0}
CITIZEN_TARGET = 0.300
COUNTED_TARGET = 60.0
PASSWORD = "bench official password"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CRITERIA = [f"{e}{i}" for e, k in (("TC", 4), ("TT", 4), ("CC", 5), ("KQ", 3), ("PA", 3)) for i in range(1, k + 1)]
EXTRA = [f"UT{i}" for i in range(1, 10)] + ["BG_TYPE", "BG_GENDER", "BG_AGE", "BG_EDUCATION", "BG_OCCUPATION"]
EXTRA_MAX = [3] * 9 + [2, 3, 5, 6, 8]  # the highest value of each priority and background question
LEADING = ["submitted_at", "agency_code", "service_code", "counter_code", "questionnaire", "version", "channel"]
IMG = re.compile(rb'<img src="([^"]+)"')
COUNTED = re.compile(rb"([0-9][0-9,.]*) responses\.")
MARKER = "MARK"  # the checker's agency and counter: no other citizen answers there


# --- the city, through the command line --------------------------------------------------------------


@dataclass
class City:
    agencies: list[tuple[str, str, str, str]]  # code, name, level, parent code
    services: list[str]

    @classmethod
    def make(cls, national: bool) -> City:
        if national:
            agencies = [("VN", "Cả nước", "quoc_gia", "")]
            for p in range(1, 64):
                top = f"T{p:02d}"
                agencies.append((top, f"UBND Tỉnh số {p}", "tinh", "VN"))
                agencies += [(f"{top}-S{i:02d}", f"Sở số {i}, tỉnh {p}", "so", top) for i in range(1, 31)]
                agencies += [(f"{top}-X{i:03d}", f"Xã số {i}, tỉnh {p}", "xa", top) for i in range(1, 129)]
        else:
            agencies = [("HN", "UBND Thành phố Hà Nội", "thanh_pho", "")]
            agencies += [(f"SO-{i:02d}", f"Sở số {i}", "so", "HN") for i in range(1, 31)]
            agencies += [(f"P-{i:03d}", f"UBND Phường/Xã số {i}", "phuong", "HN") for i in range(1, 126)]
        root = agencies[0][0]
        agencies.append((MARKER, "UBND Phường đo đếm", "phuong", root))
        return cls(agencies, [f"DV-{i:02d}" for i in range(1, 21)])

    def write_reference(self, folder: Path) -> dict[str, Path]:
        files = {kind: folder / f"{kind}.csv" for kind in ("agencies", "services", "counters")}
        with files["agencies"].open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["code", "name", "level", "parent_code"])
            w.writerows(self.agencies)
        with files["services"].open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["code", "name", "field", "processing_days"])
            w.writerows((code, f"Thủ tục {code}", "Lĩnh vực chung", 5) for code in self.services)
        with files["counters"].open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["code", "agency_code", "name", "questionnaire"])
            w.writerows((f"Q-{a[0]}", a[0], f"Quầy một cửa {a[1]}", "sipas") for a in self.agencies)
        return files

    def write_responses(self, path: Path, n: int, seed: int, now: datetime) -> None:
        """n responses of the current month, before now, at every agency but the marker's."""
        import numpy as np

        rng = np.random.default_rng(seed)
        codes = np.array([a[0] for a in self.agencies if a[0] != MARKER], dtype=object)
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        span = max(3600, int((now - start).total_seconds()) - 3600)
        level = rng.uniform(0.78, 0.96, size=len(codes))
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([*LEADING, *CRITERIA, *EXTRA, "comment"])
            for first in range(0, n, 50_000):
                size = min(50_000, n - first)
                agency = rng.integers(0, len(codes), size=size)
                seconds = rng.integers(0, span, size=size)
                good = rng.random((size, len(CRITERIA))) < level[agency][:, None]
                values = np.where(good, rng.integers(4, 6, size=good.shape), rng.integers(1, 4, size=good.shape))
                values[rng.random(values.shape) < 0.04] = 0  # now and then a criterion left unanswered
                values[:, 0] = np.maximum(values[:, 0], 1)
                extra = np.minimum(rng.integers(0, 6, size=(size, len(EXTRA))), EXTRA_MAX)  # 0: left blank
                service = rng.integers(0, len(self.services), size=size)
                for i in range(size):
                    when = (start + timedelta(seconds=int(seconds[i]))).strftime("%Y-%m-%dT%H:%M:%S")
                    code = codes[agency[i]]
                    w.writerow(
                        [when, code, self.services[service[i]], f"Q-{code}", "sipas", "1", "paper",
                         *(v or "" for v in values[i].tolist()), *(v or "" for v in extra[i].tolist()), ""]
                    )  # fmt: skip


PREPARE = """
import json, sys
from wsgi import app
runner = app.test_cli_runner()
files, officials, password = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
steps = [(["init-db"], None)]
steps += [(["reference", "import", "--kind", kind, files[kind]], None) for kind in ("agencies", "services", "counters")]
steps += [(["user", "create", "--email", f"official{i}@bench.gov.vn", "--role", "official", "--password-stdin"],
           password + "\\n") for i in range(officials + 1)]
steps += [(["apikey", "create", "--name", "bench"], None), (["counter-url", "--all"], None)]
for args, given in steps:
    result = runner.invoke(args=args, input=given)
    print(result.output, end="")
    if result.exit_code:
        print(f"flask {' '.join(args)} failed: {result.output[-2000:]} {result.exception!r}", file=sys.stderr)
        sys.exit(1)
"""


def prepare(url: str, env: dict, files: dict[str, Path], officials: int) -> tuple[dict[str, str], str]:
    """Migrate, import the reference, create the accounts: the counters' signed paths and the API key."""
    done = subprocess.run(
        [sys.executable, "-c", PREPARE, json.dumps({k: str(v) for k, v in files.items()}), str(officials), PASSWORD],
        cwd=_serve.ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"preparing the database failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    lines = done.stdout.splitlines()
    key = next(lines[i + 1] for i, line in enumerate(lines) if line.startswith("Created API key"))
    paths = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("Q-") and parts[1].startswith("http"):
            url_parts = parts[1].split("/", 3)
            paths[parts[0][2:]] = "/" + url_parts[3]
    return paths, key.strip()


def import_responses(env: dict, path: Path, n: int) -> float:
    started = time.monotonic()
    done = subprocess.run(
        [str(_serve.BIN / "flask"), "--app", "wsgi", "import-responses", str(path)],
        cwd=_serve.ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    if done.returncode:
        raise RuntimeError(f"import-responses failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"  import-responses: {n:,} rows in {elapsed:.1f} s ({n / elapsed:,.0f} rows/s)", flush=True)
    return elapsed


# --- the people ------------------------------------------------------------------------------------------


def login(port: int, number: int) -> _serve.Client:
    client = _serve.Client(port)
    status, _, page = client.request("GET", "/auth/login")
    assert status == 200, status
    token = _serve.hidden_fields(page)["csrf_token"]
    body = urlencode({"csrf_token": token, "email": f"official{number}@bench.gov.vn", "password": PASSWORD})
    status, _, _ = client.request("POST", "/auth/login", body.encode())
    if status != 303:
        raise RuntimeError(f"official {number} could not log in: {status}")
    return client


def share_session(source: _serve.Client, port: int) -> _serve.Client:
    client = _serve.Client(port)
    client.cookies = dict(source.cookies)
    return client


@dataclass
class Loads:
    full: list[float] = field(default_factory=list)
    pages: list[float] = field(default_factory=list)
    charts: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def official(port: int, number: int, codes: list[str], month: str, end_at: float, out) -> None:
    """Open the dashboard of one of the codes (at random) and its charts, 6 at a time, again and again."""
    rng = random.Random(number)
    page_client = login(port, number)
    chart_clients = [share_session(page_client, port) for _ in range(6)]
    etags: dict[str, str] = {}
    loads = Loads()

    def fetch(client: _serve.Client, paths: queue.Queue, seen: list) -> None:
        while True:
            try:
                path = paths.get_nowait()
            except queue.Empty:
                return
            started = time.monotonic()
            headers_before = client.fixed
            if path in etags:
                client.fixed += f"If-None-Match: {etags[path]}\r\n"
            try:
                status, headers, _ = client.request("GET", path)
            except _serve.CONNECTION_ERRORS as exc:
                status, headers = type(exc).__name__, {}
            finally:
                client.fixed = headers_before
            if status == 200 and "etag" in headers:
                etags[path] = headers["etag"]
            seen.append((status, time.monotonic() - started))

    while time.monotonic() < end_at:
        code = rng.choice(codes)
        started = time.monotonic()
        try:
            status, _, page = page_client.request("GET", f"/dashboard?month={month}&questionnaire=sipas&agency={code}")
        except _serve.CONNECTION_ERRORS as exc:
            status, page = type(exc).__name__, b""
        loads.pages.append(time.monotonic() - started)
        loads.statuses[f"page {status}"] = loads.statuses.get(f"page {status}", 0) + 1
        if status != 200:
            time.sleep(0.1)
            continue
        paths: queue.Queue = queue.Queue()
        for src in IMG.findall(page):
            paths.put(src.decode().replace("&amp;", "&"))
        seen: list = []
        threads = [threading.Thread(target=fetch, args=(c, paths, seen)) for c in chart_clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if time.monotonic() > end_at:
            break
        loads.full.append(time.monotonic() - started)
        for chart_status, seconds in seen:
            loads.charts.append(seconds)
            loads.statuses[f"chart {chart_status}"] = loads.statuses.get(f"chart {chart_status}", 0) + 1
    out.send(loads)
    out.close()


@dataclass
class Citizens:
    times: list[float] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)
    arrived: int = 0


def citizens(port: int, paths: list[str], rate: float, end_at: float, out) -> None:
    """Citizens arriving at random (Poisson) at rate per second: page, answer, 303."""
    rng = random.Random(7)
    tally, lock = Citizens(), threading.Lock()
    shapes: dict[str, _serve.FormShape] = {}

    def one(path: str, seed: int) -> None:
        local = random.Random(seed)
        client = _serve.Client(port)
        started = time.monotonic()
        problem = None
        try:
            status, _, page = client.request("GET", path)
            if status != 200:
                problem = f"GET status {status}"
            else:
                hidden = _serve.hidden_fields(page)
                shape = shapes.setdefault(path, _serve.FormShape.parse(page))
                fields = [("csrf_token", hidden["csrf_token"]), ("submission_key", hidden["submission_key"])]
                body = urlencode([*fields, *shape.random_answers(local)]).encode()
                status, _, _ = client.request("POST", path, body)
                if status != 303:
                    problem = f"POST status {status}"
        except _serve.CONNECTION_ERRORS as exc:
            problem = type(exc).__name__
        finally:
            client.close()
        with lock:
            if problem:
                tally.problems[problem] = tally.problems.get(problem, 0) + 1
            else:
                tally.times.append(time.monotonic() - started)

    threads = []
    next_at = time.monotonic()
    while True:
        next_at += rng.expovariate(rate)
        if next_at >= end_at:
            break
        time.sleep(max(0.0, next_at - time.monotonic()))
        t = threading.Thread(target=one, args=(rng.choice(paths), rng.randrange(1 << 30)))
        t.start()
        threads.append(t)
        tally.arrived += 1
    for t in threads:
        t.join()
    out.send(tally)
    out.close()


def counted_now(api: _serve.Client, page: _serve.Client, key: str, month: str) -> tuple[int, int]:
    """The marker agency's overall n as the API and as the dashboard show it."""
    api.fixed = api.fixed.split("Authorization:")[0] + f"Authorization: Bearer {key}\r\n"
    status, _, body = api.request("GET", f"/api/v1/satisfaction?month={month}&questionnaire=sipas&agency={MARKER}")
    assert status == 200, (status, body[:300])
    rows = json.loads(body)["rows"]
    by_api = sum(
        r["n"] for r in rows if r["level"] == "overall" and r["service_code"] == "ALL" and r["agency_code"] == MARKER
    )
    status, _, html = page.request("GET", f"/dashboard?month={month}&questionnaire=sipas&agency={MARKER}&lang=en")
    assert status == 200, status
    found = COUNTED.search(html)
    by_page = int(found.group(1).replace(b",", b"").replace(b".", b"")) if found else 0
    return by_api, by_page


def checker(port: int, staff_port: int, marker_path: str, key: str, month: str, end_at: float, officials: int) -> dict:
    """Submit a marked response, poll until the API and the page count it; again until the end."""
    api = _serve.Client(staff_port)
    page = login(staff_port, officials)  # the last account: nobody else's
    page.fixed += "Accept-Language: en\r\n"
    rng = random.Random(11)
    delays = {"api": [], "page": []}
    uncounted = 0
    shape = None
    while time.monotonic() < end_at - 5:
        before = counted_now(api, page, key, month)
        citizen = _serve.Client(port)
        status, _, form = citizen.request("GET", marker_path)
        hidden = _serve.hidden_fields(form)
        shape = shape or _serve.FormShape.parse(form)
        fields = [("csrf_token", hidden["csrf_token"]), ("submission_key", hidden["submission_key"])]
        status, _, _ = citizen.request("POST", marker_path, urlencode([*fields, *shape.random_answers(rng)]).encode())
        citizen.close()
        if status != 303:
            raise RuntimeError(f"the marked response was refused: {status}")
        sent = time.monotonic()
        seen: dict[str, float] = {}
        while len(seen) < 2 and time.monotonic() < sent + 3 * COUNTED_TARGET:
            time.sleep(0.5)
            now_api, now_page = counted_now(api, page, key, month)
            if "api" not in seen and now_api > before[0]:
                seen["api"] = time.monotonic() - sent
            if "page" not in seen and now_page > before[1]:
                seen["page"] = time.monotonic() - sent
        for where in ("api", "page"):
            if where in seen:
                delays[where].append(seen[where])
            else:
                uncounted += 1
        time.sleep(rng.uniform(0, 5))
    api.close()
    page.close()
    return {**delays, "uncounted": uncounted}


# --- measuring -------------------------------------------------------------------------------------------


def worker_memory(server: _serve.Server) -> list[tuple[float, float]]:
    """(RSS, PSS) in MB of each worker (the group's processes but the master)."""
    found = []
    for pid in server.pids():
        if pid == server.proc.pid:
            continue
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
        except OSError:
            continue
        found.append((int(fields["Rss"].split()[0]) / 1024, int(fields["Pss"].split()[0]) / 1024))
    return found


def pct(values: list[float], q: float) -> float:
    return _serve.percentile(sorted(values), q)


def run(args, backend: str, n: int, national: bool, folder: Path) -> bool:
    scale = "national" if national else "city"
    city = City.make(national)
    print(f"\n== {scale}, {n:,} responses, {backend} ({len(city.agencies):,} agencies) ==", flush=True)
    database = _serve.Database(backend, folder, args.postgres)
    watcher = None
    try:
        port = _serve.free_port()
        extra = {"WEB_CONCURRENCY": str(args.workers), "FLASK_FIGURES_MAX_AGE": str(args.max_age)}
        if args.redis:
            extra.update(REDIS_URL=args.redis, FLASK_REDIS_PREFIX=f"bench-{os.getpid()}-{backend}-{n}:")
        env = _serve.app_env(database.url, port, **extra)
        files = city.write_reference(folder)
        paths, key = prepare(database.url, env, files, args.officials)
        now = datetime.now(ZONE)
        month = now.strftime("%Y-%m")
        responses = folder / "responses.csv"
        started = time.monotonic()
        city.write_responses(responses, n, seed=n, now=now)
        print(f"  wrote {n:,} rows in {time.monotonic() - started:.1f} s", flush=True)
        import_seconds = import_responses(env, responses, n)
        responses.unlink()
        log = folder / f"watch-{backend}-{n}.log"
        with log.open("ab") as out:
            watcher = subprocess.Popen(
                [str(_serve.BIN / "flask"), "--app", "wsgi", "figures", "watch"],
                cwd=_serve.ROOT, env=env, stdout=out, stderr=out, start_new_session=True,
            )  # fmt: skip
        server = _serve.Server("wsgi:app", port, env, folder / f"gunicorn-{backend}-{n}.log")
        staff_port = _serve.free_port() if args.staff_workers else port
        staff_env = {**env, "BIND": f"127.0.0.1:{staff_port}", "WEB_CONCURRENCY": str(args.staff_workers),
                     "WORKER_NICE": str(args.staff_nice)}  # fmt: skip
        staff = _serve.Server("wsgi:app", staff_port, staff_env, folder / f"gunicorn-staff-{backend}-{n}.log")
        with server, staff:
            server.start("/api/v1/health", timeout=120)
            if args.staff_workers:
                staff.start("/api/v1/health", timeout=120)
            started = time.monotonic()
            while not database.query("SELECT 1 FROM shared_values WHERE key = 'fig:heartbeat'") and not args.redis:
                if time.monotonic() - started > 300:
                    raise RuntimeError(f"no figures after 300 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            print(f"  first figures taken {time.monotonic() - started:.1f} s after the server started", flush=True)
            everyone = [a[0] for a in city.agencies if a[0] != MARKER]
            pinned = args.agencies.split(",") if not national else [everyone[0], everyone[2], everyone[-1]]
            citizen_paths = [p for c, p in paths.items() if c != MARKER]
            end_at = time.monotonic() + args.seconds
            ctx = multiprocessing.get_context("fork")
            pipes, procs = [], []
            for number in range(args.officials):
                receive, send = ctx.Pipe(duplex=False)
                codes = everyone if args.random_agency else [pinned[number % len(pinned)]]
                procs.append(ctx.Process(target=official, args=(staff_port, number, codes, month, end_at, send)))
                pipes.append(receive)
            receive, send = ctx.Pipe(duplex=False)
            procs.append(
                ctx.Process(target=citizens, args=(port, citizen_paths, args.citizens_per_second, end_at, send))
            )
            pipes.append(receive)
            for p in procs:
                p.start()
            counted = checker(port, staff_port, paths[MARKER], key, month, end_at, args.officials)
            results = [pipe.recv() for pipe in pipes]
            for p in procs:
                p.join()
            memory = worker_memory(server) + (worker_memory(staff) if args.staff_workers else [])
    finally:
        if watcher is not None:
            watcher.terminate()
            watcher.wait(30)
        database.drop()
    loads, people = Loads(), results[-1]
    for one in results[:-1]:
        loads.full += one.full
        loads.pages += one.pages
        loads.charts += one.charts
        for k, v in one.statuses.items():
            loads.statuses[k] = loads.statuses.get(k, 0) + v
    errors = {k: v for k, v in loads.statuses.items() if not k.endswith((" 200", " 304"))}
    full_target = FULL_TARGET[scale]
    full_p95, citizen_p95 = pct(loads.full, 95), pct(people.times, 95)
    worst = max(counted["api"] + counted["page"], default=float("inf"))
    ok = (
        full_p95 <= full_target and citizen_p95 <= CITIZEN_TARGET and not people.problems and not errors
        and worst <= COUNTED_TARGET and not counted["uncounted"]
    )  # fmt: skip
    print(f"  import: {n / import_seconds:,.0f} rows/s")
    print(
        f"  full dashboard load (page + 7 charts), {len(loads.full)} loads: p50 {pct(loads.full, 50):.3f} s, "
        f"p95 {full_p95:.3f} s (target ≤ {full_target:.0f} s); page p95 {pct(loads.pages, 95):.3f} s, "
        f"chart p95 {pct(loads.charts, 95):.3f} s; {loads.statuses}"
    )
    print(
        f"  citizens: {len(people.times)} of {people.arrived} answered, "
        f"page + answer p50 {pct(people.times, 50):.3f} s, p95 {citizen_p95:.3f} s "
        f"(target ≤ {CITIZEN_TARGET:.1f} s); errors {people.problems or 'none'}"
    )
    for where in ("api", "page"):
        found = counted[where]
        if found:
            print(
                f"  new response counted ({where}): {len(found)} checks, median {statistics.median(found):.1f} s, "
                f"max {max(found):.1f} s (target ≤ {COUNTED_TARGET:.0f} s)"
            )
    if counted["uncounted"]:
        print(f"  new responses never counted: {counted['uncounted']}")
    rss = [m[0] for m in memory]
    pss = [m[1] for m in memory]
    if memory:
        print(f"  memory per worker ({len(memory)}): RSS max {max(rss):.0f} MB (mean {statistics.mean(rss):.0f}), "
              f"PSS max {max(pss):.0f} MB (mean {statistics.mean(pss):.0f})")  # fmt: skip
    print(f"  {'targets met' if ok else 'TARGETS MISSED'}", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--responses",
        type=int,
        nargs="+",
        default=None,
        help="Sizes of the month (default 100,000 and 330,000; national 4,000,000).",
    )
    parser.add_argument("--postgres", help="Also on PostgreSQL (a private schema of this database).")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True, help="Run on SQLite.")
    parser.add_argument("--redis", help="Shared store in Redis (REDIS_URL) instead of the database.")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--officials", type=int, default=3)
    parser.add_argument(
        "--staff-workers", type=int, default=4, help="Workers of the staff's instance (0: one instance)."
    )
    parser.add_argument("--staff-nice", type=int, default=10, help="WORKER_NICE of the staff's instance.")
    parser.add_argument("--citizens-per-second", type=float, default=3.0)
    parser.add_argument("--max-age", type=int, default=60, help="FIGURES_MAX_AGE of the app (seconds).")
    parser.add_argument("--national", action="store_true", help="63 provinces of 160 agencies.")
    parser.add_argument("--agencies", default="HN,SO-01,P-001", help="Each official's agency (city scale).")
    parser.add_argument("--random-agency", action="store_true", help="Each load a random agency instead.")
    args = parser.parse_args()
    _serve.stop_on_sigterm()
    sizes = args.responses or ([4_000_000] if args.national else [100_000, 330_000])
    backends = (["sqlite"] if args.sqlite else []) + (["postgresql"] if args.postgres else [])
    ok = True
    for backend in backends:
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix="dashboard-live-") as folder:
                ok = run(args, backend, n, args.national, Path(folder)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    _serve.run_main(main)
