"""The report pack's tables as frames: every agency on one line, and each agency's figures in full.

Both come from the monthly table of one questionnaire pool; headers and statuses are words of the current
wording (Vietnamese by default).
The PDF draws them (``analysis.report_pages``) and the workbook writes them (``analysis.reportpack``).
"""

from __future__ import annotations

import pandas as pd

from analysis.chart_style import status_label, target_label, target_list
from analysis.dashboard import first_pool
from analysis.wording import current

LEVELS = ("overall", "element", "criterion", "priority")
# Columns and the wording keys of their headers ("n" is written as is).
SUMMARY = {
    "agency_name": "col.agency",
    "n": "col.responses",
    "pct_satisfied": "col.overall_pct",
    "ci_low": "col.low",
    "ci_high": "col.high",
}
EXTRAS = {"change": "col.change", "response_rate": "col.rate"}
DETAIL = {
    "level": "col.level",
    "code": "col.code",
    "label": "col.text",
    "n": "n",
    "pct_satisfied": "col.share",
    "ci_low": "col.low",
    "ci_high": "col.high",
}


def headers(keys: dict[str, str]) -> dict[str, str]:
    """Each column's header in the current wording."""
    words = current()
    return {column: words(key) if "." in key else key for column, key in keys.items()}


def _statuses(rows: pd.DataFrame, targets) -> pd.DataFrame:
    """One column per target in force, named by its target (Mục tiêu 86 %), holding the status in words."""
    values = dict(target_list(targets))
    columns = [c for c in rows.columns if c.startswith("status_") and c[7:] in values]
    return pd.DataFrame({target_label(values[c[7:]]): rows[c].map(status_label) for c in columns}, index=rows.index)


def agency_summary(table: pd.DataFrame, targets=(), *, questionnaire: str | None = None) -> pd.DataFrame:
    """List every agency block on one line: overall index, interval, statuses, change, rate, element shares."""
    rows = first_pool(table, questionnaire)
    overall = rows[rows["level"] == "overall"].set_index("agency_code")
    elements = rows[rows["level"] == "element"].pivot_table(
        index="agency_code", columns="code", values="pct_satisfied", aggfunc="first", sort=False
    )
    element_codes = list(dict.fromkeys(rows.loc[rows["level"] == "element", "code"]))
    extras = [c for c in EXTRAS if c in overall and overall[c].notna().any()]
    summary = headers(SUMMARY)
    parts = [
        overall[list(summary)].rename(columns=summary),
        _statuses(overall, targets),
        overall[extras].rename(columns=headers(EXTRAS)),
        elements.reindex(index=overall.index, columns=element_codes).rename(columns=lambda c: f"{c} (%)"),
    ]
    return pd.concat(parts, axis=1).reset_index(drop=True)


def agency_detail(
    table: pd.DataFrame, agency_code: str, targets=(), *, questionnaire: str | None = None
) -> pd.DataFrame:
    """Give one agency block's overall, element, criterion and priority figures with their statuses."""
    rows = first_pool(table, questionnaire)
    rows = rows[rows["agency_code"] == agency_code]
    detail, words = headers(DETAIL), current()
    levels = {level: words(f"level.{level}") for level in LEVELS}
    shown = rows[list(detail)].assign(level=rows["level"].map(levels)).rename(columns=detail)
    return pd.concat([shown, _statuses(rows, targets)], axis=1).reset_index(drop=True)  # priorities: no status


def agency_blocks(table: pd.DataFrame, *, questionnaire: str | None = None) -> list[tuple[str, str]]:
    """List the (code, name) of every agency block of the pool, in the table's order."""
    rows = first_pool(table, questionnaire)
    return list(dict.fromkeys(zip(rows["agency_code"], rows["agency_name"], strict=True)))
