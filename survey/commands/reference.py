"""Reference data (agencies, services, counters) from CSV files."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from survey import db
from survey.commands.problems import refuse_file
from survey.domain import audit
from survey.domain.reference import COLUMNS, ReferenceImportError, import_csv, read_text

reference_cli = AppGroup("reference", help="Reference data: agencies, services and counters.")


@reference_cli.command("import")
@click.option("--kind", type=click.Choice(sorted(COLUMNS)), required=True, help="What the file holds.")
@click.argument("file", type=click.Path(dir_okay=False))
def import_command(kind: str, file: str) -> None:
    """Import a CSV file of agencies, services or counters: every row, or nothing if any row is bad."""
    session = db.session()
    try:
        result = import_csv(session, kind, read_text(file))
    except ReferenceImportError as exc:
        refuse_file(session, exc.errors, file)
    done = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    audit.command_run(session, "import", f"reference:{kind}", str(file), done)
    session.commit()
    click.echo(result.summary())
