"""The analyst's monthly report: counts from the database, indices from the analysis library."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.indices import monthly_table
from analysis.periods import parse_month, previous_month
from survey import aggregate, db, registry
from survey.models import Agency

report_cli = AppGroup("report", help="Reports of the counter survey.")


def monthly_report(
    session: Session,
    month: str,
    *,
    questionnaire: str | None = None,
    agency: str | None = None,
    by_service: bool = False,
) -> pd.DataFrame:
    """The month's table for every agency block (or one agency's subtree), with last month's change."""
    months = [month, previous_month(month)]
    counts = aggregate.month_counts(session, months, questionnaire, by_service)
    scores = aggregate.month_scores(session, months, questionnaire, by_service)
    return monthly_table(
        counts,
        scores,
        registry.catalog(),
        aggregate.agencies_frame(session),
        aggregate.targets_frame(session),
        month,
        questionnaire=questionnaire,
        agency=agency,
        by_service=by_service,
        previous_counts=counts,
        previous_scores=scores,
        interactions=aggregate.interactions_frame(session, [month], current_app.config["TIMEZONE"]),
    )


def write_monthly_report(month: str, out: Path, **filters) -> pd.DataFrame:
    """Compute the month's report and write satisfaction.csv and satisfaction.xlsx into out."""
    from analysis import output

    session = db.session()
    table = monthly_report(session, month, **filters)
    out.mkdir(parents=True, exist_ok=True)
    output.write_csv(table, out / "satisfaction.csv")
    notes = output.report_notes(table, registry.catalog(), aggregate.targets_frame(session), month)
    output.write_xlsx(table, out / "satisfaction.xlsx", notes)
    return table


def summary_lines(table: pd.DataFrame) -> list[str]:
    """One line per questionnaire: the overall index of the first agency block and its statuses."""
    overall = table[(table["level"] == "overall") & (table["service_code"] == "ALL")]
    lines = []
    for _, first in overall.groupby(["questionnaire", "version"], sort=False).head(1).iterrows():
        statuses = ", ".join(f"{c.removeprefix('status_')} %: {first[c]}" for c in table if c.startswith("status_"))
        lines.append(
            f"{first['questionnaire']} v{first['version']} {first['agency_code']}: {first['pct_satisfied']:.2f} % "
            f"[{first['ci_low']:.2f}–{first['ci_high']:.2f}], n = {first['n']:,}; {statuses}"
        )
    return lines


@report_cli.command("monthly")
@click.option("--month", required=True, help="Calendar month YYYY-MM (Asia/Ho_Chi_Minh).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--questionnaire", help="Only this questionnaire id.")
@click.option("--agency", help="Only this agency and the agencies below it.")
@click.option("--by-service", is_flag=True, help="Add rows per service.")
@with_appcontext
def monthly_command(month: str, out: Path, questionnaire: str | None, agency: str | None, by_service: bool) -> None:
    """Write the month's satisfaction table as CSV (UTF-8 with BOM) and XLSX."""
    try:
        month = parse_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None
    if questionnaire and registry.catalog().get(questionnaire) is None:
        raise click.BadParameter(
            f"unknown questionnaire; known: {', '.join(registry.catalog().ids())}", param_hint="--questionnaire"
        )
    if agency and db.session().scalar(select(Agency.id).where(Agency.code == agency)) is None:
        raise click.BadParameter(f"no agency with code {agency!r}", param_hint="--agency")
    table = write_monthly_report(month, out, questionnaire=questionnaire, agency=agency, by_service=by_service)
    click.echo("Khảo sát tại quầy (counter survey), not the official SIPAS index.")
    for line in summary_lines(table):
        click.echo(line)
    click.echo(f"Wrote {len(table):,} rows for {month} to {out / 'satisfaction.csv'} and satisfaction.xlsx.")


@report_cli.command("pack")
@click.option("--month", required=True, help="Calendar month YYYY-MM (Asia/Ho_Chi_Minh).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--questionnaire", help="Questionnaire id (default: the application's default).")
@click.option("--agency", help="This agency and the agencies below it (default: all).")
@with_appcontext
def pack_command(month: str, out: Path, questionnaire: str | None, agency: str | None) -> None:
    """Write the monthly report pack: a Vietnamese PDF and an Excel workbook."""
    from survey import insights

    args = {"month": month, "questionnaire": questionnaire, "agency": agency}
    try:
        sel = insights.selection(db.session(), {k: v for k, v in args.items() if v}, None, None)
    except insights.SelectionError as exc:
        raise click.UsageError(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bao-cao-{sel.agency or 'ALL'}-{sel.questionnaire}-{sel.month}"
    with click.progressbar(("pdf", "xlsx"), label="Writing the report pack") as kinds:
        for kind in kinds:
            (out / f"{stem}.{kind}").write_bytes(insights.report_pack(db.session(), sel, kind))
    click.echo(f"Wrote {out / stem}.pdf and .xlsx ({insights.agency_name(db.session(), sel.agency)}, {sel.month}).")
