"""API keys: created on the command line, shown once, stored as a SHA-256 hash, scoped to an agency."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.domain import agencies
from survey.models import ApiKey, utcnow

KEY_PREFIX = "ksq_"
NAME = re.compile(r"[^\W_][\w .-]{0,63}")  # Vietnamese letters too
# Recording every use would write the key's row on every request; once a minute tells as much.
TOUCH_INTERVAL = timedelta(minutes=1)


def hash_key(key: str) -> str:
    """The stored form of a key: a fast hash is enough, as the key's 256 random bits cannot be guessed."""
    return hashlib.sha256(key.encode()).hexdigest()


def _free_prefix(session: Session) -> str:
    for _ in range(10):
        prefix = KEY_PREFIX + secrets.token_hex(4)
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            return prefix
    raise RuntimeError("no free key prefix found")  # 2^32 prefixes: only a broken random source gets here


def create_key(session: Session, name: str, agency_code: str | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret text (shown once); ValueError with a reason when not acceptable."""
    name = name.strip()
    if not NAME.fullmatch(name):
        raise ValueError("a name of 1 to 64 letters, digits, spaces, '.', '_' or '-' is needed")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise ValueError(f"a key named {name!r} exists already (revoked keys keep their names)")
    agency = agencies.named(session, agency_code)
    prefix = _free_prefix(session)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"  # 256 random bits after the prefix
    key = ApiKey(name=name, prefix=prefix, key_hash=hash_key(secret), agency=agency, created_at=utcnow())
    session.add(key)
    session.flush()
    return key, secret


def find_key(session: Session, presented: str) -> ApiKey | None:
    """The key (active or revoked) whose hash matches the presented text."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(presented)))


def find_by_name_or_prefix(session: Session, name: str | None = None, prefix: str | None = None) -> ApiKey | None:
    column, value = (ApiKey.name, name) if name else (ApiKey.prefix, prefix)
    return session.scalar(select(ApiKey).where(column == value))


def touch(key: ApiKey, now: datetime | None = None) -> bool:
    """Record that the key was used; False when it was recorded less than TOUCH_INTERVAL ago."""
    now = now or utcnow()
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_INTERVAL:
        return False
    key.last_used_at = now
    return True
