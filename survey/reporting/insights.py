"""What the dashboard shows: a selection's figures sliced from the shared month snapshots
(survey.reporting.snapshot), or computed directly from the database (the command line's packs and
the tests that compare the two)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.hierarchy import ALL, hierarchy_order
from analysis.periods import parse_month, previous_month
from survey.domain import catalog
from survey.models import Agency
from survey.reporting import frames, snapshot
from survey.reporting.monthly import monthly_report

TREND_MONTHS = 12


@dataclass(frozen=True)
class Selection:
    """The month, questionnaire and agency block a page, chart or pack is about (agency None: ALL)."""

    month: str
    questionnaire: str
    agency: str | None

    def query(self) -> dict:
        return {"month": self.month, "questionnaire": self.questionnaire, "agency": self.agency or "ALL"}


class SelectionError(ValueError):
    """A parameter that names nothing the user may see."""


def trend_months(month: str) -> list[str]:
    months = [month]
    while len(months) < TREND_MONTHS:
        months.append(previous_month(months[-1]))
    return months[::-1]


def current_month() -> str:
    """This month in the office's time zone: its figures are partial until it ends."""
    return pd.Timestamp.now(tz=current_app.config["TIMEZONE"]).strftime("%Y-%m")


def default_month(session: Session) -> str:
    """The last complete month with responses (this month only when no earlier one has any)."""
    months, this = frames.months_with_responses(session), current_month()
    complete = [m for m in months if m < this]
    return complete[0] if complete else (months[0] if months else this)


def month_choices(month: str) -> list[str]:
    """The months a page offers, newest first: the year up to this month, and the one shown."""
    return sorted(set(trend_months(current_month())) | {month}, reverse=True)


def selection(session: Session, args, visible: set[str] | None, root: str | None) -> Selection:
    """Read month, questionnaire and agency from request arguments, within what the user may see."""
    try:
        month = parse_month(args.get("month") or default_month(session))
    except ValueError as exc:
        raise SelectionError(str(exc)) from None
    questionnaire = args.get("questionnaire") or current_app.config["DEFAULT_QUESTIONNAIRE"]
    if catalog.current().get(questionnaire) is None:
        raise SelectionError(f"unknown questionnaire {questionnaire!r}")
    agency = args.get("agency") or root
    if agency == "ALL":
        agency = None
    if agency is None and visible is not None:
        raise SelectionError("outside your agencies")
    if agency is not None:
        if visible is not None and agency not in visible:
            raise SelectionError("outside your agencies")
        if session.scalar(select(Agency.id).where(Agency.code == agency)) is None:
            raise SelectionError(f"no agency {agency!r}")
    return Selection(month, questionnaire, agency)


def direct_figures(session: Session, sel: Selection) -> dict:
    """The month's table for the block and its subtree, the block's 12-month trend and volumes.

    The year's rollups, agencies, targets and interactions are read once and serve all three.
    """
    from analysis.trend import trend_table, volume_table

    months = trend_months(sel.month)
    inputs = frames.Inputs.read(session, months, current_app.config["TIMEZONE"], sel.questionnaire, agency=sel.agency)
    table = monthly_report(session, sel.month, questionnaire=sel.questionnaire, agency=sel.agency, inputs=inputs)
    trend = trend_table(inputs.counts, inputs.scores, catalog.current(), inputs.agencies, inputs.targets, months,
                        questionnaire=sel.questionnaire, agency=sel.agency)  # fmt: skip
    volume = volume_table(inputs.scores, months, agencies=inputs.agencies, agency=sel.agency,
                          questionnaire=sel.questionnaire, interactions=inputs.interactions)  # fmt: skip
    names = dict(zip(inputs.agencies["code"], inputs.agencies["name"], strict=True))
    return {
        "table": table,
        "trend": trend,
        "targets": inputs.targets,
        "agencies": inputs.agencies,
        "volume": volume,
        "agency_name": agency_label(names, sel.agency),
    }


def chart_data(name: str, figures: dict, sel: Selection) -> dict:
    """What one chart of the selection draws (analysis.charts.chart_data with the selection's context)."""
    from analysis import charts

    return charts.chart_data(
        name,
        figures["table"],
        figures["trend"],
        figures["targets"],
        agencies=figures["agencies"],
        agency=sel.agency,
        agency_name=figures["agency_name"],
        questionnaire=sel.questionnaire,
        catalog=catalog.current(),
        volume=figures["volume"],
    )


def agency_choices(session: Session, visible: set[str] | None) -> list[tuple[str, str, int]]:
    """(code, name, depth) of the agencies a user may pick, parents before children."""
    agencies = frames.agencies_frame(session)
    names = dict(zip(agencies["code"], agencies["name"], strict=True))
    parents = dict(zip(agencies["code"], agencies["parent_code"], strict=True))
    order = hierarchy_order(agencies)
    shown = [c for c in order if visible is None or c in visible]

    def depth(code: str) -> int:
        d = 0
        while parents.get(code) and (visible is None or parents[code] in visible):
            code, d = parents[code], d + 1
        return d

    return [(c, names[c], depth(c)) for c in shown]


def agency_label(names: dict[str, str], code: str | None) -> str:
    """How the report names a block: the agency's name, or every agency."""
    return "Tất cả cơ quan" if code is None else names.get(code, code)


def agency_name(session: Session, code: str | None) -> str:
    name = session.scalar(select(Agency.name).where(Agency.code == code)) if code is not None else None
    return agency_label({code: name} if name else {}, code)


