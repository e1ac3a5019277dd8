"""The database: one Engine per app, one Session per request, and the init-db command."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, **kwargs) -> Engine:
    """Create an Engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        kwargs.setdefault("connect_args", {"connect_timeout": 10})  # fail fast, e.g. in the health check
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], **app.config.get("ENGINE_OPTIONS", {}))
    app.extensions["survey.db"] = {"engine": engine, "sessionmaker": sessionmaker(engine, expire_on_commit=False)}
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["survey.db"]["engine"]


def session() -> Session:
    """The request's (or CLI command's) Session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["survey.db"]["sessionmaker"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database at url to the latest migration (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def migrations_current(eng: Engine) -> bool:
    """Whether the database is at the latest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(eng.url.render_as_string(hide_password=False))).get_heads())
    with eng.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads


def has_table(eng: Engine, name: str) -> bool:
    return inspect(eng).has_table(name)


def insert_dialect(table, dialect_name: str):
    """The dialect's own INSERT, which knows ON CONFLICT (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


def insert_ignoring_conflicts(table, dialect_name: str):
    """An INSERT that skips rows violating a unique constraint (ON CONFLICT DO NOTHING)."""
    return insert_dialect(table, dialect_name).on_conflict_do_nothing()
