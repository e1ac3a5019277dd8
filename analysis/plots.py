"""Plot helpers of the dashboard's charts: each draws on the ``ax`` it is given, nothing else.

The axes come first, so a notebook can pass its own. Helpers only draw: their rows come from
``analysis.dashboard`` (``chart_data``), and ``analysis.charts`` turns them into files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from analysis.chart_style import (
    INK,
    MAIN,
    MUTED,
    SECOND,
    SEQUENTIAL,
    draw_empty,
    draw_targets,
    legend_above,
    month_label,
    number,
    percent,
    percent_floor,
    wrap,
)
from analysis.dashboard import DEFAULT_MIN_N, heatmap_frame, rank_agencies
from analysis.wording import current

MAX_CELL_VALUES = 1000  # a heatmap writes its values in the cells up to this many cells (50 agencies × 20)
WHISKER = {"capsize": 3, "elinewidth": 1.1, "capthick": 1.1}
INK_SECOND = "#8A5A00"  # the orange line's axis label, darkened to be readable as text


def _errors(rows: pd.DataFrame) -> np.ndarray:
    """Distances from each value down to ci_low and up to ci_high (never negative)."""
    pct = rows["pct_satisfied"].to_numpy(float)
    return np.clip([pct - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - pct], 0, None)


def _few(rows: pd.DataFrame, min_n: int | None) -> np.ndarray:
    """Which rows have fewer answers than min_n (none when min_n is None)."""
    return np.zeros(len(rows), bool) if min_n is None else rows["n"].to_numpy() < min_n


def _month_index(periods: pd.Series) -> np.ndarray:
    """Months as consecutive integers (year × 12 + month), so gaps stay gaps."""
    parts = periods.astype(str).str.split("-", expand=True).astype(int)
    return (parts[0] * 12 + parts[1] - 1).to_numpy()


def plot_trend(ax: Axes, trend: pd.DataFrame, targets=(), min_n: int | None = None) -> None:
    """Draw the overall index per month with its shaded 95 % interval and the target lines."""
    if trend.empty:
        return draw_empty(ax)
    rows = trend.sort_values("period")
    index = _month_index(rows["period"])
    span = np.arange(index.min(), index.max() + 1)
    full = rows.assign(i=index).set_index("i").reindex(span)
    ax.fill_between(span, full["ci_low"], full["ci_high"], color=MAIN, alpha=0.2, lw=0, label=current()("interval"))
    lonely = (
        full["pct_satisfied"].notna() & full["pct_satisfied"].shift(1).isna() & full["pct_satisfied"].shift(-1).isna()
    )
    if lonely.any():  # a month without neighbours has no band to show: draw its interval as a whisker
        alone = full[lonely]
        ax.errorbar(alone.index, alone["pct_satisfied"], yerr=_errors(alone), fmt="none", ecolor=MAIN, **WHISKER)
    ax.plot(span, full["pct_satisfied"], color=MAIN, marker="o", lw=2, label=current()("overall"))
    few = _few(rows, min_n)
    if few.any():
        ax.plot(
            index[few],
            rows["pct_satisfied"][few],
            ls="none",
            marker="o",
            mfc="white",
            mec=MUTED,
            mew=1.5,
            label=current()("too_few", min_n=min_n),
        )
    draw_targets(ax, targets)
    step = max(1, int(np.ceil(len(span) / 12)))
    ticks = span[::step]
    ax.set_xticks(ticks, [month_label(f"{i // 12:04d}-{i % 12 + 1:02d}") for i in ticks])
    ax.set_xlim(span[0] - 0.5, span[-1] + 0.5)
    ax.set_ylim(percent_floor(rows["ci_low"], targets), 100.5)
    ax.set_ylabel(current()("pct_label"))
    ax.grid(axis="y", color="#E5E5E5")
    legend_above(ax)


def _row_labels(ax: Axes, positions, left: list[str], right: list[str], greys) -> None:
    """Label rows at both ends of the axes: annotations are much cheaper than ticks when rows are many."""
    ax.set_yticks([])
    place = {"xycoords": ("axes fraction", "data"), "textcoords": "offset points", "va": "center", "fontsize": 9}
    starts, ends = [], []
    for position, start, end, grey in zip(positions, left, right, greys, strict=True):
        colour = MUTED if grey else INK
        starts.append(ax.annotate(start, (0, position), xytext=(-6, 0), ha="right", color=colour, **place))
        ends.append(ax.annotate(end, (1, position), xytext=(8, 0), ha="left", color=colour, **place))
    _layout_by_widest(starts)
    _layout_by_widest(ends)


def _layout_by_widest(texts, keep: int = 3) -> None:
    """Let only the longest of a column of labels take part in the layout.

    Constrained layout measures every artist it is given; a column of labels only needs the widest to
    size its margin. The few longest by characters stand for it (a proportional font makes the
    character count an estimate, so several are kept), the others are left out of the layout.
    """
    longest = sorted(texts, key=lambda text: max(map(len, text.get_text().split("\n"))), reverse=True)
    for text in longest[keep:]:
        text.set_in_layout(False)


def plot_ranking(
    ax: Axes, overall_rows: pd.DataFrame, targets=(), min_n: int = DEFAULT_MIN_N, *, xmin: float | None = None
) -> None:
    """Draw agencies' overall index with interval whiskers, best first; too-few-answers agencies grey, unranked.

    Rows that already hold a ``rank`` (see ``rank_agencies``) keep it, so a long ranking can be split in pages.
    """
    if overall_rows.empty:
        return draw_empty(ax)
    rows = rank_agencies(overall_rows, min_n)
    few = rows["rank"].isna().to_numpy()
    y = np.arange(len(rows))
    for mask, colour, face, label in (
        (~few, MAIN, MAIN, None),
        (few, MUTED, "white", current()("too_few", min_n=min_n)),
    ):
        if mask.any():
            part, style = rows[mask], {"fmt": "o", "color": colour, "mfc": face, "mec": colour, "ms": 6}
            ax.errorbar(part["pct_satisfied"], y[mask], xerr=_errors(part), label=label, **style, **WHISKER)
    names = [
        wrap(current()("too_few_row", name=name, n=number(n, 0)) if pd.isna(rank) else f"{rank}. {name}", 60, 1)
        for rank, name, n in zip(rows["rank"], rows["agency_name"], rows["n"], strict=True)
    ]
    _row_labels(ax, y, names, [percent(v) for v in rows["pct_satisfied"]], few)
    if few.any() and not few.all():
        ax.axhline(few.argmax() - 0.5, color="#CCCCCC", lw=0.8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    if xmin is None:
        xmin = percent_floor(rows.loc[~few, "ci_low"] if (~few).any() else rows["ci_low"], targets)
    ax.set_xlim(xmin, 100.5)
    draw_targets(ax, targets, vertical=True)
    ax.set_xlabel(current()("ranking_axis"))
    ax.grid(axis="x", color="#E5E5E5")
    legend_above(ax)


def _bar_values(ax: Axes, positions, rows: pd.DataFrame, *, horizontal: bool) -> None:
    """Write each bar's value inside its base, where whiskers and target lines never reach."""
    for position, value in zip(positions, rows["pct_satisfied"], strict=True):
        xy = (2, position) if horizontal else (position, 2)
        ax.annotate(
            percent(value),
            xy,
            ha="left" if horizontal else "center",
            va="center" if horizontal else "bottom",
            color="white",
            fontsize=9,
            fontweight="bold",
            in_layout=False,
        )


