"""The analyst's monthly report: counts from the database, indices from the analysis library."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from flask import current_app
from sqlalchemy.orm import Session

from analysis.indices import monthly_table
from analysis.periods import previous_month
from survey import db
from survey.domain import catalog
from survey.reporting import frames


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
    counts = frames.month_counts(session, months, questionnaire, by_service)
    scores = frames.month_scores(session, months, questionnaire, by_service)
    return monthly_table(
        counts,
        scores,
        catalog.current(),
        frames.agencies_frame(session),
        frames.targets_frame(session),
        month,
        questionnaire=questionnaire,
        agency=agency,
        by_service=by_service,
        previous_counts=counts,
        previous_scores=scores,
        interactions=frames.interactions_frame(session, [month], current_app.config["TIMEZONE"]),
    )


def write_monthly_report(month: str, out: Path, **filters) -> pd.DataFrame:
    """Compute the month's report and write satisfaction.csv and satisfaction.xlsx into out."""
    from analysis import output

    session = db.session()
    table = monthly_report(session, month, **filters)
    out.mkdir(parents=True, exist_ok=True)
    output.write_csv(table, out / "satisfaction.csv")
    notes = output.report_notes(table, catalog.current(), frames.targets_frame(session), month)
    output.write_xlsx(table, out / "satisfaction.xlsx", notes)
    return table
