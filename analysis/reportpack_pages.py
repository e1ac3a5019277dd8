"""The report pack's own pages: the cover, the headline and the method note (in the current wording)."""

from __future__ import annotations

import textwrap
from datetime import date

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analysis.chart_style import MAIN, MUTED, OKABE_ITO, month_label, number, percent
from analysis.dashboard import first_pool
from analysis.output import ReportNotes
from analysis.report_pages import MARGIN, PAGE_SIZE, blank_page
from analysis.wording import VI, current

STATUS_COLOURS = {
    "met": OKABE_ITO["green"],
    "not_met": OKABE_ITO["vermillion"],
    "inconclusive": OKABE_ITO["orange"],
    "insufficient": MUTED,
}
DISCLAIMER, STATUS_LEGEND = VI["pack.disclaimer"], VI["pack.status_legend"]  # as the Vietnamese pack says them


def _at(fig: Figure, x: float, y: float, text: str, **style) -> None:
    """Write text at x inches from the left and y inches from the top."""
    fig.text(x / PAGE_SIZE[0], 1 - y / PAGE_SIZE[1], text, va="top", **style)


def cover_page(title: str, month: str, agency_name: str, notes: ReportNotes, generated: date) -> Figure:
    """Draw the cover: title, month, agency, questionnaires, the not-SIPAS notice and the date."""
    words, fig = current(), blank_page()
    _at(fig, MARGIN, 1.6, title, fontsize=28, fontweight="bold", color=MAIN)
    _at(fig, MARGIN, 2.5, words("pack.month", month=month_label(month)), fontsize=18)
    _at(fig, MARGIN, 3.0, agency_name, fontsize=18, fontweight="bold")
    for i, questionnaire in enumerate(notes.questionnaires[:4]):
        _at(fig, MARGIN, 3.7 + 0.3 * i, words("pack.questionnaire", name=questionnaire), fontsize=11)
    box_top, lines = 5.0, textwrap.wrap(words("pack.disclaimer"), 120)
    height = 0.3 + 0.24 * len(lines)
    fig.add_artist(
        Rectangle(
            (MARGIN / PAGE_SIZE[0], 1 - (box_top + height) / PAGE_SIZE[1]),
            1 - 2 * MARGIN / PAGE_SIZE[0],
            height / PAGE_SIZE[1],
            transform=fig.transFigure,
            facecolor="#FFF4E0",
            edgecolor=OKABE_ITO["orange"],
        )
    )
    _at(fig, MARGIN + 0.2, box_top + 0.15, "\n".join(lines), fontsize=11, linespacing=1.5)
    _at(fig, MARGIN, 7.0, words("pack.generated", date=generated.strftime(words("date"))), fontsize=11, color=MUTED)
    if notes.as_of:
        _at(fig, MARGIN, 7.3, notes.as_of, fontsize=11, color=MUTED)
    return fig


def _headline_figures(fig: Figure, summary: dict) -> None:
    """The left column: the index, its interval, n, change, response rate and each target's status."""
    words = current()
    _at(fig, MARGIN, 1.4, words("pack.overall"), fontsize=13)
    _at(fig, MARGIN, 1.8, percent(summary["pct_satisfied"]), fontsize=54, fontweight="bold", color=MAIN)
    low, high = number(summary["ci_low"]), percent(summary["ci_high"])
    lines = [words("pack.interval_line", low=low, high=high), words("pack.responses_line", n=number(summary["n"], 0))]
    change = summary.get("change")
    sign = "+" if change is not None and change > 0 else ""
    changed = words("pack.change_line", change=f"{sign}{number(change)}") if change is not None else None
    lines.append(changed or words("pack.no_change"))
    if summary.get("response_rate") is not None:
        lines.append(words("pack.rate_line", rate=percent(summary["response_rate"])))
    for i, line in enumerate(lines):
        _at(fig, MARGIN, 3.0 + 0.36 * i, line, fontsize=13)
    top = 3.2 + 0.36 * len(lines)
    for i, status in enumerate(summary["statuses"]):
        y = top + 0.42 * i
        fig.add_artist(
            Rectangle(
                (MARGIN / PAGE_SIZE[0], 1 - (y + 0.25) / PAGE_SIZE[1]),
                0.22 / PAGE_SIZE[0],
                0.22 / PAGE_SIZE[1],
                transform=fig.transFigure,
                color=STATUS_COLOURS.get(status["status"], MUTED),
            )
        )
        _at(fig, MARGIN + 0.35, y, f"{status['label']}: {status['text']}", fontsize=14, fontweight="bold")


def _element_lines(fig: Figure, table: pd.DataFrame, agency_code: str) -> None:
    """The right column: each element's share and interval."""
    rows = first_pool(table)
    rows = rows[(rows["agency_code"] == agency_code) & (rows["level"] == "element")]
    left = PAGE_SIZE[0] / 2 + 0.3
    words = current()
    _at(fig, left, 1.4, words("pack.by_element"), fontsize=13, fontweight="bold")
    for i, row in enumerate(rows.itertuples(index=False)):
        _at(fig, left, 1.9 + 0.62 * i, textwrap.shorten(row.label, 60, placeholder=" …"), fontsize=11)
        low, high = number(row.ci_low), percent(row.ci_high)
        figures = words("pack.element_figures", pct=percent(row.pct_satisfied), low=low, high=high)
        _at(fig, left, 2.15 + 0.62 * i, figures, fontsize=11, fontweight="bold", color=MAIN)


def headline_page(summary: dict | None, table: pd.DataFrame, agency_name: str, month: str, min_n: int = 30) -> Figure:
    """Draw the headline: the overall index with its interval and status per target, then the elements."""
    words = current()
    fig = blank_page(words("pack.headline", agency=agency_name, month=month_label(month)))
    if summary is None:
        _at(fig, MARGIN, 3.5, words("no_data"), fontsize=28, color=MUTED)
        return fig
    _headline_figures(fig, summary)
    _element_lines(fig, table, summary["agency_code"])
    legend = "\n".join(textwrap.wrap(words("pack.status_legend", min_n=min_n), 160))
    _at(fig, MARGIN, 7.0, legend, fontsize=9, color=MUTED)
    return fig


FORMULAS = ("pack.formula.criterion", "pack.formula.element", "pack.formula.priority")  # wording keys
INTERVALS = ("pack.interval.wilson", "pack.interval.design")


def method_sections(notes: ReportNotes) -> list[tuple[str, list[str]]]:
    """The method note: the counter survey, formulas, intervals, status rules, targets and their sources."""
    words = current()
    targets = [
        words("pack.target_item", value=percent(t["value"], 0), description=t["description"], source=t["source"])
        for t in notes.targets
    ]
    source = [words("pack.disclaimer"), words("pack.period", month=month_label(notes.period))]
    source += [words("pack.questionnaire_item", name=q) for q in notes.questionnaires]
    statuses = [words("pack.status_legend", min_n=notes.min_n), words("pack.grey", min_n=notes.min_n)]
    return [
        (words("pack.section.source"), source),
        (words("pack.section.formulas"), [words(key) for key in FORMULAS]),
        (words("pack.section.intervals"), [words(key) for key in INTERVALS]),
        (words("pack.section.statuses"), statuses),
        (words("pack.section.targets"), targets or [words("pack.no_targets")]),
    ]
