"""Month-by-month series for the dashboard: the overall index of one agency block, and responses per month.

``trend_table`` takes the overall rows of ``monthly_tables`` (every month's ``monthly_table`` computed in
one pass), so a month of the trend is the same figure as that month's report. ``volume_table`` counts
responses (the n of OVERALL) and, when one-time links are known, the response rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.hierarchy import ALL, hierarchy_order
from analysis.indices import empty_table, monthly_tables
from analysis.periods import parse_month, previous_month
from analysis.scores import OVERALL
from questionnaires import Catalog

TREND_COLUMNS = [
    "period",
    "questionnaire",
    "version",
    "agency_code",
    "agency_name",
    "n",
    "pct_satisfied",
    "ci_low",
    "ci_high",
]
VOLUME_COLUMNS = ["period", "responses", "issued", "used", "response_rate"]
_PLACEHOLDER = "*"  # the one code every response is recorded at when the block is ALL


def months_ending(month: str, count: int = 12) -> list[str]:
    """List the ``count`` months that end with ``month``, oldest first."""
    months = [parse_month(month)]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return months[::-1]


def _subtree(agencies: pd.DataFrame | None, agency: str | None) -> list[str] | None:
    """Codes whose responses count in the block of ``agency`` (None: every code)."""
    if agency is None:
        return None
    if agencies is None:
        return [agency]
    return hierarchy_order(agencies, agency)


def _within(frame: pd.DataFrame, months: list[str], questionnaire: str | None, codes) -> pd.DataFrame:
    """Keep the rows of the given months, questionnaire and agency codes (None: any)."""
    keep = frame["period"].astype(str).isin(months)
    if questionnaire is not None:
        keep &= frame["questionnaire"].astype(str) == questionnaire
    if codes is not None:
        keep &= frame["agency_code"].astype(str).isin(codes)
    return frame[keep]


def _collapsed(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """Record every row at one agency code, so monthly_table computes a single block."""
    return frame.assign(agency_code=code).astype({"agency_code": object})


def _block_agencies(agencies: pd.DataFrame | None, agency: str | None) -> pd.DataFrame | None:
    """The agency list of the collapsed data: the block's agency alone (its name kept), or none for ALL."""
    if agency is None:
        return None
    names = {} if agencies is None else dict(zip(agencies["code"].astype(str), agencies["name"], strict=True))
    return pd.DataFrame({"code": [agency], "name": [names.get(agency, agency)], "parent_code": [None]})


def _largest_pool(rows: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per month: the version pool with the most responses (pools are never mixed)."""
    ordered = rows.sort_values(["period", "n"], ascending=[True, False], kind="stable")
    return ordered.drop_duplicates("period")


def trend_table(
    counts: pd.DataFrame,
    scores: pd.DataFrame,
    catalog: Catalog,
    agencies: pd.DataFrame | None,
    targets: pd.DataFrame | None,
    months: list[str],
    *,
    questionnaire: str,
    agency: str | None = None,
    min_n: int | None = None,
) -> pd.DataFrame:
    """Collect the overall index (service ALL) of one agency block (None: ALL) for each month with data.

    The block's subtree is first recorded at one code, so each month's table holds one block (or ALL and
    one placeholder) instead of every agency: the same figures, a fraction of the work.
    """
    months = [parse_month(m) for m in months]
    codes = _subtree(agencies, agency)
    collapsed_code = agency if agency is not None else _PLACEHOLDER
    counts = _collapsed(_within(counts, months, questionnaire, codes), collapsed_code)
    scores = _collapsed(_within(scores, months, questionnaire, codes), collapsed_code)
    block_agencies = _block_agencies(agencies, agency)
    block = agency if agency is not None else ALL
    present = set(counts["period"].astype(str))
    table = monthly_tables(
        counts,
        scores,
        catalog,
        block_agencies,
        targets,
        [m for m in months if m in present],
        questionnaire=questionnaire,
        agency=agency,
        min_n=min_n,
    )
    keep = (table["level"] == "overall") & (table["service_code"] == ALL) & (table["agency_code"] == block)
    columns = TREND_COLUMNS + [c for c in table.columns if c.startswith("status_")]
    trend = _largest_pool(pd.concat([empty_table(), table[keep]], ignore_index=True))
    return trend.reindex(columns=columns).reset_index(drop=True)


def volume_table(
    scores: pd.DataFrame,
    months: list[str],
    *,
    agencies: pd.DataFrame | None = None,
    agency: str | None = None,
    questionnaire: str | None = None,
    interactions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Count responses per month (every month given, 0 when none) in an agency's subtree, with the response rate."""
    months = [parse_month(m) for m in months]
    codes = _subtree(agencies, agency)
    overall = _within(scores[scores["scope"] == OVERALL], months, questionnaire, codes)
    responses = overall.groupby(overall["period"].astype(str))["n"].sum()
    frame = pd.DataFrame({"period": months, "responses": responses.reindex(months, fill_value=0).to_numpy()})
    if interactions is None:
        issued = used = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    else:
        links = _within(interactions, months, None, codes)
        sums = links.groupby(links["period"].astype(str))[["issued", "used"]].sum().reindex(months, fill_value=0)
        issued = pd.Series(sums["issued"].to_numpy(), dtype="Int64")
        used = pd.Series(sums["used"].to_numpy(), dtype="Int64")
    issued_f = issued.astype("float64").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(issued_f > 0, 100 * used.astype("float64").to_numpy() / issued_f, np.nan)
    frame = frame.assign(issued=issued, used=used, response_rate=np.round(rate, 2))
    return frame.astype({"period": object, "responses": "int64", "response_rate": "float64"})[VOLUME_COLUMNS]
