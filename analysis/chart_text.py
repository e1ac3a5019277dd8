"""The words beside the charts: titles, text alternatives and the headline, in Vietnamese.

Each works on what ``analysis.dashboard.chart_data`` prepared (or on the monthly table for the headline),
so a page can show a chart, its title, an ``alt`` text that says what it shows, and its data table.
"""

from __future__ import annotations

import pandas as pd

from analysis.chart_style import NO_DATA, month_label, status_label, target_label, vi_number, vi_percent
from analysis.dashboard import DEFAULT_MIN_N, TITLES, focus_context, heatmap_frame, in_force, rank_agencies

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
    return data.get("title") or TITLES.get(name, name)


def _extremes(rows: pd.DataFrame, label: str) -> tuple[str, str]:
    """The highest and lowest rows, written 'label (87,4 %)'."""
    ordered = rows.sort_values("pct_satisfied", ascending=False, kind="stable")
    top, bottom = ordered.iloc[0], ordered.iloc[-1]
    return (
        f"{top[label]} ({vi_percent(top['pct_satisfied'])})",
        f"{bottom[label]} ({vi_percent(bottom['pct_satisfied'])})",
    )


def _series_alt(name: str, rows: pd.DataFrame) -> str:
    first, last = rows.iloc[0], rows.iloc[-1]
    if name == "volume":
        rate = " và đường tỷ lệ phản hồi" if rows["response_rate"].notna().any() else ""
        total = vi_number(rows["responses"].sum(), 0)
        span = f"{month_label(first['period'])} đến {month_label(last['period'])}"
        return f"Biểu đồ cột: số phiếu theo tháng từ {span}, tổng {total} phiếu{rate}."
    start = f"{month_label(first['period'])} ({vi_percent(first['pct_satisfied'])})"
    end = f"{month_label(last['period'])} ({vi_percent(last['pct_satisfied'])})"
    return f"Biểu đồ đường: chỉ số hài lòng chung theo tháng, từ {start} đến {end}, có khoảng tin cậy 95 % và mục tiêu."


def _ranking_alt(rows: pd.DataFrame, min_n: int) -> str:
    ranked = rank_agencies(rows, min_n)
    enough = ranked[ranked["rank"].notna()]
    few = len(ranked) - len(enough)
    text = f"Biểu đồ điểm: {len(enough)} cơ quan xếp hạng theo chỉ số hài lòng chung"
    if len(enough):
        best, worst = _extremes(enough, "agency_name")
        text += f", cao nhất {best}, thấp nhất {worst}"
    if few:
        text += f"; {few} cơ quan có ít hơn {min_n} phiếu, hiển thị màu xám, không xếp hạng"
    return text + "."


def chart_alt(name: str, data: dict) -> str:
    """Say in one or two sentences what a chart shows (the alt text of its image)."""
    rows = data.get(ROWS.get(name, ""))
    if rows is None or rows.empty or (name == "volume" and rows["responses"].sum() == 0):
        return f"{chart_title(name, data)}: {NO_DATA.lower()}."
    min_n = data.get("min_n", DEFAULT_MIN_N)
    if name in ("trend", "volume"):
        return _series_alt(name, rows.sort_values("period"))
    if name == "ranking":
        return _ranking_alt(rows, min_n)
    if name == "heatmap":
        values = heatmap_frame(rows, min_n)
        low, high = vi_percent(values.min().min()), vi_percent(values.max().max())
        return (
            f"Bản đồ nhiệt: tỷ lệ hài lòng của {values.shape[0]} cơ quan theo {values.shape[1]} tiêu chí, "
            f"từ {low} đến {high}; ô gạch chéo: quá ít câu trả lời."
        )
    if name == "priorities":
        best, _ = _extremes(rows, "label")
        return f"Biểu đồ thanh: {len(rows)} ưu tiên cải thiện, được chọn nhiều nhất: {best}."
    kind, label = ("Biểu đồ cột", "label") if name == "elements" else ("Biểu đồ thanh", "code")
    best, worst = _extremes(rows, label)
    noun = "yếu tố" if name == "elements" else "tiêu chí"
    return f"{kind}: tỷ lệ hài lòng của {len(rows)} {noun}, cao nhất {best}, thấp nhất {worst}."


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
