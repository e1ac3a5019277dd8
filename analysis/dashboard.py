"""What the dashboard shows, as plain data: the headline, each chart's rows and its accessible table.

The input is the monthly table (``analysis.indices.monthly_table``) of one questionnaire for the
selected agency block and the blocks below it; the first block in the table is the one in focus.
Agencies with fewer than ``min_n`` responses are listed but never ranked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.chart_style import month_label, status_label, target_label, target_list
from analysis.hierarchy import ALL
from analysis.targets import targets_in_force
from analysis.wording import VI
from analysis.wording import current as current_wording
from questionnaires import Catalog

DEFAULT_MIN_N = 30
NAMES = ("trend", "volume", "ranking", "elements", "criteria", "heatmap", "priorities")
TITLES = {name: VI[f"title.{name}"] for name in NAMES}  # the Vietnamese ones; chart_title: in the current wording


def chart_title_of(name: str) -> str:
    """A chart's generic title in the current wording."""
    return current_wording()(f"title.{name}") if name in TITLES else name


def first_pool(table: pd.DataFrame, questionnaire: str | None = None) -> pd.DataFrame:
    """Keep the rows of one questionnaire pool (service ALL): the given questionnaire's first, or the first."""
    rows = table[table["service_code"] == ALL]
    if questionnaire is not None:
        rows = rows[rows["questionnaire"] == questionnaire]
    if rows.empty:
        return rows
    first = rows.iloc[0]
    return rows[(rows["questionnaire"] == first["questionnaire"]) & (rows["version"] == first["version"])]


def child_blocks(rows: pd.DataFrame, focus: str, agencies: pd.DataFrame | None) -> list[str]:
    """The blocks to rank below the focus: its children, going down while there is only one of them.

    Without an agency list every block but ALL and the focus is ranked (right for a flat list of agencies).
    """
    present = list(dict.fromkeys(rows["agency_code"]))
    if agencies is None:
        return [c for c in present if c not in (ALL, focus)]
    parents = dict(zip(agencies["code"].astype(str), agencies["parent_code"], strict=True))
    parent_of = {c: (None if pd.isna(parents.get(c)) else parents.get(c)) for c in present if c != ALL}
    current = None if focus == ALL else focus
    children = [c for c, p in parent_of.items() if p == current]
    while len(children) == 1 and any(p == children[0] for p in parent_of.values()):
        current = children[0]
        children = [c for c, p in parent_of.items() if p == current]
    return children


def rank_agencies(overall_rows: pd.DataFrame, min_n: int = DEFAULT_MIN_N) -> pd.DataFrame:
    """Sort agencies by overall index (too-few-answers agencies last, by name) and number the ranked ones."""
    if "rank" in overall_rows:
        return overall_rows
    enough = overall_rows["n"] >= min_n
    ranked = overall_rows[enough].sort_values(["pct_satisfied", "agency_name"], ascending=[False, True])
    few = overall_rows[~enough].sort_values("agency_name")
    rank = pd.array(list(range(1, len(ranked) + 1)) + [pd.NA] * len(few), dtype="Int64")
    return pd.concat([ranked, few]).assign(rank=rank).reset_index(drop=True)


def in_force(targets, month: str | None) -> list[tuple[str, float]]:
    """The targets as (code, value): those in force in the month when given a targets frame."""
    if isinstance(targets, pd.DataFrame) and "period_start" in targets and month:
        targets = targets_in_force(targets, month)
    return target_list(targets)


def _criterion_elements(catalog: Catalog | None, rows: pd.DataFrame, elements: list[str]) -> dict[str, str]:
    """Map each criterion code to its element: from the pool's definition, else the element code it starts with."""
    definition = None
    if catalog is not None and not rows.empty:
        version = max(int(v) for v in str(rows["version"].iloc[0]).split("+"))
        definition = catalog.get(rows["questionnaire"].iloc[0], version)
    if definition is not None:
        return {c.code: c.element for c in definition.criteria}
    by_length = sorted(elements, key=len, reverse=True)
    return {code: next((e for e in by_length if code.startswith(e)), None) for code in rows["code"]}


