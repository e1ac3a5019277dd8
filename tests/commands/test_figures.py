"""`flask figures refresh` and `flask figures watch`: the shared month figures taken now or kept fresh."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from survey import db
from survey.models import Agency
from survey.reporting import frames, freshness, snapshot, store
from survey.transfer.demo import seed_demo

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def seeded(app, months: int = 2) -> list[str]:
    with app.app_context():
        seed_demo(db.session(), months=months, per_month=40, seed=5, now=NOW)
        db.session().commit()
        return frames.months_with_responses(db.session())


def test_refresh_takes_the_changed_months_once(app, runner):
    months = seeded(app)
    result = runner.invoke(args=["figures", "refresh"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        kept = snapshot.kept_months(snapshot.data_marks(db.session(), freshness.epoch()))
        assert set(months) <= set(kept) and set(snapshot.heads(kept)) == set(kept)  # empty months of the trends too
    assert f"Figures taken for {len(kept)} month(s)." in result.output
    again = runner.invoke(args=["figures", "refresh"])
    assert "Figures taken for 0 month(s)." in again.output  # nothing changed since
    forced = runner.invoke(args=["figures", "refresh", "--all", "--month", months[0]])
    assert "Figures taken for 1 month(s)." in forced.output


def test_refresh_refuses_a_bad_month(app, runner):
    result = runner.invoke(args=["figures", "refresh", "--month", "2026-13"])
    assert result.exit_code == 2
    assert "month must be written YYYY-MM" in result.output
    with app.app_context():
        assert store.current().get(freshness.CHECKED) is None  # nothing was looked at


def head_of(app, month: str) -> snapshot.Head | None:
    with app.app_context():
        return snapshot.heads([month]).get(month)


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_watch_keeps_the_figures_fresh_until_stopped(app, database_url, tmp_path):
    month = seeded(app, months=1)[0]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "FLASK_FIGURES_CHECK_SECONDS": "1",
        "FLASK_FIGURES_MAX_AGE": "60",
    }
    with (tmp_path / "watch.log").open("w+") as log:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "figures", "watch", "--nice", "5"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            assert wait_for(lambda: head_of(app, month) is not None), log.seek(0) or log.read()
            first = head_of(app, month)
            with app.app_context():
                db.session().get(Agency, 1).name = "Renamed by the administrator"
                db.session().commit()  # the epoch moves: taken again at the next check, whatever its age
            assert wait_for(lambda: head_of(app, month).gen != first.gen), log.seek(0) or log.read()
            with app.app_context():
                assert store.current().get(freshness.HEARTBEAT) is not None  # requests leave the checks to it
                table = snapshot.month_table(snapshot.Month(snapshot.heads([month])[month]), None, None)
                assert "Renamed by the administrator" in set(table["agency_name"])
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=30) == 0
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
        log.seek(0)
        assert "Keeping the figures fresh every 1 s (nice 5)." in log.read()