def _bars(ax: Axes, rows: pd.DataFrame, labels, targets, min_n, *, horizontal: bool, positions=None) -> None:
    """Draw one bar per row with its interval whisker and value (labels None: the caller labels the rows)."""
    positions = np.arange(len(rows)) if positions is None else np.asarray(positions)
    colours = np.where(_few(rows, min_n), MUTED, MAIN)
    if horizontal:
        ax.barh(positions, rows["pct_satisfied"], color=colours, height=0.7)
        ax.errorbar(rows["pct_satisfied"], positions, xerr=_errors(rows), fmt="none", ecolor="black", **WHISKER)
        if labels is not None:
            ax.set_yticks(positions, labels)
        ax.set_ylim(positions.max() + 0.5, -0.5)
        ax.set_xlim(0, 100.5)
    else:
        ax.bar(positions, rows["pct_satisfied"], color=colours, width=0.65)
        ax.errorbar(positions, rows["pct_satisfied"], yerr=_errors(rows), fmt="none", ecolor="black", **WHISKER)
        ax.set_xticks(positions, labels)
        ax.set_ylim(0, 100.5)
    _bar_values(ax, positions, rows, horizontal=horizontal)
    draw_targets(ax, targets, vertical=horizontal)
    ax.grid(axis="x" if horizontal else "y", color="#E5E5E5")
    if min_n is not None and _few(rows, min_n).any():
        ax.bar([0], [0], color=MUTED, label=current()("too_few", min_n=min_n))
    legend_above(ax)


