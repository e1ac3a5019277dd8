"""The analyst's monthly report: counts from the database, indices from the analysis library."""

from __future__ import annotations

import gc
from contextlib import contextmanager
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
    inputs: frames.Inputs | None = None,
) -> pd.DataFrame:
    """The month's table for every agency block (or one agency's subtree), with last month's change.

    inputs: frames already read for months that include this one and the one before (the dashboard
    reads a year at once); by default the two months are read here.
    """
    if inputs is None:
        inputs = _month_inputs(session, month, questionnaire, by_service, agency)
    return monthly_table(
        inputs.counts,
        inputs.scores,
        catalog.current(),
        inputs.agencies,
        inputs.targets,
        month,
        questionnaire=questionnaire,
        agency=agency,
        by_service=by_service,
        previous_counts=inputs.counts,
        previous_scores=inputs.scores,
        interactions=inputs.interactions,
    )


def _month_inputs(session: Session, month: str, questionnaire, by_service: bool, agency) -> frames.Inputs:
    """Read the month and the one before (for the change), filtered as the report is."""
    months = [month, previous_month(month)]
    return frames.Inputs.read(session, months, current_app.config["TIMEZONE"], questionnaire, by_service, agency)


def write_monthly_report(
    month: str, out: Path, *, questionnaire: str | None = None, agency: str | None = None, by_service: bool = False
) -> pd.DataFrame:
    """Compute the month's report and write satisfaction.csv and satisfaction.xlsx into out."""
    from analysis import output

    session = db.session()
    with _collector_paused():
        inputs = _month_inputs(session, month, questionnaire, by_service, agency)
        filters = {"questionnaire": questionnaire, "agency": agency, "by_service": by_service}
        table = monthly_report(session, month, **filters, inputs=inputs)
        out.mkdir(parents=True, exist_ok=True)
        output.write_csv(table, out / "satisfaction.csv")
        notes = output.report_notes(table, catalog.current(), inputs.targets, month)  # the targets read once
        output.write_xlsx(table, out / "satisfaction.xlsx", notes)
    return table


@contextmanager
def _collector_paused():
    """Hold off Python's cyclic garbage collector while a report is computed and written.

    A report makes tens of thousands of short-lived containers (rows, cells) and almost no cycles, yet
    they trigger full collections, each walking every object of the loaded app, pandas and SQLAlchemy:
    0.1–0.2 s of a 0.5 s report. The app servers' workers are spared this by gc.freeze (gunicorn.conf.py);
    a command is not. Whatever cycles the report leaves are collected once the collector is back.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
