"""API keys: created on the command line, shown once, stored as a SHA-256 hash, scoped to an agency."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import db
from survey.models import Agency, ApiKey, utcnow

apikey_cli = AppGroup("apikey", help="Keys other systems use to call the API.")
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
    agency = None
    if agency_code:
        agency = session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise ValueError(f"no agency with code {agency_code!r}")
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


def in_scope(session: Session, root_id: int | None, agency_id: int) -> bool:
    """Whether an agency is root or below it (root None: every agency), as survey.auth.visible_agencies sees it."""
    if root_id is None:
        return True
    seen: set[int] = set()
    current: int | None = agency_id
    while current is not None and current not in seen:  # seen: a cycle in parent_id must not loop forever
        if current == root_id:
            return True
        seen.add(current)
        agency = session.get(Agency, current)
        current = agency.parent_id if agency is not None else None
    return False


def _scope(key: ApiKey) -> str:
    return key.agency.code if key.agency else "ALL"


@apikey_cli.command("create")
@click.option("--name", required=True, help="Who uses the key, e.g. the one-stop software of a district.")
@click.option("--agency", "agency_code", help="Limit the key to this agency and the agencies below it.")
def create_command(name: str, agency_code: str | None) -> None:
    """Create an API key and print it once."""
    try:
        key, secret = create_key(db.session(), name, agency_code)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    db.session().commit()
    click.echo(f"Created API key {key.name} ({key.prefix}, scope {_scope(key)}). Store it now: it is shown only once.")
    click.echo(secret)


@apikey_cli.command("list")
def list_command() -> None:
    """List the API keys (never the keys themselves)."""
    keys = db.session().scalars(select(ApiKey).order_by(ApiKey.name)).all()
    for k in keys:
        used = k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never used"
        state = "revoked" if k.revoked_at else "active"
        click.echo(f"{k.prefix:<13} {k.name:<32} {_scope(k):<12} {state:<8} last used {used}")
    active = sum(k.revoked_at is None for k in keys)
    click.echo(f"{len(keys)} keys, {active} active.")


@apikey_cli.command("revoke")
@click.option("--name", help="The key's name.")
@click.option("--prefix", help="The key's prefix, as 'apikey list' shows it.")
def revoke_command(name: str | None, prefix: str | None) -> None:
    """Revoke an API key: it stops working at once."""
    if bool(name) == bool(prefix):
        raise click.UsageError("give --name or --prefix")
    key = find_by_name_or_prefix(db.session(), name, prefix)
    if key is None:
        raise click.ClickException(f"no API key with {'name' if name else 'prefix'} {name or prefix!r}")
    if key.revoked_at is not None:
        click.echo(f"Key {key.name} ({key.prefix}) was already revoked.")
        return
    key.revoked_at = utcnow()
    db.session().commit()
    active = db.session().scalar(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None)))
    click.echo(f"Revoked key {key.name} ({key.prefix}); {active} active keys remain.")