def plot_elements(ax: Axes, element_rows: pd.DataFrame, targets=(), min_n: int | None = None) -> None:
    """Draw a bar per element (its Vietnamese title) with the interval whisker and the target lines."""
    if element_rows.empty:
        return draw_empty(ax)
    _bars(ax, element_rows, [wrap(t, 18) for t in element_rows["label"]], targets, min_n, horizontal=False)
    ax.set_ylabel(current()("pct_label"))


def _grouped(rows: pd.DataFrame) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Positions of criteria under their element headings (one row per heading), and the headings."""
    if "element_label" not in rows or rows["element_label"].isna().all():
        return np.arange(len(rows)), []
    starts = rows["element_label"].ne(rows["element_label"].shift()).to_numpy()
    positions = np.arange(len(rows)) + np.cumsum(starts)
    return positions, [
        (p - 1, label) for p, label, s in zip(positions, rows["element_label"], starts, strict=True) if s
    ]


def plot_criteria(ax: Axes, criterion_rows: pd.DataFrame, targets=(), min_n: int | None = None) -> None:
    """Draw a horizontal bar per criterion, grouped under bold element titles, with whiskers and targets."""
    if criterion_rows.empty:
        return draw_empty(ax)
    rows = criterion_rows.reset_index(drop=True)
    labels = [wrap(f"{c}  {t}", 58, 1) for c, t in zip(rows["code"], rows["label"], strict=True)]
    positions, headings = _grouped(rows)
    _bars(ax, rows, None, targets, min_n, horizontal=True, positions=positions)
    ax.set_yticks([])
    place = {"xycoords": ("axes fraction", "data"), "xytext": (-6, 0), "textcoords": "offset points", "ha": "right"}
    texts = [  # annotations: far cheaper than 24 ticks
        ax.annotate(label, (0, position), va="center", fontsize=9, **place)
        for position, label in zip(positions, labels, strict=True)
    ]
    texts += [
        ax.annotate(str(title), (0, position), va="center", fontsize=9, fontweight="bold", **place)
        for position, title in headings
    ]
    _layout_by_widest(texts)
    ax.set_xlabel(current()("pct_label"))


def plot_heatmap(
    ax: Axes, criterion_rows: pd.DataFrame, min_n: int = DEFAULT_MIN_N, *, vmin: float | None = None
) -> None:
    """Colour agencies × criteria by share satisfied (cividis), values in the cells, too-few cells hatched."""
    if criterion_rows.empty:
        return draw_empty(ax)
    values = heatmap_frame(criterion_rows, min_n)
    answered = heatmap_frame(criterion_rows.assign(n=min_n), min_n).notna()  # any answers at all
    shown = np.ma.masked_invalid(values.to_numpy(float))
    low = vmin if vmin is not None else heatmap_floor(shown)
    # Three layers, each one object in every format (cell by cell, a vector file draws a path per cell):
    # one hatched rectangle, an image painting the cells without any answer blank over it, and an image
    # colouring the cells with enough answers. White lines draw the grid.
    extent = {"extent": (0, values.shape[1], values.shape[0], 0), "aspect": "auto", "interpolation": "none"}
    hatched = Rectangle((0, 0), values.shape[1], values.shape[0], facecolor="#F2F2F2", hatch="///", lw=0, zorder=-1)
    ax.add_patch(hatched)
    blank = np.ma.masked_where(answered.to_numpy(), np.ones(values.shape))
    ax.imshow(blank, cmap=ListedColormap(["white"]), **extent)
    mesh = ax.imshow(shown, cmap=SEQUENTIAL, vmin=low, vmax=100, **extent)
    ax.hlines(np.arange(values.shape[0] + 1), 0, values.shape[1], colors="white", linewidth=0.5)
    ax.vlines(np.arange(values.shape[1] + 1), 0, values.shape[0], colors="white", linewidth=0.5)
    ax.set_xlim(0, values.shape[1])  # fixed limits first: otherwise every text added re-runs autoscaling
    ax.set_ylim(values.shape[0], 0)
    small = values.shape[1] > 12 or values.shape[0] > 40
    if values.size <= MAX_CELL_VALUES:  # beyond, the numbers are unreadable and slow: the table beside has them
        _cell_values(ax, values.to_numpy(float), mesh.get_cmap()(mesh.norm(shown)), 8)
    ax.set_xticks([])  # rows and columns are labelled by annotations: far cheaper than ticks
    ax.set_yticks([])
    rows = [
        ax.annotate(
            wrap(agency, 40, 1),
            (0, i + 0.5),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=9,
        )
        for i, agency in enumerate(values.index)
    ]
    columns = [
        ax.annotate(
            str(code),
            (j + 0.5, 1),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            rotation=90 if small else 0,
        )
        for j, code in enumerate(values.columns)
    ]
    _layout_by_widest(rows)
    _layout_by_widest(columns)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(current()("heatmap_axis", min_n=min_n), fontsize=8)
    ax.figure.colorbar(
        mesh, ax=ax, label=current()("pct_label"), shrink=min(1.0, 12 / max(values.shape[0], 1)), aspect=25
    )


def _cell_values(ax: Axes, values: np.ndarray, colours: np.ndarray, size: float) -> None:
    """Write each cell's value, black on light colours and white on dark ones."""
    light = colours[..., :3] @ np.array([0.299, 0.587, 0.114]) > 0.5
    for (i, j), value in np.ndenumerate(values):
        if not np.isnan(value):
            # in_layout=False: texts inside the axes need no place in the layout, which saves much time
            ax.text(
                j + 0.5,
                i + 0.5,
                number(value, 0),
                ha="center",
                va="center",
                fontsize=size,
                color="black" if light[i, j] else "white",
                in_layout=False,
            )


