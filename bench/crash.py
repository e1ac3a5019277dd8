"""Kill the server again and again while citizens submit: is every acknowledged answer stored exactly once?

Usage: .venv/bin/python bench/crash.py [--kills 20] [--clients 8] [--postgres URL]
       [--min-interval 0.5] [--max-interval 2.0] [--seed 1]

Prepares a temporary SQLite database with the real commands (`flask init-db`, a small `seed-demo`,
`counter-url --all`; with --postgres, then also a private schema of that database, dropped
afterwards) and serves the app with the production server (`gunicorn -c gunicorn.conf.py wsgi:app`,
fixed SECRET_KEY, rate limit off) in its own process group. --clients citizens submit continuously:
GET a counter's signed page, POST random complete answers; a POST that gets no answer, or a 5xx, is
resent with the same submission_key until it is answered 303 (a rejected CSRF token is renewed with a
fresh GET, keeping the key and the answers), as a browser's retry would. Every --min-interval to
--max-interval seconds (at random) of serving, the whole process group (master and workers) gets
SIGKILL, in the middle of whatever it was doing, and gunicorn is started again on the same port.

After --kills kills the clients finish the submission in hand, the server stops, and the database
is checked:
- every acknowledged submission_key stored exactly once, with the answers sent; no key stored twice
  (responses counted grouped by submission_key), nothing stored that no client sent;
- SQLite: `PRAGMA integrity_check` is "ok" and `PRAGMA foreign_key_check` finds nothing; PostgreSQL:
  no answer without its response, no response without answers;
- the monthly rollups (answer_counts, score_sums) equal their rebuild from the stored responses
  (`flask rollup rebuild`).
Prints kills, submissions acknowledged, retries, stored, missing, duplicates and the integrity result.
Target: nothing missing, nothing duplicated, integrity and rollups intact. Exit status 0 if so, else 1.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _serve  # noqa: E402

GIVE_UP = 120.0  # seconds a client keeps retrying one submission before reporting it abandoned


@dataclass
class Tally:
    acknowledged: dict[str, int] = field(default_factory=dict)  # submission_key → answers sent
    abandoned: set[str] = field(default_factory=set)
    last_failure: dict[str, float] = field(default_factory=dict)  # key → time.time() of its last failed POST
    retries: Counter = field(default_factory=Counter)  # why POSTs were resent
    get_failures: int = 0
    statuses: Counter = field(default_factory=Counter)  # unexpected statuses
    lock: threading.Lock = field(default_factory=threading.Lock)


def citizen(index: int, port: int, paths: list[str], stop: threading.Event, tally: Tally, seed: int) -> None:
    rng = random.Random(seed * 1000 + index)
    client = _serve.Client(port, timeout=15)
    shapes: dict[str, _serve.FormShape] = {}

    def fresh_page(path: str) -> tuple[dict, bytes]:
        """GET the form until it is served (the server may be down or starting)."""
        while True:
            try:
                status, _, page = client.request("GET", path)
                if status == 200:
                    return _serve.hidden_fields(page), page
                with tally.lock:
                    tally.statuses[f"GET {status}"] += 1
            except _serve.CONNECTION_ERRORS:
                pass
            with tally.lock:
                tally.get_failures += 1
            time.sleep(rng.uniform(0.05, 0.15))

    try:
        while not stop.is_set():
            path = rng.choice(paths)
            hidden, page = fresh_page(path)
            if path not in shapes:
                shapes[path] = _serve.FormShape.parse(page)
            key, csrf = hidden["submission_key"], hidden["csrf_token"]
            answers = shapes[path].random_answers(rng)
            started = time.monotonic()
            while True:
                body = urlencode([("csrf_token", csrf), ("submission_key", key), *answers]).encode()
                reason = None
                try:
                    status, _, _ = client.request("POST", path, body)
                except _serve.CONNECTION_ERRORS as exc:
                    status, reason = None, f"no answer ({type(exc).__name__})"
                if status == 303:
                    with tally.lock:
                        tally.acknowledged[key] = shapes[path].stored_answers(answers)
                    break
                if status in (400, 422):  # e.g. the CSRF token was not accepted: renew it, keep the answers
                    reason = f"status {status}, new CSRF token"
                    csrf = fresh_page(path)[0]["csrf_token"]
                elif status is not None and status < 500:
                    with tally.lock:
                        tally.statuses[f"POST {status}"] += 1
                        tally.abandoned.add(key)
                    break
                elif status is not None:
                    reason = f"status {status}"
                with tally.lock:
                    tally.retries[reason] += 1
                    tally.last_failure[key] = time.time()
                if time.monotonic() - started > GIVE_UP:
                    with tally.lock:
                        tally.abandoned.add(key)
                    break
                time.sleep(rng.uniform(0.02, 0.1))
    finally:
        client.close()


# --- checks ---------------------------------------------------------------------------------------------


def rollup_rows(db: _serve.Database) -> tuple[dict, dict]:
    counts = {
        tuple(r[:-1]): r[-1]
        for r in db.query(
            "SELECT period, agency_id, service_id, questionnaire_version_id, item_code, value, count FROM answer_counts"
        )
    }
    sums = {
        tuple(r[:-3]): tuple(r[-3:])
        for r in db.query(
            "SELECT period, agency_id, service_id, questionnaire_version_id, scope, n, sum_y, sum_y2 FROM score_sums"
        )
    }
    return counts, sums


def rollups_agree(db: _serve.Database) -> tuple[bool, str]:
    """Compare the rollups kept request by request with `flask rollup rebuild` from the responses."""
    before = rollup_rows(db)
    done = subprocess.run(
        [str(_serve.BIN / "flask"), "--app", "wsgi", "rollup", "rebuild"],
        cwd=_serve.ROOT,
        env=_serve.app_env(db.url),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return False, f"rollup rebuild failed: {done.stderr[-1000:]}"
    after = rollup_rows(db)
    problems = []
    if before[0] != after[0]:
        differ = {k for k in before[0].keys() | after[0].keys() if before[0].get(k) != after[0].get(k)}
        problems.append(f"{len(differ)} answer_counts rows differ (e.g. {sorted(differ, key=str)[0]})")
    differ = set(before[1].keys() ^ after[1].keys())
    for k in before[1].keys() & after[1].keys():
        (n0, y0, q0), (n1, y1, q1) = before[1][k], after[1][k]
        if n0 != n1 or abs(y0 - y1) > 1e-6 * max(1.0, abs(y1)) or abs(q0 - q1) > 1e-6 * max(1.0, abs(q1)):
            differ.add(k)
    if differ:
        problems.append(f"{len(differ)} score_sums rows differ (e.g. {sorted(differ, key=str)[0]})")
    if problems:
        return False, "; ".join(problems)
    return True, f"equal ({len(after[0]):,} answer_counts rows, {len(after[1]):,} score_sums rows)"


def integrity(db: _serve.Database) -> tuple[bool, str]:
    """SQLite: integrity_check and foreign_key_check. Both: no orphan answer, no response without answers."""
    notes, ok = [], True
    if db.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(db.path)
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        conn.close()
        ok &= result == ["ok"] and not foreign
        notes.append(f"integrity_check {'; '.join(result)[:200]}")
        notes.append(f"foreign_key_check {'ok' if not foreign else f'{len(foreign)} violations'}")
    orphans = db.query(
        "SELECT count(*) FROM answers a WHERE NOT EXISTS (SELECT 1 FROM responses r WHERE r.id = a.response_id)"
    )[0][0]
    empty = db.query(
        "SELECT count(*) FROM responses r WHERE NOT EXISTS (SELECT 1 FROM answers a WHERE a.response_id = r.id)"
    )[0][0]
    ok &= orphans == 0 and empty == 0
    notes.append(f"orphan answers {orphans}, responses without answers {empty}")
    return ok, ", ".join(notes)


def stored_rows(db: _serve.Database) -> list[tuple[str, datetime, int]]:
    """(submission_key, submitted_at as aware UTC, answers) of every stored response."""
    from sqlalchemy import DateTime, String, text

    query = text(
        "SELECT r.submission_key, r.submitted_at, count(a.response_id) FROM responses r "
        "LEFT JOIN answers a ON a.response_id = r.id GROUP BY r.id, r.submission_key, r.submitted_at"
    ).columns(submission_key=String, submitted_at=DateTime)
    with db.engine().connect() as conn:
        return [(k, at.replace(tzinfo=UTC), n) for k, at, n in conn.execute(query)]


# --- a run on one database ----------------------------------------------------------------------------------


def run(label: str, db: _serve.Database, folder: Path, args) -> bool:
    print(f"{label}: preparing the database (init-db, seed-demo, counter-url --all)", flush=True)
    paths = list(_serve.prepare(db.url).values())
    seeded = {key for (key,) in db.query("SELECT submission_key FROM responses")}
    port = _serve.free_port()
    server = _serve.Server("wsgi:app", port, _serve.app_env(db.url, port), folder / f"gunicorn-{db.kind}.log")
    rng = random.Random(args.seed)
    tally, stop, threads = Tally(), threading.Event(), []
    restarts: list[float] = []
    try:
        ready = server.start(ready_path=paths[0])
        print(f"  gunicorn ready in {ready:.1f} s; {args.clients} clients submitting; {args.kills} kills", flush=True)
        for i in range(args.clients):
            thread = threading.Thread(target=citizen, args=(i, port, paths, stop, tally, args.seed), daemon=True)
            thread.start()
            threads.append(thread)
        for k in range(args.kills):
            time.sleep(rng.uniform(args.min_interval, args.max_interval))
            with tally.lock:
                acked = len(tally.acknowledged)
            server.kill()
            _serve.wait_port_free(port)
            restarts.append(server.start(ready_path=paths[0]))
            print(
                f"  kill {k + 1:>2}/{args.kills}: {acked:,} acknowledged so far; back in {restarts[-1]:.1f} s",
                flush=True,
            )
        time.sleep(rng.uniform(args.min_interval, args.max_interval))
        stop.set()
        for thread in threads:
            thread.join(GIVE_UP + 30)
        if any(t.is_alive() for t in threads):
            raise RuntimeError("a client did not finish its last submission")
        server.stop()
    finally:
        stop.set()
        server.kill()

    rows = stored_rows(db)
    by_key = Counter(key for key, _, _ in rows)
    answers = {key: n for key, _, n in rows}
    submitted_at = {key: at for key, at, _ in rows}
    ours = [k for k in by_key if k not in seeded]
    missing = [k for k in tally.acknowledged if not by_key[k]]
    duplicates = [k for k, n in by_key.items() if n > 1]
    unknown = [k for k in ours if k not in tally.acknowledged and k not in tally.abandoned]
    wrong = [k for k, n in tally.acknowledged.items() if by_key[k] and answers[k] != n]
    # A POST whose response was lost with the server although its transaction had committed: the row
    # is older than the failure, and the retry was acknowledged as already stored.
    lost_answers = sum(
        1
        for k, failed in tally.last_failure.items()
        if k in submitted_at and submitted_at[k].timestamp() < failed and k in tally.acknowledged
    )
    intact, integrity_note = integrity(db)
    agree, rollup_note = rollups_agree(db)
    retried = sum(tally.retries.values())
    print(f"\n{label}: results")
    rows_out = [
        ("kills (SIGKILL to master and workers)", f"{args.kills}"),
        (
            "restart to ready, mean / max",
            f"{sum(restarts) / max(1, len(restarts)):.1f} / {max(restarts, default=0):.1f} s",
        ),
        ("submissions acknowledged (303)", f"{len(tally.acknowledged):,}"),
        ("submissions that needed a retry", f"{len(tally.last_failure):,}"),
        ("retries (POSTs resent with the same key)", f"{retried:,}"),
        *[(f"  {reason}", f"{n:,}") for reason, n in sorted(tally.retries.items())],
        ("committed, answer lost, retry acked", f"{lost_answers:,}"),
        ("GETs failed while down", f"{tally.get_failures:,}"),
        ("stored (responses of this run)", f"{len(ours):,}"),
        ("missing (acknowledged, not stored)", f"{len(missing):,}"),
        ("duplicates (key stored twice or more)", f"{len(duplicates):,}"),
        ("stored with other answers than sent", f"{len(wrong):,}"),
        ("stored, never sent or not acknowledged", f"{len(unknown):,}"),
        ("abandoned submissions", f"{len(tally.abandoned):,}"),
        ("unexpected statuses", ", ".join(f"{k}: {n}" for k, n in sorted(tally.statuses.items())) or "none"),
        ("integrity", f"{'ok' if intact else 'FAILED'}: {integrity_note}"),
        ("rollups vs rebuild", rollup_note),
    ]
    for name, value in rows_out:
        print(f"  {name:<44}{value}")
    ok = not missing and not duplicates and not wrong and not unknown and not tally.abandoned and intact and agree
    ok &= bool(tally.acknowledged)
    print(f"  → {'passed' if ok else 'FAILED'} (target: nothing missing or duplicated, integrity and rollups intact)")
    if not ok:
        print(f"  server log (last lines):\n{server.log_tail(20)}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--postgres", help="also run on PostgreSQL at this SQLAlchemy URL")
    parser.add_argument("--min-interval", type=float, default=0.5, help="least seconds of serving between kills")
    parser.add_argument("--max-interval", type=float, default=2.0, help="most seconds of serving between kills")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _serve.stop_on_sigterm()
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp:
        folder = Path(tmp)
        backends = [("SQLite", "sqlite")] + ([("PostgreSQL", "postgresql")] if args.postgres else [])
        for label, kind in backends:
            db = _serve.Database(kind, folder, args.postgres)
            try:
                ok &= run(label, db, folder, args)
            finally:
                db.drop()
            print()
    print(f"crash test: {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    _serve.run_main(main)
