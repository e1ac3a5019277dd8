"""The shared month figures: take them now, or keep them fresh in the background."""

from __future__ import annotations

import os
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from survey import db

figures_cli = AppGroup("figures", help="The month figures every worker shares.")


@figures_cli.command("refresh")
@click.option("--month", "months", multiple=True, help="Only this month YYYY-MM (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Take every month again, changed or not.")
@with_appcontext
def refresh_command(months: tuple[str, ...], everything: bool) -> None:
    """Take the figures of the months whose data changed (default: the newest year and a month)."""
    from analysis.periods import parse_month
    from survey.reporting import freshness, snapshot

    for month in months:
        try:
            parse_month(month)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--month") from None
    if everything:
        freshness.changed()
    built = snapshot.refresh(db.session(), list(months) or None, wait=True)
    click.echo(f"Figures taken for {built} month(s).")


@figures_cli.command("watch")
@click.option("--nice", "niceness", type=int, default=None, help="Lower this process's priority by this much.")
@with_appcontext
def watch_command(niceness: int | None) -> None:
    """Keep the figures fresh until stopped (SIGTERM or Ctrl+C): one check every FIGURES_CHECK_SECONDS."""
    from survey.reporting import snapshot

    app = current_app._get_current_object()
    niceness = app.config["FIGURES_NICE"] if niceness is None else niceness
    if niceness:
        os.nice(niceness)  # citizens' requests in the web workers come first
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"Keeping the figures fresh every {app.config['FIGURES_CHECK_SECONDS']} s (nice {niceness}).")
    snapshot.watch(app, stop)