def report_pack(
    session: Session,
    sel: Selection,
    fmt: str,
    figures: dict | None = None,
    *,
    as_of: str = "",
    progress=None,
    locale: str = "vi",
) -> bytes:
    """The monthly report pack of a selection: a PDF, or the workbook with the same tables (in the current wording).

    as_of: the sentence saying when the figures were taken; progress(done, total): called per PDF page;
    locale: the language of the questionnaire's texts (the pack's own words come from the current wording).
    """
    from dataclasses import replace

    from analysis import output, reportpack
    from analysis.wording import current

    figures = figures if figures is not None else direct_figures(session, sel)
    figures = in_language(figures, sel, locale, current()("all_agencies"))
    notes = output.report_notes(figures["table"], catalog.current(), figures["targets"], sel.month)
    notes = replace(notes, as_of=as_of)
    if fmt == "pdf":
        return reportpack.build_report_pdf(
            figures["table"],
            figures["trend"],
            notes,
            agency_name=figures["agency_name"],
            month=sel.month,
            agencies=figures["agencies"],
            catalog=catalog.current(),
            volume=figures["volume"],
            progress=progress,
        )
    return reportpack.build_report_xlsx(figures["table"], figures["trend"], notes, volume=figures["volume"])


def overview(figures: dict, sel: Selection) -> tuple[dict | None, pd.DataFrame, list[str]]:
    """The block's overall row, the overall rows of the agencies below it, and the status columns."""
    table = figures["table"]
    overall = table[(table["level"] == "overall") & (table["service_code"] == "ALL")]
    block = sel.agency or "ALL"
    mine = overall[overall["agency_code"] == block]
    headline = mine.iloc[0].to_dict() if len(mine) else None
    statuses = [c for c in table.columns if c.startswith("status_")]
    return headline, overall[overall["agency_code"] != block], statuses


def in_language(figures: dict, sel: Selection, locale: str, all_agencies: str) -> dict:
    """The figures with the questionnaire's element, criterion and priority texts in the locale (vi: as they are)."""
    if locale == "vi":
        return figures
    definition = catalog.current().get(sel.questionnaire)
    if definition is None:
        return figures
    texts = {("element", e.code): e.title.get(locale) for e in definition.elements}
    texts |= {(i.kind, i.code): i.text.get(locale) for i in (*definition.criteria, *definition.priorities)}
    table = figures["table"]
    keys = pd.Series(list(zip(table["level"], table["code"], strict=True)), index=table.index, dtype=object)
    label = keys.map(texts).fillna(table["label"]) if len(table) else table["label"]
    names = table["agency_name"].where(table["agency_code"] != ALL, all_agencies)
    name = all_agencies if sel.agency is None else figures["agency_name"]
    return {**figures, "table": table.assign(label=label, agency_name=names), "agency_name": name}


def tiles(figures: dict, sel: Selection) -> list[dict]:
    """The block's overall row then its element rows, each a dict: the headline tiles of a page."""
    table = figures["table"]
    block = sel.agency or ALL
    mine = table[(table["agency_code"] == block) & (table["service_code"] == ALL)]
    rows = pd.concat([mine[mine["level"] == "overall"], mine[mine["level"] == "element"]])
    return rows.to_dict("records")


def display_table(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """A frame as header and rows of text for an HTML table (blank for missing values)."""
    shown = frame.astype(object).where(frame.notna(), "")
    return [str(c) for c in frame.columns], [[str(v) for v in row] for row in shown.itertuples(index=False)]


# --- the figures of a selection, sliced from the shared month snapshots (survey.reporting.snapshot) ----


def shared_heads(session: Session, sel: Selection) -> dict[str, snapshot.Head]:
    """The snapshot heads of the selection's months (a year ending with its month), fresh enough."""
    return snapshot.current_heads(session, trend_months(sel.month))


def _shown_blocks(month: snapshot.Month, agencies: pd.DataFrame, focus: str) -> list[str]:
    """The focus and the blocks its charts compare: its children, going down while only one has data
    (analysis.dashboard.child_blocks decides among them; this fetches what it may pick)."""
    parents = dict(zip(agencies["code"], agencies["parent_code"], strict=True))
    below: dict[str | None, list[str]] = {}
    for code, parent in parents.items():
        below.setdefault(parent, []).append(code)
    shown, current = [focus], None if focus == ALL else focus
    while True:
        level = below.get(current, [])
        present = [c for c, part in month.blocks(level).items() if part["rows"]]
        shown += level
        if len(present) != 1 or not below.get(present[0]):
            return shown
        current = present[0]


_assembled = snapshot.Kept(64)  # the worker's assembled figures, by snapshot version and selection


def shared_figures(session: Session, sel: Selection, found: dict | None = None, *, whole: bool = False) -> dict:
    """What direct_figures computes, sliced from the month snapshots, with when they were taken.

    whole: the table holds every block of the subtree (report packs); otherwise the focus and the
    blocks its charts compare (pages, charts).
    """
    found = shared_heads(session, sel) if found is None else found
    version = snapshot.version(found)
    return _assembled.get((version, sel, whole), lambda: _slice(sel, found, version, whole))


def _slice(sel: Selection, found: dict, version: str, whole: bool) -> dict:
    months = trend_months(sel.month)
    head = found[sel.month]
    month = snapshot.Month(head)
    agencies, focus = month.agencies(), sel.agency or ALL
    blocks = None if whole else _shown_blocks(month, agencies, focus)
    table = snapshot.month_table(month, sel.agency, sel.questionnaire, blocks)
    trend, volume = snapshot.trend_and_volume(found, months, focus, sel.questionnaire)
    names = dict(zip(agencies["code"], agencies["name"], strict=True))
    return {
        "table": table,
        "trend": trend,
        "targets": month.targets(),
        "agencies": agencies,
        "volume": volume,
        "agency_name": agency_label(names, sel.agency),
        "taken_at": head.taken_at,
        "version": version,
    }
