"""The shared store: values every worker and every server reads the same copy of.

The month's figures snapshot (survey.reporting.snapshot) and the rendered charts live here, with the
locks that let one worker at a time build them. By default the store is the database (the
``shared_values`` table, so the embedded SQLite set-up needs nothing more); where ``REDIS_URL`` is
set it is Redis. Values are bytes; a value may expire. Nothing here is kept in a worker's memory.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Engine

from survey import db
from survey.models import SharedValue


class DatabaseStore:
    """The store in the database's shared_values table, each call its own short transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.table = SharedValue.__table__

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, bytes] = {}
        now = datetime.now(UTC)
        live = or_(SharedValue.expires_at.is_(None), SharedValue.expires_at > now)
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):  # bounded IN lists
                chunk = keys[start : start + 500]
                stmt = select(SharedValue.key, SharedValue.value).where(SharedValue.key.in_(chunk), live)
                found.update({k: bytes(v) for k, v in conn.execute(stmt)})
        return found

    def get(self, key: str) -> bytes | None:
        return self.get_many([key]).get(key)

    def scan(self, prefix: str) -> dict[str, bytes]:
        """Every live value whose key starts with prefix."""
        live = or_(SharedValue.expires_at.is_(None), SharedValue.expires_at > datetime.now(UTC))
        wanted = SharedValue.key.startswith(prefix, autoescape=True)
        stmt = select(SharedValue.key, SharedValue.value).where(wanted, live)
        with self.engine.connect() as conn:
            return {k: bytes(v) for k, v in conn.execute(stmt)}

    def put_many(self, values: dict[str, bytes], ttl: float | None = None) -> None:
        if not values:
            return
        expires = datetime.now(UTC) + timedelta(seconds=ttl) if ttl else None
        rows = [{"key": k, "value": v, "expires_at": expires} for k, v in values.items()]
        insert = db.insert_dialect(self.table, self.engine.dialect.name)
        stmt = insert.on_conflict_do_update(
            index_elements=["key"], set_={"value": insert.excluded.value, "expires_at": insert.excluded.expires_at}
        )
        with self.engine.begin() as conn:
            for start in range(0, len(rows), 500):
                conn.execute(stmt, rows[start : start + 500])

    def put(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.put_many({key: value}, ttl)

    def delete(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        with self.engine.begin() as conn:
            for start in range(0, len(keys), 500):
                conn.execute(delete(SharedValue).where(SharedValue.key.in_(keys[start : start + 500])))

    def delete_prefix(self, prefix: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(SharedValue).where(SharedValue.key.startswith(prefix, autoescape=True)))

    def prune(self) -> None:
        """Drop expired values (reads already ignore them)."""
        with self.engine.begin() as conn:
            conn.execute(delete(SharedValue).where(SharedValue.expires_at <= datetime.now(UTC)))

    def acquire(self, name: str, ttl: float) -> str | None:
        """Take the lock called name for ttl seconds: its token, or None when another holder has it."""
        token = secrets.token_hex(16)
        now = datetime.now(UTC)
        insert = db.insert_dialect(self.table, self.engine.dialect.name)
        row = {"key": f"lock:{name}", "value": token.encode(), "expires_at": now + timedelta(seconds=ttl)}
        stmt = (
            insert.values(row)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={"value": insert.excluded.value, "expires_at": insert.excluded.expires_at},
                where=self.table.c.expires_at <= now,  # taken over only once the holder's time is up
            )
            .returning(self.table.c.key)
        )  # a row back: inserted or taken over (rowcount is not reliable here)
        with self.engine.begin() as conn:
            taken = conn.execute(stmt).first() is not None
        return token if taken else None

    def release(self, name: str, token: str) -> None:
        with self.engine.begin() as conn:
            mine = (SharedValue.key == f"lock:{name}", SharedValue.value == token.encode())
            conn.execute(delete(SharedValue).where(*mine))


class RedisStore:
    """The store in Redis: expiry and locks are Redis's own (SET NX PX)."""

    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def __init__(self, url: str, prefix: str = "survey:"):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix  # so that the store can share a Redis with other uses (and tests)

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        values = self.redis.mget([self.prefix + k for k in keys])
        return {k: v for k, v in zip(keys, values, strict=True) if v is not None}

    def get(self, key: str) -> bytes | None:
        return self.redis.get(self.prefix + key)

    def scan(self, prefix: str) -> dict[str, bytes]:
        keys = list(self.redis.scan_iter(match=self.prefix + _glob_escaped(prefix) + "*", count=1000))
        values = self.redis.mget(keys) if keys else []
        return {k.decode()[len(self.prefix) :]: v for k, v in zip(keys, values, strict=True) if v is not None}

    def put_many(self, values: dict[str, bytes], ttl: float | None = None) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for key, value in values.items():
            pipe.set(self.prefix + key, value, px=int(ttl * 1000) if ttl else None)
        pipe.execute()

    def put(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.put_many({key: value}, ttl)

    def delete(self, keys: Iterable[str]) -> None:
        keys = [self.prefix + k for k in keys]
        for start in range(0, len(keys), 1000):
            self.redis.delete(*keys[start : start + 1000])

    def delete_prefix(self, prefix: str) -> None:
        batch = []
        for key in self.redis.scan_iter(match=self.prefix + _glob_escaped(prefix) + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                self.redis.delete(*batch)
                batch = []
        if batch:
            self.redis.delete(*batch)

    def prune(self) -> None:
        """Nothing to do: Redis drops expired values itself."""

    def acquire(self, name: str, ttl: float) -> str | None:
        token = secrets.token_hex(16)
        return token if self.redis.set(f"{self.prefix}lock:{name}", token, nx=True, px=int(ttl * 1000)) else None

    def release(self, name: str, token: str) -> None:
        self.redis.eval(self._RELEASE, 1, f"{self.prefix}lock:{name}", token)


def _glob_escaped(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def current() -> DatabaseStore | RedisStore:
    """The app's store: Redis where REDIS_URL is set, else the database (created on first use)."""
    store = current_app.extensions.get("survey.store")
    if store is None:
        url = current_app.config.get("REDIS_URL")
        prefix = current_app.config.get("REDIS_PREFIX", "survey:")
        store = RedisStore(url, prefix) if url else DatabaseStore(db.engine())
        current_app.extensions["survey.store"] = store
    return store
