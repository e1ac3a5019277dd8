"""Responses in and out: import from a file, export a month, fill a database with demo data."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from analysis.periods import parse_month
from survey import db
from survey.commands.problems import refuse_file
from survey.commands.progress import progress_bar
from survey.domain import audit
from survey.domain.reference import ReferenceImportError
from survey.models import Agency, Response
from survey.reporting import freshness
from survey.transfer.layout import FORMATS, MAX_REPORTED


@click.command("import-responses")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would be imported; write nothing.")
@with_appcontext
def import_responses_command(file: Path, dry_run: bool) -> None:
    """Import responses from a CSV or XLSX file: every row, or nothing if any row is bad."""
    from survey.transfer.imports import ResponseImportError, import_responses, open_source  # openpyxl

    session = db.session()
    try:
        with open_source(file) as source, progress_bar(source.total, f"Reading {file.name}") as progress:
            result = import_responses(session, source, dry_run, progress=progress)
    except ResponseImportError as exc:
        refuse_file(session, exc.errors, file, exc.total, MAX_REPORTED)
    if dry_run:
        session.rollback()
    else:
        done = {"rows": result.rows, "imported": result.imported, "sha256": source.digest}
        audit.command_run(session, "import", "responses", str(file), done)
        session.commit()
        if result.imported:
            freshness.changed()  # responses of any month, at once: the shared figures are taken again
    click.echo(result.summary())


def _month(_ctx, _param, value: str) -> str:
    try:
        return parse_month(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("export-responses")
@click.option("--month", required=True, callback=_month, help="Local calendar month, YYYY-MM.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="File format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--questionnaire", help="Only this questionnaire (every version).")
@click.option("--agency", help="Only this agency and the agencies under it (code).")
@with_appcontext
def export_responses_command(month: str, fmt: str, out: Path, questionnaire: str | None, agency: str | None) -> None:
    """Export a month of anonymised responses, one row per response, in the import layout."""
    from survey.transfer.exports import export_responses, replacing, select_responses  # pyarrow, openpyxl

    session = db.session()
    selection = select_responses(session, month, questionnaire, agency)
    total = session.scalar(select(func.count()).select_from(Response).where(*selection.filters()))
    with replacing(out) as part, click.progressbar(length=total, label=f"Exporting {month}") as bar:
        count = export_responses(session, selection, fmt, part, progress=bar.update)
    click.echo(f"Exported {count:,} responses of {month} to {out}.")


@click.command("seed-demo")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 120), help="Months of responses.")
@click.option(
    "--responses-per-month",
    "per_month",
    default=400,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Responses in a full month; the current month gets its share up to yesterday.",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the random generator.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has agencies.")
@with_appcontext
def seed_demo_command(months: int, per_month: int, seed: int, if_empty: bool) -> None:
    """Fill an empty database with demo agencies, counters and months of responses."""
    from survey.transfer.demo import seed_demo

    session = db.session()
    if if_empty and session.scalar(select(func.count()).select_from(Agency)):
        click.echo("Demo data not loaded: the database already has agencies.")
        return
    if session.scalar(select(func.count()).select_from(Response)):
        raise click.ClickException("the database already has responses; seed-demo only fills an empty database.")
    try:
        with click.progressbar(length=months, label="Seeding months") as bar:
            result = seed_demo(session, months, per_month, seed, progress=bar.update)
    except ReferenceImportError as exc:  # e.g. a catalog without the demo's questionnaires
        session.rollback()
        raise click.ClickException(f"demo reference data rejected: {exc}") from None
    session.commit()
    click.echo(result.summary())
