"""Time the dashboard's chart downloads: cold, served from the shared store, and looked at again (304).

Usage: .venv/bin/python bench/charts.py [--months 12] [--responses-per-month 400] [--repeat 5]

Builds the demo Hà Nội on a temporary SQLite database, logs in as an administrator and requests
every chart in every format through the application (the real view: scope check, data version,
shared store, rendering). For each it prints:
- cold: the chart rendered from the month's figures (the figures themselves already in the shared
  snapshot, as they are for every chart of the page); median of --repeat runs with the stored charts
  removed;
- cached: the same request answered from the shared store (median);
- 304: the same request with the ETag the browser got (median);
and once, the cost of taking the year's month snapshots from the database and the first chart.
Targets: each chart under 300 ms cold and under 10 ms cached.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import create_app, db
from survey.domain import accounts
from survey.reporting import insights, snapshot, store  # noqa: E402
from survey.transfer.demo import seed_demo  # noqa: E402

COLD_TARGET, CACHED_TARGET = 0.300, 0.010
PASSWORD = "bench password 1"


def build(folder: str, months: int, per_month: int):
    url = f"sqlite:///{folder}/bench.sqlite3"
    db.upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        seed_demo(db.session(), months=months, per_month=per_month, seed=1, now=datetime(2026, 11, 20, tzinfo=UTC))
        accounts.create_user(db.session(), "bench@hanoi.gov.vn", "admin", PASSWORD)
        db.session().commit()
    return app


def timed(client, url: str, etag: str | None = None) -> tuple[float, str]:
    headers = {"If-None-Match": f'"{etag}"'} if etag else {}
    started = time.perf_counter()
    reply = client.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    assert reply.status_code == (304 if etag else 200), (url, reply.status_code)
    return elapsed, reply.get_etag()[0]


def forget(app, prefix: str) -> None:
    """Remove stored values (charts: 'chart:'; everything: '') and what this worker kept of them."""
    with app.app_context():
        store.current().delete_prefix(prefix)
    snapshot._parts.clear()
    insights._assembled.clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--responses-per-month", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from analysis import charts

    with tempfile.TemporaryDirectory() as folder:
        app = build(folder, args.months, args.responses_per_month)
        client = app.test_client()
        client.post("/auth/login", data={"email": "bench@hanoi.gov.vn", "password": PASSWORD})
        query = "?month=2026-10&questionnaire=sipas&agency=HN"
        forget(app, "")
        first, _ = timed(client, f"/dashboard/charts/trend.png{query}")
        print(f"the year's snapshots + first chart, nothing stored: {first * 1000:.0f} ms")
        print(f"{'chart':<12}{'format':<8}{'cold ms':>9}{'cached ms':>11}{'304 ms':>9}")
        worst_cold = worst_cached = 0.0
        for name in charts.CHART_NAMES:
            for fmt in charts.FORMATS:
                url = f"/dashboard/charts/{name}.{fmt}{query}"
                cold, cached, again = [], [], []
                for _ in range(args.repeat):
                    forget(app, "chart:")
                    seconds, etag = timed(client, url)
                    cold.append(seconds)
                    cached.append(timed(client, url)[0])
                    again.append(timed(client, url, etag)[0])
                c, h, r = statistics.median(cold), statistics.median(cached), statistics.median(again)
                worst_cold, worst_cached = max(worst_cold, c), max(worst_cached, h)
                print(f"{name:<12}{fmt:<8}{c * 1000:>9.0f}{h * 1000:>11.1f}{r * 1000:>9.1f}")
        app.extensions["survey.db"]["engine"].dispose()
    ok = worst_cold < COLD_TARGET and worst_cached < CACHED_TARGET
    print(
        f"worst: cold {worst_cold * 1000:.0f} ms (target < {COLD_TARGET * 1000:.0f}), cached "
        f"{worst_cached * 1000:.1f} ms (target < {CACHED_TARGET * 1000:.0f}) -> {'met' if ok else 'NOT MET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
