"""The dashboard's charts as files: ``render_chart(name, data, fmt)`` → png, svg or pdf bytes.

A chart is a ``Figure`` built without pyplot, in the house style (``analysis.chart_style``), drawn by
the plot helper of its name (``analysis.plots``) from the data ``chart_data`` prepares
(``analysis.dashboard``); ``chart_table`` gives the accessible table shown beside it.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from analysis.chart_style import FOOTER, figure_bytes, finish_figure, house_style, new_figure, percent_floor
from analysis.chart_text import chart_alt, chart_title, headline
from analysis.dashboard import DEFAULT_MIN_N, chart_data, chart_table, chart_title_of, heatmap_frame
from analysis.plots import (
    heatmap_floor,
    plot_criteria,
    plot_elements,
    plot_heatmap,
    plot_priorities,
    plot_ranking,
    plot_trend,
    plot_volume,
)
from analysis.wording import Wording, using

__all__ = [
    "CHART_NAMES",
    "FORMATS",
    "MEDIA_TYPES",
    "chart_alt",
    "chart_data",
    "chart_figure",
    "chart_table",
    "chart_title",
    "figure_size",
    "headline",
    "pixel_size",
    "plot_criteria",
    "plot_elements",
    "plot_heatmap",
    "plot_priorities",
    "plot_ranking",
    "plot_trend",
    "plot_volume",
    "render_chart",
    "split_chart",
]
CHART_NAMES = ("trend", "volume", "ranking", "elements", "criteria", "heatmap", "priorities")
FORMATS = ("png", "svg", "pdf")
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
PLOTTERS = {
    "trend": (plot_trend, ("trend", "targets", "min_n")),
    "volume": (plot_volume, ("volume",)),
    "ranking": (plot_ranking, ("overall_rows", "targets", "min_n", "xmin")),
    "elements": (plot_elements, ("element_rows", "targets", "min_n")),
    "criteria": (plot_criteria, ("criterion_rows", "targets", "min_n")),
    "heatmap": (plot_heatmap, ("criterion_rows", "min_n", "vmin")),
    "priorities": (plot_priorities, ("priority_rows",)),
}


def _rows(name: str, data: dict) -> pd.DataFrame:
    """The frame a chart draws (an empty one when missing)."""
    frame = data.get(PLOTTERS[name][1][0])
    return frame if frame is not None else pd.DataFrame()


def figure_size(name: str, data: dict) -> tuple[float, float]:
    """Size a chart for its content: taller with more agencies, criteria or priorities."""
    count = len(_rows(name, data))
    if name == "heatmap" and count:
        shape = heatmap_frame(_rows(name, data), data.get("min_n", DEFAULT_MIN_N)).shape
        return (min(16.0, max(7.0, 3.5 + 0.42 * shape[1])), min(40.0, max(3.5, 1.9 + 0.3 * shape[0])))
    per_row = {"ranking": 0.32, "criteria": 0.3, "priorities": 0.42}
    if name in per_row and count:
        return (9.0, min(40.0, max(3.5, 1.7 + per_row[name] * count)))
    return (9.0, 4.8)


def chart_figure(
    name: str, data: dict, *, title: str | None = None, figsize=None, left: float = 0.01, footer: str | None = FOOTER
) -> Figure:
    """Build a chart's Figure (call inside house_style() to get the house look); title and footer from ``left``."""
    if name not in PLOTTERS:
        raise ValueError(f"unknown chart {name!r}; known: {', '.join(CHART_NAMES)}")
    plotter, parameters = PLOTTERS[name]
    fig = new_figure(figsize or figure_size(name, data))
    arguments = {p: data[p] for p in parameters[1:] if data.get(p) is not None}
    plotter(fig.add_subplot(), _rows(name, data), **arguments)
    finish_figure(fig, title or data.get("title") or chart_title_of(name), footer=footer, left=left)
    return fig


def split_chart(name: str, data: dict, per_page: int = 30) -> list[dict]:
    """Split a long ranking or heatmap into parts of per_page agencies sharing one scale, titled (1/3)…"""
    key = {"ranking": "overall_rows", "heatmap": "criterion_rows"}.get(name)
    rows = data.get(key) if key else None
    codes = list(dict.fromkeys(rows["agency_code"])) if rows is not None and not rows.empty else []
    if len(codes) <= per_page:
        return [data]
    if name == "ranking":
        ranked = rows[rows["rank"].notna()] if rows["rank"].notna().any() else rows
        scale = {"xmin": percent_floor(ranked["ci_low"], data.get("targets", ()))}
    else:
        scale = {"vmin": heatmap_floor(rows["pct_satisfied"].where(rows["n"] >= data.get("min_n", DEFAULT_MIN_N)))}
    groups = [codes[i : i + per_page] for i in range(0, len(codes), per_page)]
    title = data.get("title") or chart_title_of(name)
    return [
        {**data, **scale, key: rows[rows["agency_code"].isin(group)], "title": f"{title} ({k}/{len(groups)})"}
        for k, group in enumerate(groups, start=1)
    ]


def render_chart(
    name: str,
    data: dict,
    fmt: str,
    *,
    title: str | None = None,
    footer: str | None = None,
    wording: Wording | None = None,
) -> bytes:
    """Render a chart (see CHART_NAMES) as png, svg or pdf bytes, titled, with the source footer.

    wording: the words and number formats to draw with (analysis.wording; the current one when None).
    """
    if name not in PLOTTERS:
        raise ValueError(f"unknown chart {name!r}; known: {', '.join(CHART_NAMES)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    with using(wording) as words, house_style():
        title = title or data.get("title") or chart_title_of(name)
        figure = chart_figure(name, data, title=title, footer=footer or words("footer"))
        return figure_bytes(figure, fmt, title)


def pixel_size(name: str, data: dict) -> tuple[int, int]:
    """The width and height of a chart's PNG in pixels: shown at this size, its smallest text is 12 px."""
    from analysis.chart_style import RC

    width, height = figure_size(name, data)
    return round(width * RC["savefig.dpi"]), round(height * RC["savefig.dpi"])
