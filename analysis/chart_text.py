"""The words beside the charts: titles and text alternatives in the current wording; the headline in Vietnamese.

Each works on what ``analysis.dashboard.chart_data`` prepared (or on the monthly table for the headline),
so a page can show a chart, its title, an ``alt`` text that says what it shows, and its data table.
"""

from __future__ import annotations

import pandas as pd

from analysis.chart_style import (
    NO_DATA,
    month_label,
    number,
    percent,
    status_label,
    target_label,
    vi_number,
    vi_percent,
)
from analysis.dashboard import DEFAULT_MIN_N, chart_title_of, focus_context, heatmap_frame, in_force, rank_agencies
from analysis.wording import current

ROWS = {
    "trend": "trend",
    "volume": "volume",
    "ranking": "overall_rows",
    "elements": "element_rows",
    "criteria": "criterion_rows",
    "heatmap": "criterion_rows",
    "priorities": "priority_rows",
}


def chart_title(name: str, data: dict) -> str:
    """The chart's title: the one chart_data gave it, else the generic one."""
    return data.get("title") or chart_title_of(name)


def _extremes(rows: pd.DataFrame, label: str) -> tuple[str, str]:
    """The highest and lowest rows, written 'label (87,4 %)'."""
    ordered = rows.sort_values("pct_satisfied", ascending=False, kind="stable")
    top, bottom = ordered.iloc[0], ordered.iloc[-1]
    words = current()
    return (
        words("alt.value", label=top[label], value=percent(top["pct_satisfied"])),
        words("alt.value", label=bottom[label], value=percent(bottom["pct_satisfied"])),
    )


def _series_alt(name: str, rows: pd.DataFrame) -> str:
    first, last, words = rows.iloc[0], rows.iloc[-1], current()
    if name == "volume":
        rate = words("alt.volume_rate") if rows["response_rate"].notna().any() else ""
        total = number(rows["responses"].sum(), 0)
        start, end = month_label(first["period"]), month_label(last["period"])
        return words("alt.volume", start=start, end=end, total=total, rate=rate)
    start = words("alt.value", label=month_label(first["period"]), value=percent(first["pct_satisfied"]))
    end = words("alt.value", label=month_label(last["period"]), value=percent(last["pct_satisfied"]))
    return words("alt.trend", start=start, end=end)


def _ranking_alt(rows: pd.DataFrame, min_n: int) -> str:
    ranked = rank_agencies(rows, min_n)
    enough = ranked[ranked["rank"].notna()]
    few, words = len(ranked) - len(enough), current()
    text = words("alt.ranking", count=len(enough))
    if len(enough):
        best, worst = _extremes(enough, "agency_name")
        text += words("alt.ranking_ends", best=best, worst=worst)
    if few:
        text += words("alt.ranking_few", few=few, min_n=min_n)
    return text + "."


def chart_alt(name: str, data: dict) -> str:
    """Say in one or two sentences what a chart shows, with its figures (the alt text of its image)."""
    rows, words = data.get(ROWS.get(name, "")), current()
    if rows is None or rows.empty or (name == "volume" and rows["responses"].sum() == 0):
        return words("alt.no_data", title=chart_title(name, data))
    min_n = data.get("min_n", DEFAULT_MIN_N)
    if name in ("trend", "volume"):
        return _series_alt(name, rows.sort_values("period"))
    if name == "ranking":
        return _ranking_alt(rows, min_n)
    if name == "heatmap":
        values = heatmap_frame(rows, min_n)
        shape = {"rows": values.shape[0], "columns": values.shape[1]}
        if values.isna().all().all():  # every cell has too few answers: there is no range to give
            return words("alt.heatmap_few", **shape)
        low, high = percent(values.min().min()), percent(values.max().max())
        return words("alt.heatmap", low=low, high=high, **shape)
    if name == "priorities":
        best, _ = _extremes(rows, "label")
        return words("alt.priorities", count=len(rows), best=best)
    best, worst = _extremes(rows, "label" if name == "elements" else "code")
    return words(f"alt.{name}", count=len(rows), best=best, worst=worst)


def headline(table: pd.DataFrame, *, agency: str | None = None, targets=None, questionnaire: str | None = None):
    """Summarise the focus block's overall index: value, interval, n, status per target, change, rate; None if empty."""
    rows, focus, name, month = focus_context(table, None, agency, None, questionnaire)
    overall = rows[(rows["level"] == "overall") & (rows["agency_code"] == focus)]
    if overall.empty:
        return None
    row = overall.iloc[0]
    goals = in_force(targets, month)
    values = dict(goals)
    statuses = [
        {"code": c[7:], "label": target_label(values.get(c[7:], c[7:])), "status": row[c], "text": status_label(row[c])}
        for c in rows.columns
        if c.startswith("status_") and c[7:] in values
    ]
    figures = {k: row[k] for k in ("period", "questionnaire", "version", "agency_code", "agency_name", "n")}
    extras = {k: (None if pd.isna(row[k]) else float(row[k])) for k in ("pct_satisfied", "ci_low", "ci_high")}
    extras |= {k: (None if pd.isna(row.get(k)) else float(row[k])) for k in ("change", "response_rate")}
    return {
        **figures,
        **extras,
        "n": int(row["n"]),
        "statuses": statuses,
        "text": headline_text({**figures, **extras}, statuses),
    }


def headline_text(figures: dict, statuses: list[dict]) -> str:
    """Say the headline in one Vietnamese paragraph (the text alternative of the headline box)."""
    if not figures:
        return NO_DATA
    parts = [
        f"Tháng {month_label(figures['period'])}, {figures['agency_name']}: chỉ số hài lòng chung "
        f"{vi_percent(figures['pct_satisfied'])} (khoảng tin cậy 95 %: {vi_number(figures['ci_low'])}–"
        f"{vi_percent(figures['ci_high'])}; {vi_number(figures['n'], 0)} phiếu)."
    ]
    parts += [f"{s['label']}: {s['text']}." for s in statuses]
    change = figures.get("change")
    if change is not None and change != 0:
        parts.append(f"{'Tăng' if change > 0 else 'Giảm'} {vi_number(abs(change))} điểm so với tháng trước.")
    elif change is not None:
        parts.append("Không đổi so với tháng trước.")
    if figures.get("response_rate") is not None:
        parts.append(f"Tỷ lệ phản hồi: {vi_percent(figures['response_rate'])}.")
    return " ".join(parts)
