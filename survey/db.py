"""The database: one Engine per app, one Session per request, and the init-db command."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from itertools import chain, islice
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


BULK_CACHE_KIB = 64 * 1024  # SQLite page cache of a bulk write: a big batch's index pages stay in memory


@contextmanager
def bulk_writes(session: Session) -> Iterator[None]:
    """Give a long write on SQLite a larger page cache (the default 2 MB spills index pages), restored after."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


# Rows per statement on SQLite: fewer, longer statements cost less per row, up to a point (2,000 parameters
# measured as good as any between 999 and 8,000), within its limit of parameters (999 before 3.32).
PARAMETERS_PER_STATEMENT = 2000
ROWS_PER_UNNEST = 5000  # PostgreSQL: one array parameter per column, whatever the number of rows


def insert_rows(
    session: Session,
    table,
    columns: Sequence[str],
    rows: Iterable[tuple],
    *,
    skip_conflicts: bool = False,
    add_on_conflict: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Insert plain tuples (in the order of columns) by the driver's fastest path, in the session's transaction.

    skip_conflicts: ON CONFLICT DO NOTHING; add_on_conflict: ON CONFLICT (primary key) DO UPDATE SET
    m = m + excluded.m for these measures; returning: these columns of the rows inserted. On PostgreSQL a
    plain insert is a COPY and the others an INSERT … SELECT FROM unnest(one array per column); on SQLite,
    multi-row VALUES. Each value goes through its column's bind processor (e.g. UTCDateTime), so rows are
    stored exactly as Core would store them, without Core's work per row.
    """
    connection = session.connection()
    dialect, columns = connection.dialect, tuple(columns)
    processors = [(i, p) for i, name in enumerate(columns) if (p := _bind_processor(table.c[name].type, dialect))]
    if processors:
        rows = (_processed(row, processors) for row in rows)
    conflict = "nothing" if skip_conflicts else tuple(add_on_conflict)
    postgres = dialect.name == "postgresql"
    if postgres and not conflict and not returning:
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(_copy_sql(dialect, table.name, columns)) as copy:
                for row in rows:
                    copy.write_row(row)
        return []
    per = ROWS_PER_UNNEST if postgres else max(1, _sqlite_parameters(connection) // len(columns))
    found, rows = [], iter(rows)
    while chunk := list(islice(rows, per)):
        if postgres:
            sql = _insert_sql(dialect, table, columns, None, conflict, tuple(returning))
            result = connection.exec_driver_sql(sql, tuple(map(list, zip(*chunk, strict=True))))
        else:
            sql = _insert_sql(dialect, table, columns, len(chunk), conflict, tuple(returning))
            result = connection.exec_driver_sql(sql, tuple(chain.from_iterable(chunk)))
        if returning:
            found += result.all()
    return found


def _sqlite_parameters(connection) -> int:
    import sqlite3

    driver = connection.connection.driver_connection
    return min(PARAMETERS_PER_STATEMENT, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def _bind_processor(type_, dialect):
    """What Core does to a value of this type before the driver sees it (the dialect's own type, decorated)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _processed(row: tuple, processors) -> list:
    row = list(row)
    for i, process in processors:
        row[i] = process(row[i])
    return row


@cache
def _copy_sql(dialect, table: str, columns: tuple[str, ...]) -> str:
    quote = dialect.identifier_preparer.quote
    return f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN"


@lru_cache(maxsize=256)
def _insert_sql(dialect, table, columns: tuple[str, ...], count: int | None, conflict, returning: tuple[str, ...]):
    """INSERT … VALUES with count rows of positional parameters (None: SELECT FROM unnest of one array per
    column, PostgreSQL), with its ON CONFLICT and RETURNING."""
    quote = dialect.identifier_preparer.quote
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
    if count is None:
        arrays = ", ".join(f"%s::{table.c[c].type.dialect_impl(dialect).compile(dialect=dialect)}[]" for c in columns)
        sql += f"SELECT * FROM unnest({arrays})"
    else:
        group = f"({', '.join(['?'] * len(columns))})"
        sql += f"VALUES {', '.join([group] * count)}"
    if conflict == "nothing":
        sql += " ON CONFLICT DO NOTHING"
    elif conflict:
        keys = ", ".join(quote(c.name) for c in table.primary_key.columns)
        sets = ", ".join(f"{quote(m)} = {quote(table.name)}.{quote(m)} + excluded.{quote(m)}" for m in conflict)
        sql += f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    if returning:
        sql += f" RETURNING {', '.join(map(quote, returning))}"
    return sql
