"""The report pack's tables as frames: every agency on one line, and each agency's figures in full.

Both come from the monthly table of one questionnaire pool; headers are Vietnamese, statuses words.
The PDF draws them (``analysis.report_pages``) and the workbook writes them (``analysis.reportpack``).
"""

from __future__ import annotations

import pandas as pd

from analysis.chart_style import status_label, target_label, target_list
from analysis.dashboard import first_pool

LEVEL_NAMES = {"overall": "Chung", "element": "Yếu tố", "criterion": "Tiêu chí", "priority": "Ưu tiên"}
SUMMARY = {
    "agency_name": "Cơ quan",
    "n": "Số phiếu",
    "pct_satisfied": "Chỉ số chung (%)",
    "ci_low": "KTC 95 %: cận dưới",
    "ci_high": "KTC 95 %: cận trên",
}
EXTRAS = {"change": "Thay đổi (điểm)", "response_rate": "Tỷ lệ phản hồi (%)"}
DETAIL = {
    "level": "Cấp",
    "code": "Mã",
    "label": "Nội dung",
    "n": "n",
    "pct_satisfied": "Tỷ lệ (%)",
    "ci_low": "KTC 95 %: cận dưới",
    "ci_high": "KTC 95 %: cận trên",
}


def _statuses(rows: pd.DataFrame, targets) -> pd.DataFrame:
    """One column per target in force, named Mục tiêu 86 %, holding the status in words."""
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
    parts = [
        overall[list(SUMMARY)].rename(columns=SUMMARY),
        _statuses(overall, targets),
        overall[extras].rename(columns=EXTRAS),
        elements.reindex(index=overall.index, columns=element_codes).rename(columns=lambda c: f"{c} (%)"),
    ]
    return pd.concat(parts, axis=1).reset_index(drop=True)


def agency_detail(
    table: pd.DataFrame, agency_code: str, targets=(), *, questionnaire: str | None = None
) -> pd.DataFrame:
    """Give one agency block's overall, element, criterion and priority figures with their statuses."""
    rows = first_pool(table, questionnaire)
    rows = rows[rows["agency_code"] == agency_code]
    shown = rows[list(DETAIL)].assign(level=rows["level"].map(LEVEL_NAMES)).rename(columns=DETAIL)
    return pd.concat([shown, _statuses(rows, targets)], axis=1).reset_index(drop=True)  # priorities: no status


def agency_blocks(table: pd.DataFrame, *, questionnaire: str | None = None) -> list[tuple[str, str]]:
    """List the (code, name) of every agency block of the pool, in the table's order."""
    rows = first_pool(table, questionnaire)
    return list(dict.fromkeys(zip(rows["agency_code"], rows["agency_name"], strict=True)))
