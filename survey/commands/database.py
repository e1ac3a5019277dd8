"""The database: migrations, backups and restores, monthly rollups."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from survey import db
from survey.domain import audit, catalog, rollup
from survey.models import Response
from survey.transfer.backup import BackupError, backup, restore

rollup_cli = AppGroup("rollup", help="Monthly rollups of answers and scores.")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Upgrade the database to the latest migration and register the questionnaires."""
    url = current_app.config["DATABASE_URL"]
    db.upgrade(url)
    catalog.sync(current_app)
    click.echo(click.style("Database is at the latest migration.", fg="green"))
    if rollup.missing(db.session()):
        count = rollup.rebuild(db.session())
        db.session().commit()
        click.echo(f"Monthly rollups filled from {count:,} existing responses.")


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Backup file.")
@with_appcontext
def backup_command(out: Path) -> None:
    """Back up the database while the application keeps running."""
    if not out.parent.is_dir():
        raise BackupError(f"The folder {out.parent} does not exist.")
    backup(current_app.config["DATABASE_URL"], out)
    click.echo(f"Backup written to {out} ({out.stat().st_size:,} bytes).")


@click.command("restore")
@click.option(
    "--from", "source", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Backup."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with a backup (stop the application servers first)."""
    url = current_app.config["DATABASE_URL"]
    shown = make_url(url).render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Replace every row of {shown} with {source}?", abort=True)
    current_app.extensions["survey.db"]["engine"].dispose()
    restore(url, source)
    audit.command_run(db.session(), "restore", "database", str(source), {})
    db.session().commit()  # in the restored database's log
    click.echo(f"Database restored from {source} and at the latest migration.")


@rollup_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the monthly rollups from the stored responses."""
    session = db.session()
    total = session.scalar(select(func.count()).select_from(Response))
    with click.progressbar(length=total, label="Reading responses") as bar:
        count = rollup.rebuild(session, progress=bar.update)
    audit.command_run(session, "rebuild", "rollups", "all", {"responses": count})
    session.commit()
    click.echo(f"Rollups rebuilt from {count:,} responses.")
