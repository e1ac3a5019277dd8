"""The analyst's reports: the month's satisfaction table and the report pack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from analysis.periods import parse_month
from survey import db
from survey.domain import catalog
from survey.models import Agency

if TYPE_CHECKING:
    import pandas as pd

report_cli = AppGroup("report", help="Reports of the counter survey.")


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
    from survey.reporting.monthly import write_monthly_report  # pandas: loaded only for reports

    try:
        month = parse_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None
    if questionnaire and catalog.current().get(questionnaire) is None:
        raise click.BadParameter(
            f"unknown questionnaire; known: {', '.join(catalog.current().ids())}", param_hint="--questionnaire"
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
@click.option("--lang", "lang", type=click.Choice(["vi", "en"]), default="vi", help="The pack's language (vi).")
@with_appcontext
def pack_command(month: str, out: Path, questionnaire: str | None, agency: str | None, lang: str) -> None:
    """Write the monthly report pack: a PDF and an Excel workbook (Vietnamese unless --lang en)."""
    from survey.reporting import insights, packs

    args = {"month": month, "questionnaire": questionnaire, "agency": agency}
    try:
        sel = insights.selection(db.session(), {k: v for k, v in args.items() if v}, None, None)
    except insights.SelectionError as exc:
        raise click.UsageError(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bao-cao-{sel.agency or 'ALL'}-{sel.questionnaire}-{sel.month}"
    with click.progressbar(("pdf", "xlsx"), label="Writing the report pack") as kinds:
        for kind in kinds:
            with packs.in_language(lang):
                body = insights.report_pack(db.session(), sel, kind, locale=lang)
            (out / f"{stem}.{kind}").write_bytes(body)
    click.echo(f"Wrote {out / stem}.pdf and .xlsx ({insights.agency_name(db.session(), sel.agency)}, {sel.month}).")
