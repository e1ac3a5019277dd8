"""Counters: the signed links their QR codes open."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from survey import db
from survey.domain import signing
from survey.models import Counter


@click.command("counter-url")
@click.argument("counter_code", required=False)
@click.option("--all", "all_counters", is_flag=True, help="Print the URL of every active counter.")
@with_appcontext
def counter_url_command(counter_code: str | None, all_counters: bool) -> None:
    """Print the signed URL that a counter's QR code opens."""
    session = db.session()
    if all_counters:
        counters = session.scalars(select(Counter).where(Counter.active.is_(True)).order_by(Counter.code)).all()
        for c in counters:
            click.echo(f"{c.code:<16} {signing.counter_url(c.code)}  ({c.name})")
        click.echo(f"{len(counters)} active counters.")
        return
    if not counter_code:
        raise click.UsageError("give a counter code, or --all")
    counter = session.scalar(select(Counter).where(Counter.code == counter_code))
    if counter is None:
        raise click.ClickException(f"no counter with code {counter_code!r}")
    if not counter.active:
        click.echo(f"warning: counter {counter_code} is inactive; its link shows 'not found'", err=True)
    click.echo(signing.counter_url(counter.code))
