"""Backups and restores of the database: ``flask backup --out FILE`` and ``flask restore --from FILE``.

SQLite: an online backup through SQLite's backup API (citizens keep answering meanwhile), into a
single self-contained file checked with ``PRAGMA integrity_check`` before it replaces FILE. Restoring
copies the backup back into the database the same way, then brings it to the latest migration.

PostgreSQL: ``pg_dump --format=custom`` (only the schema in the URL's search_path, when it names one)
and ``pg_restore --clean --single-transaction``: a restore either completes or changes nothing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote

import click
from sqlalchemy.engine import URL, make_url

from survey import db


class BackupError(click.ClickException):
    """A backup or restore that could not be done, with the reason for the operator."""


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


def _copy(source: Path, target: Path) -> None:
    """Copy one SQLite database into another with the backup API, in one step.

    One step reads one snapshot: in WAL mode, writers go on meanwhile (a backup in several steps would
    start again after every write, and might never end on a busy database).
    """
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def backup_sqlite(url: URL, out: Path) -> None:
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        connection = sqlite3.connect(partial)
        connection.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        connection.close()
        result = _integrity(partial)
        if result != "ok":
            raise BackupError(f"The copy failed its integrity check ({result}); {out} was left as it was.")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def restore_sqlite(url: URL, backup: Path) -> None:
    target = _sqlite_path(url)
    try:
        result = _integrity(backup)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{backup} is not a SQLite database: {exc}.") from exc
    if result != "ok":
        raise BackupError(f"{backup} failed its integrity check ({result}); nothing was restored.")
    connection = sqlite3.connect(backup)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        connection.close()
    if "alembic_version" not in tables or "responses" not in tables:
        raise BackupError(f"{backup} is not a backup of this application's database; nothing was restored.")
    _copy(backup, target)


def _libpq(url: URL) -> tuple[str, str | None]:
    """The URL for pg_dump/pg_restore, and the schema named by its search_path option (if any)."""
    plain = url.set(drivername="postgresql")
    options = unquote(str(url.query.get("options", "")))
    schema = None
    for part in options.split():
        if part.startswith("-csearch_path="):
            schema = part.split("=", 1)[1].split(",")[0].strip('"')
    return plain.render_as_string(hide_password=False), schema


def _run(tool: str, arguments: list[str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} is not installed: install the PostgreSQL client tools (e.g. postgresql-client).")
    done = subprocess.run([executable, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip() or done.returncode}")


def backup_postgres(url: URL, out: Path) -> None:
    target, schema = _libpq(url)
    partial = out.with_name(out.name + ".partial")
    try:
        _run("pg_dump", ["--format=custom", "--no-owner", f"--file={partial}", *_schema(schema), target])
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def restore_postgres(url: URL, backup: Path) -> None:
    target, schema = _libpq(url)
    _run("pg_restore", ["--list", str(backup)])  # refuses a file that is not a pg_dump archive
    _run(
        "pg_restore",
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={target}", str(backup)],
    )


def _schema(schema: str | None) -> list[str]:
    return [f"--schema={schema}"] if schema else []


HANDLERS = {  # backend: (backup, restore)
    "sqlite": (backup_sqlite, restore_sqlite),
    "postgresql": (backup_postgres, restore_postgres),
}


def _handler(url: str, which: int) -> tuple[URL, object]:
    parsed = make_url(url)
    if parsed.get_backend_name() not in HANDLERS:
        raise BackupError(f"Backups of {parsed.get_backend_name()} databases are not supported.")
    return parsed, HANDLERS[parsed.get_backend_name()][which]


def backup(url: str, out: Path) -> None:
    """Write a backup of the database at url to out (replaced only once the backup is complete)."""
    parsed, write = _handler(url, 0)
    write(parsed, out)


def restore(url: str, source: Path) -> None:
    """Replace the database at url with the backup in source, then upgrade it to the latest migration."""
    parsed, read = _handler(url, 1)
    read(parsed, source)
    db.upgrade(url)
