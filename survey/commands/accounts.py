"""Staff accounts and API keys; every change is audited with the actor ``cli:<operating system user>``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from survey import db
from survey.domain import audit
from survey.domain.accounts import change_password, create_user, disable, find_user
from survey.domain.api_keys import create_key, find_by_name_or_prefix
from survey.models import ROLES, ApiKey, User, utcnow

user_cli = AppGroup("user", help="Staff accounts.")
apikey_cli = AppGroup("apikey", help="Keys other systems use to call the API.")


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--agency", "agency_code", help="Limit the user to this agency and the agencies below it.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, role: str, agency_code: str | None, password_stdin: bool) -> None:
    """Create a staff account."""
    password = _read_password(password_stdin)
    try:
        user = create_user(db.session(), email, role, password, agency_code)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record(db.session(), audit.cli_actor(), "create", "user", user.email, None, audit.snapshot("user", user))
    db.session().commit()
    scope = f"agency {agency_code} and below" if agency_code else "all agencies"
    click.echo(f"Created {user.role} {user.email} ({scope}).")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _user(email: str):
    user = find_user(db.session(), email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    return user


@user_cli.command("password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def set_password_command(email: str, password_stdin: bool) -> None:
    """Give a staff account a new password (its open sessions end)."""
    user = _user(email)
    try:
        change_password(db.session(), user, _read_password(password_stdin), audit.cli_actor())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    db.session().commit()
    click.echo(f"Changed the password of {user.email}; its open sessions have ended.")


@user_cli.command("list")
def list_users_command() -> None:
    """List the staff accounts."""
    users = db.session().scalars(select(User).order_by(User.email)).all()
    for u in users:
        scope = u.agency.code if u.agency else "ALL"
        click.echo(f"{u.email:<40} {u.role:<9} {scope:<12} {'active' if u.active else 'disabled'}")
    click.echo(f"{len(users)} users.")


@user_cli.command("disable")
@click.option("--email", required=True)
def disable_user_command(email: str) -> None:
    """Disable a staff account (it can no longer log in; existing sessions end)."""
    user = _user(email)
    before = audit.snapshot("user", user)
    disable(user)
    after = audit.snapshot("user", user)
    audit.record(db.session(), audit.cli_actor(), "deactivate", "user", user.email, before, after)
    db.session().commit()
    active = db.session().scalar(select(func.count()).select_from(User).where(User.active.is_(True)))
    click.echo(f"Disabled {user.email}; {active} active users remain.")


def _scope(key: ApiKey) -> str:
    return key.agency.code if key.agency else "ALL"


@apikey_cli.command("create")
@click.option("--name", required=True, help="Who uses the key, e.g. the one-stop software of a district.")
@click.option("--agency", "agency_code", help="Limit the key to this agency and the agencies below it.")
def create_key_command(name: str, agency_code: str | None) -> None:
    """Create an API key and print it once."""
    try:
        key, secret = create_key(db.session(), name, agency_code)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record(db.session(), audit.cli_actor(), "create", "api_key", key.name, None, audit.snapshot("api_key", key))
    db.session().commit()
    click.echo(f"Created API key {key.name} ({key.prefix}, scope {_scope(key)}). Store it now: it is shown only once.")
    click.echo(secret)


@apikey_cli.command("list")
def list_keys_command() -> None:
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
def revoke_key_command(name: str | None, prefix: str | None) -> None:
    """Revoke an API key: it stops working at once."""
    if bool(name) == bool(prefix):
        raise click.UsageError("give --name or --prefix")
    key = find_by_name_or_prefix(db.session(), name, prefix)
    if key is None:
        raise click.ClickException(f"no API key with {'name' if name else 'prefix'} {name or prefix!r}")
    if key.revoked_at is not None:
        click.echo(f"Key {key.name} ({key.prefix}) was already revoked.")
        return
    before = audit.snapshot("api_key", key)
    key.revoked_at = utcnow()
    audit.record(db.session(), audit.cli_actor(), "revoke", "api_key", key.name, before, audit.snapshot("api_key", key))
    db.session().commit()
    active = db.session().scalar(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None)))
    click.echo(f"Revoked key {key.name} ({key.prefix}); {active} active keys remain.")
