"""Backups and a tested restore, on SQLite and PostgreSQL, through the CLI as an operator runs them."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from survey import db
from survey.domain import audit
from survey.models import AnswerCount, AuditEntry, Response, ScoreSum
from survey.transfer.demo import seed_demo
from tests.helpers import IN_CI

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def counts(app) -> dict[str, int]:
    with app.app_context():
        s = db.session()
        models = (Response, AnswerCount, ScoreSum)
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in models}


@pytest.fixture
def seeded(app):
    with app.app_context():
        seed_demo(db.session(), months=2, per_month=40, seed=3, now=NOW)
        db.session().commit()
    return app


def needs_pg_tools(app):
    if make_url(app.config["DATABASE_URL"]).get_backend_name() == "postgresql":
        for tool in ("pg_dump", "pg_restore"):
            if shutil.which(tool) is None:
                if IN_CI:
                    pytest.fail(f"{tool} is required in CI")
                pytest.skip(f"{tool} is not installed")


def test_backup_then_restore_brings_everything_back(seeded, runner, tmp_path):
    needs_pg_tools(seeded)
    before = counts(seeded)
    assert before["responses"] > 0
    out = tmp_path / "survey.backup"
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output and out.stat().st_size > 0

    with seeded.app_context():  # a disaster: most of the responses lost
        s = db.session()
        s.execute(delete(Response).where(Response.id % 3 != 0))
        s.commit()
    assert counts(seeded)["responses"] < before["responses"]

    result = runner.invoke(args=["restore", "--from", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    seeded.extensions["survey.db"]["engine"].dispose()
    assert counts(seeded) == before
    with seeded.app_context():
        assert db.migrations_current(db.engine())
        logged = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "restore")).all()
        assert [(e.actor, e.kind, e.key) for e in logged] == [(audit.cli_actor(), "database", out.name)]
    health = seeded.test_client().get("/api/v1/health")
    assert health.status_code == 200, health.json
    assert health.json["checks"] == {"database": "ok", "migrations": "current"}


def test_restore_asks_before_replacing_everything(seeded, runner, tmp_path):
    needs_pg_tools(seeded)
    out = tmp_path / "survey.backup"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    result = runner.invoke(args=["restore", "--from", str(out)], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output


def test_a_file_that_is_not_a_backup_is_refused_and_nothing_changes(seeded, runner, tmp_path):
    needs_pg_tools(seeded)
    before = counts(seeded)
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup\n" * 100)
    result = runner.invoke(args=["restore", "--from", str(bogus), "--yes"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output
    seeded.extensions["survey.db"]["engine"].dispose()
    assert counts(seeded) == before


def test_backup_into_a_missing_folder_is_a_clear_error(app, runner, tmp_path):
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "no" / "such" / "file")])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_sqlite_backup_is_online_and_self_contained(make_app, tmp_path):
    """Citizens keep answering during the backup; the copy is one consistent file that opens alone."""
    path = tmp_path / "live.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    app = make_app(DATABASE_URL=f"sqlite:///{path}")
    with app.app_context():
        seed_demo(db.session(), months=1, per_month=300, seed=5, now=NOW)
        db.session().commit()
    stop = threading.Event()

    def keep_writing():
        writer = sqlite3.connect(path, timeout=30)
        while not stop.is_set():
            with writer:
                writer.execute("UPDATE responses SET channel = channel WHERE id = 1")
        writer.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        out = tmp_path / "copy.sqlite3"
        result = app.test_cli_runner().invoke(args=["backup", "--out", str(out)])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "copy.sqlite3-wal").exists() and not (tmp_path / "copy.sqlite3.partial").exists()
    copy = sqlite3.connect(out)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM responses").fetchone()[0] == counts(app)["responses"]
    copy.close()