def heatmap_floor(values) -> float:
    """The heatmap's lowest colour: a multiple of 5 below every value, at most 80, so colours spread."""
    values = np.ma.masked_invalid(np.asarray(values, dtype=float))
    return float(min(80.0, 5 * np.floor(values.min() / 5))) if values.count() else 0.0


def plot_priorities(ax: Axes, priority_rows: pd.DataFrame) -> None:
    """Draw improvement priorities as horizontal bars ranked by the share answering Nhiều or Rất nhiều."""
    if priority_rows.empty:
        return draw_empty(ax)
    rows = priority_rows.sort_values("pct_satisfied", ascending=False, kind="stable").reset_index(drop=True)
    _bars(ax, rows, [wrap(t, 45) for t in rows["label"]], (), None, horizontal=True)
    ax.set_xlabel(current()("priorities_axis"))


def plot_volume(ax: Axes, volume: pd.DataFrame) -> None:
    """Draw responses per month as bars and, when one-time links were issued, the response rate as a line."""
    if volume.empty or volume["responses"].sum() == 0:
        return draw_empty(ax)
    x = np.arange(len(volume))
    handles = [ax.bar(x, volume["responses"], color=MAIN, width=0.65, label=current()("responses"))]
    for position, count in zip(x, volume["responses"], strict=True):
        ax.annotate(
            number(count, 0),
            (position, count),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            in_layout=False,
        )
    ax.set_xticks(x, [month_label(p) for p in volume["period"]])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: number(value, 0)))
    ax.set_ylabel(current()("responses"))
    ax.set_ylim(0, volume["responses"].max() * 1.12)
    rate = volume["response_rate"].astype(float) if "response_rate" in volume else pd.Series(dtype=float)
    if rate.notna().any():
        twin = ax.twinx()
        handles += twin.plot(x, rate, color=SECOND, marker="s", lw=2, label=current()("rate_legend"))
        twin.set_ylim(0, max(100, rate.max() * 1.1))
        twin.set_ylabel(current()("rate_axis"), color=INK_SECOND)
        twin.spines["right"].set_visible(True)
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1, 1.01), ncols=2, frameon=False)