def _level(rows: pd.DataFrame, level: str, blocks: list[str]) -> pd.DataFrame:
    """Rows of one level for the given blocks, in the order of the blocks."""
    kept = rows[(rows["level"] == level) & rows["agency_code"].isin(blocks)]
    order = {code: i for i, code in enumerate(blocks)}
    return kept.sort_values("agency_code", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def focus_context(table, trend, agency, agency_name, questionnaire) -> tuple[pd.DataFrame, str, str, str | None]:
    """The pool's rows, the focus block's code and name, and the month."""
    rows = first_pool(table, questionnaire)
    focus = agency or (rows["agency_code"].iloc[0] if not rows.empty else ALL)
    names = dict(zip(rows["agency_code"], rows["agency_name"], strict=True))
    name = agency_name or names.get(focus) or (current_wording()("all_agencies") if focus == ALL else focus)
    month = rows["period"].iloc[0] if not rows.empty else None
    if month is None and trend is not None and not trend.empty:
        month = str(trend["period"].iloc[-1])
    return rows, focus, name, month


def _series(name: str, view: dict) -> dict:
    """Trend or volume: the month-by-month frame of the focus block."""
    frame = view[name] if view[name] is not None else pd.DataFrame(columns=["period"])
    extra = {"targets": view["targets"], "min_n": view["min_n"]} if name == "trend" else {}
    return {"title": f"{chart_title_of(name)} — {view['name']}", name: frame, **extra}


def _across(name: str, view: dict) -> dict:
    """Ranking or heatmap: the blocks below the focus, best first, too-few-answers blocks last."""
    ranked = rank_agencies(_level(view["rows"], "overall", view["children"]), view["min_n"])
    title = f"{chart_title_of(name)}{view['of']}{view['in_month']}"
    if name == "ranking":
        return {"title": title, "overall_rows": ranked, "targets": view["targets"], "min_n": view["min_n"]}
    criteria = _level(view["rows"], "criterion", list(ranked["agency_code"]))
    return {"title": title, "criterion_rows": criteria, "min_n": view["min_n"]}


def _within_focus(name: str, view: dict) -> dict:
    """Elements, criteria or priorities of the focus block."""
    title = f"{chart_title_of(name)} — {view['name']}{view['in_month']}"
    level = {"elements": "element", "criteria": "criterion", "priorities": "priority"}[name]
    rows = _level(view["rows"], level, [view["focus"]])
    if name == "priorities":
        return {"title": title, "priority_rows": rows}
    if name == "criteria":
        elements = _level(view["rows"], "element", [view["focus"]])
        element_of = rows["code"].map(_criterion_elements(view["catalog"], rows, list(elements["code"])))
        titles = dict(zip(elements["code"], elements["label"], strict=True))
        rows = rows.assign(element=element_of, element_label=element_of.map(titles))
    key = "element_rows" if name == "elements" else "criterion_rows"
    return {"title": title, key: rows, "targets": view["targets"], "min_n": view["min_n"]}


BUILDERS = {
    "trend": _series,
    "volume": _series,
    "ranking": _across,
    "heatmap": _across,
    "elements": _within_focus,
    "criteria": _within_focus,
    "priorities": _within_focus,
}


def chart_data(
    name: str,
    table: pd.DataFrame,
    trend: pd.DataFrame | None = None,
    targets=None,
    *,
    agencies: pd.DataFrame | None = None,
    agency: str | None = None,
    agency_name: str | None = None,
    questionnaire: str | None = None,
    min_n: int = DEFAULT_MIN_N,
    catalog: Catalog | None = None,
    volume: pd.DataFrame | None = None,
) -> dict:
    """Prepare what one chart draws (its plot helper's arguments by name) and its default title."""
    if name not in BUILDERS:
        raise ValueError(f"unknown chart {name!r}; known: {', '.join(BUILDERS)}")
    rows, focus, focus_name, month = focus_context(table, trend, agency, agency_name, questionnaire)
    children = child_blocks(rows, focus, agencies) if name in ("ranking", "heatmap") else []
    view = {
        "rows": rows,
        "focus": focus,
        "name": focus_name,
        "children": children,
        "of": "" if focus == ALL else f" — {focus_name}",
        "in_month": current_wording()("in_month", month=month_label(month)) if month else "",
        "targets": in_force(targets, month),
        "min_n": min_n,
        "catalog": catalog,
        "trend": trend,
        "volume": volume,
    }
    return BUILDERS[name](name, view)


def _status_headers(frame: pd.DataFrame, targets) -> dict[str, str]:
    """Name each status column after its target: Mục tiêu 86 %."""
    values = dict(target_list(targets))
    return {
        c: target_label(values[c[7:]]) if c[7:] in values else current_wording()("target", value=c[7:])
        for c in frame.columns
        if c.startswith("status_")
    }


FIGURES = {"pct_satisfied": "col.pct", "ci_low": "col.low", "ci_high": "col.high"}
ANSWERS = {"code": "col.code", "label": "col.text", "n": "col.answers"}
TABLES = {  # chart: (its rows in the data, displayed columns (keys of their words), whether target statuses follow)
    "trend": ("trend", {"period": "col.month", "n": "col.responses", **FIGURES}, True),
    "volume": (
        "volume",
        {
            "period": "col.month",
            "responses": "col.responses",
            "issued": "col.issued",
            "used": "col.used",
            "response_rate": "col.rate",
        },
        False,
    ),
    "ranking": (
        "overall_rows",
        {"rank": "col.rank", "agency_name": "col.agency", "n": "col.responses", **FIGURES},
        True,
    ),
    "elements": ("element_rows", {"code": "col.code", "label": "col.element", "n": "col.responses", **FIGURES}, True),
    "criteria": ("criterion_rows", {"element_label": "col.element", **ANSWERS, **FIGURES}, True),
    "priorities": ("priority_rows", {"rank": "col.order", **ANSWERS, **FIGURES, "pct_satisfied": "col.chosen"}, False),
}


def _ordered(name: str, frame: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Put a chart's rows in the order it draws them: months as 10/2026, agencies and priorities ranked."""
    if name in ("trend", "volume"):
        return frame.assign(period=frame["period"].map(month_label))
    if name == "ranking":
        return rank_agencies(frame, min_n)
    if name == "priorities":
        ranked = frame.sort_values("pct_satisfied", ascending=False, kind="stable")
        return ranked.assign(rank=range(1, len(ranked) + 1))
    return frame


def chart_table(name: str, data: dict) -> pd.DataFrame:
    """Give the accessible data table shown beside a chart (headers and statuses in the current wording)."""
    min_n = data.get("min_n", DEFAULT_MIN_N)
    if name == "heatmap":
        return heatmap_frame(data.get("criterion_rows", pd.DataFrame()), min_n).reset_index(
            names=current_wording()("col.agency")
        )
    if name not in TABLES:
        raise ValueError(f"unknown chart {name!r}; known: {', '.join([*TABLES, 'heatmap'])}")
    key, keys, with_status = TABLES[name]
    words = current_wording()
    columns = {column: words(k) for column, k in keys.items()}
    frame = data.get(key)
    if frame is None or frame.empty:
        return pd.DataFrame(columns=list(columns.values()))
    frame = _ordered(name, frame, min_n)
    status = _status_headers(frame, data.get("targets", ())) if with_status else {}
    out = frame.reindex(columns=[*columns, *status]).rename(columns={**columns, **status})
    return out.assign(**{h: out[h].map(status_label) for h in status.values()}).reset_index(drop=True)


def heatmap_frame(criterion_rows: pd.DataFrame, min_n: int = DEFAULT_MIN_N) -> pd.DataFrame:
    """Pivot criterion rows to agencies × criteria of pct_satisfied; blank where n < min_n."""
    if criterion_rows.empty:
        return pd.DataFrame()
    values = criterion_rows["pct_satisfied"].where(criterion_rows["n"] >= min_n).to_numpy(dtype=float)
    agencies = pd.Index(list(dict.fromkeys(criterion_rows["agency_name"])))
    codes = pd.Index(list(dict.fromkeys(criterion_rows["code"])))
    grid = np.full((len(agencies), len(codes)), np.nan)
    grid[agencies.get_indexer(criterion_rows["agency_name"]), codes.get_indexer(criterion_rows["code"])] = values
    return pd.DataFrame(grid, index=agencies, columns=codes)
