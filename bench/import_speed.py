"""Time `flask import-responses` on a CSV file of N responses, on SQLite and on PostgreSQL.

Usage: .venv/bin/python bench/import_speed.py [--rows 100000] [--seed 1] [--postgres URL | --no-postgres]

Prepares a fresh database with the real commands (`flask init-db`, `seed-demo --responses-per-month 0`:
the demo Hà Nội's agencies, services and counters, no responses), then draws --rows responses the way
the demo does (each counter's questionnaire, its services, its agency's level of satisfaction, skipped
items, priorities, background questions and comments) spread over the last twelve months, and writes
them as one CSV file in the import layout (no submission_key: paper forms keyed in). Then, each in a
fresh `flask --app wsgi import-responses FILE` process:

- the import itself: wall time, rows/s, peak resident memory of the process;
- the same file again: nothing added (every row already imported);
- the rollups the import left equal those of `flask rollup rebuild`.

The same on a private schema of PostgreSQL (URL given, else the tests' default when reachable; the
schema is dropped afterwards). Target: at least 10,000 rows/s on each database, every check passing.
Exit status 0 if met, else 1.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _serve  # noqa: E402

TARGET = 10_000  # rows/s
DEFAULT_POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def write_file(url: str, path: Path, rows: int, seed: int) -> dict[str, int]:
    """Draw rows demo responses over the twelve months before NOW into a CSV file; questionnaires drawn."""
    from sqlalchemy import select

    from survey import create_app, db
    from survey.domain import catalog
    from survey.models import Service
    from survey.transfer import demo, layout

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": _serve.SECRET_KEY, "LOG_LEVEL": "WARNING"})
    rng, drawn = random.Random(seed), {}
    with app.app_context(), path.open("w", encoding="utf-8", newline="") as out:
        zone = layout.local_zone()
        # The demo's own drawing of a counter's response: its questionnaire, services and levels.
        profiles = demo._counter_profiles(db.session(), rng)
        items = layout.item_columns(catalog.current())
        writer = csv.writer(out)
        writer.writerow(layout.columns(items))
        codes = {p.counter.id: (p.counter.code, p.counter.agency.code) for p in profiles}
        services = dict(db.session().execute(select(Service.id, Service.code)).all())
        first = (NOW - timedelta(days=365)).astimezone(zone).date()
        days = [first + timedelta(days=d) for d in range(365) if (first + timedelta(days=d)).weekday() < 6]
        chosen = rng.choices(profiles, weights=[p.weight for p in profiles], k=rows)
        for profile in chosen:
            at = demo._office_time(rng, rng.choice(days), zone)
            sub = demo._draw_response(rng, profile, at, 0.0).submission
            while not any(c.code in sub.answers for c in sub.definition.criteria):  # every item skipped
                sub = demo._draw_response(rng, profile, at, 0.0).submission
            counter, agency = codes[sub.counter_id]
            d = sub.definition
            drawn[d.id] = drawn.get(d.id, 0) + 1
            writer.writerow([at.astimezone(zone).isoformat(timespec="seconds"), agency, services[sub.service_id],
                             counter, d.id, d.version, "paper", *(sub.answers.get(c, "") for c in items),
                             sub.comment or "", ""])  # fmt: skip
    app.extensions["survey.db"]["engine"].dispose()
    return drawn


def flask(url: str, *args: str) -> tuple[float, int, str]:
    """Run one flask command in a fresh process: wall seconds, its peak resident memory, its output."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _serve.FLASK_MEASURED, *args],
        cwd=_serve.ROOT,
        env=_serve.app_env(url, LOG_LEVEL="WARNING"),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return wall, int(done.stderr.strip().splitlines()[-1]), done.stdout.strip()


def rollups(database: _serve.Database) -> dict[str, list[tuple]]:
    found = {}
    for table in ("answer_counts", "score_sums"):
        rows = database.query(f"SELECT * FROM {table}")
        found[table] = sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows)
    return found


def run_backend(kind: str, folder: Path, rows: int, seed: int, postgres_url: str | None) -> bool:
    database = _serve.Database(kind, folder, postgres_url)
    try:
        _serve.prepare(database.url, months=1, per_month=0)
        path = folder / f"responses-{kind}.csv"
        drawn = write_file(database.url, path, rows, seed)
        mix = ", ".join(f"{name} {count:,}" for name, count in sorted(drawn.items()))
        print(f"{kind}: {rows:,} rows ({mix}), {path.stat().st_size / 1024**2:.1f} MB", flush=True)
        wall, peak, output = flask(database.url, "import-responses", str(path))
        rate = rows / wall
        print(f"  import:    {wall:6.2f} s, {rate:9,.0f} rows/s (target ≥ {TARGET:,}), peak memory "
              f"{peak / 1024**2:,.0f} MB; {output.splitlines()[-1]}")  # fmt: skip
        stored = database.query("SELECT count(*) FROM responses")[0][0]
        again_wall, _, again = flask(database.url, "import-responses", str(path))
        after = database.query("SELECT count(*) FROM responses")[0][0]
        print(f"  again:     {again_wall:6.2f} s, {rows / again_wall:9,.0f} rows/s; {again.splitlines()[-1]}")
        imported = rollups(database)
        flask(database.url, "rollup", "rebuild")
        equal = rollups(database) == imported
        ok = rate >= TARGET and stored == rows and after == rows and equal
        print(f"  checks:    {stored:,} stored, {after - stored:,} added again, rollups equal to a rebuild: "
              f"{'yes' if equal else 'NO'} -> {'met' if ok else 'NOT MET'}")  # fmt: skip
        return ok
    finally:
        database.drop()


def reachable(url: str) -> bool:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="responses in the file (at most 2,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL SQLAlchemy URL")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    if not 1 <= args.rows <= 2_000_000:
        parser.error("--rows must be between 1 and 2,000,000")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= run_backend("sqlite", Path(tmp), args.rows, args.seed, None)
        if args.no_postgres:
            pass
        elif reachable(args.postgres):
            ok &= run_backend("postgresql", Path(tmp), args.rows, args.seed, args.postgres)
        else:
            print(f"postgresql: not reachable at {args.postgres}; skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
