"""The house style of every chart and report page: colours, font, footer, wording and number formats.

Colours are the Okabe–Ito palette (distinguishable with every common colour-vision deficiency) and
the sequential map is 'cividis'. Text is DejaVu Sans, which ships with matplotlib and has every
Vietnamese diacritic. Every figure says where its figures come from: the counter survey, not SIPAS.
"""

from __future__ import annotations

import math
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

import matplotlib as mpl
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure, FigureBase

from analysis.wording import VI, current, vi_number, vi_percent  # noqa: F401 (vi_*: the report pack's)

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
MAIN = OKABE_ITO["blue"]
SECOND = OKABE_ITO["orange"]
MUTED = "#8C8C8C"  # too few answers: shown, never ranked
INK = "#333333"
TARGET_LINES = (("--", OKABE_ITO["vermillion"]), ("-.", OKABE_ITO["purple"]), (":", OKABE_ITO["black"]))
SEQUENTIAL = "cividis"
FONT = "DejaVu Sans"
FOOTER = VI["footer"]
NO_DATA = VI["no_data"]
PCT_LABEL = VI["pct_label"]
STATUS_LABELS = {code: VI[f"status.{code}"] for code in ("met", "not_met", "inconclusive", "insufficient")}
# Names come from data and are drawn as typed: "Phường $x^2$" is not mathtext, nor TeX. Text objects
# (titles, tick labels, legends, annotations, table cells) take this when created.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}
RC = {
    **LITERAL_TEXT,
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(OKABE_ITO.values())[1:]),
    "hatch.color": "#B0B0B0",
    "svg.fonttype": "none",  # text stays text: searchable, selectable, read by screen readers
    "svg.hashsalt": "khao-sat-tai-quay",
    "pdf.fonttype": 3,  # the subset keeps a ToUnicode map, and saves several times faster than Type 42
    "savefig.dpi": 110,
    "text.hinting": "no_hinting",  # most of a chart's time is drawing glyphs; unhinted is ~25 % faster, as legible
}
_LOCK = threading.RLock()  # rcParams are global: one figure is styled and saved at a time


@contextmanager
def house_style(**overrides) -> Iterator[None]:
    """Apply the house rcParams (plus overrides) while a figure is built and saved."""
    with _LOCK, mpl.rc_context({**RC, **overrides}):
        yield


@contextmanager
def literal_text() -> Iterator[None]:
    """Draw every text as typed while a figure outside the house style is built and saved."""
    with _LOCK, mpl.rc_context(LITERAL_TEXT):
        yield


def number(value, decimals: int = 1) -> str:
    """Write a number as the current wording does (Vietnamese: 1.234,5); blank for a missing value."""
    return "" if value is None or pd.isna(value) else current().number(value, decimals)


def percent(value, decimals: int = 1) -> str:
    """Write a percentage as the current wording does (Vietnamese: 87,4 %); blank for a missing value."""
    return "" if value is None or pd.isna(value) else current().percent(value, decimals)


def month_label(period: str) -> str:
    """Write a 'YYYY-MM' month as the current wording does (Vietnamese: 10/2026)."""
    return current().month(str(period))


def target_label(value: float) -> str:
    """Name a target line: Mục tiêu 86 %."""
    return current()("target", value=percent(value, 0 if float(value).is_integer() else 1))


def status_label(status) -> str:
    """Name a status code (met, not_met, inconclusive, insufficient) in the current wording."""
    return current()(f"status.{status}") if isinstance(status, str) and status in STATUS_LABELS else ""


def target_list(targets) -> list[tuple[str, float]]:
    """Normalise targets (a targets frame, records, (code, value) pairs or numbers) to sorted (code, value)."""
    if targets is None:
        return []
    if isinstance(targets, pd.DataFrame):
        targets = targets.to_dict("records")
    pairs = []
    for target in targets:
        if isinstance(target, dict):
            value = float(target["value"])
            pairs.append((str(target.get("code", f"{value:g}")), value))
        elif isinstance(target, tuple):
            pairs.append((str(target[0]), float(target[1])))
        else:
            pairs.append((f"{float(target):g}", float(target)))
    return sorted(pairs, key=lambda pair: pair[1])


def wrap(text: str, width: int, max_lines: int | None = None) -> str:
    """Wrap a label on word boundaries, ending with … when it is cut to max_lines."""
    lines = textwrap.wrap(str(text), width, max_lines=max_lines, placeholder=" …") or [""]
    return "\n".join(lines)


def draw_targets(ax: Axes, targets, *, vertical: bool = False) -> None:
    """Draw each target as a labelled dashed line across the axes."""
    for (_, value), (style, colour) in zip(target_list(targets), TARGET_LINES * 3, strict=False):
        line = ax.axvline if vertical else ax.axhline
        line(value, linestyle=style, color=colour, linewidth=1.3, label=target_label(value), zorder=1.5)


def legend_above(ax: Axes) -> None:
    """Put the legend in one row just above the plot, right-aligned, when anything is labelled."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles, labels, loc="lower right", bbox_to_anchor=(1, 1.01), ncols=min(len(handles), 4), frameon=False
        )


def draw_empty(ax: Axes, text: str | None = None) -> None:
    """Replace a plot by a plain message when there is nothing to draw."""
    text = current()("no_data") if text is None else text
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=16, color=MUTED)


def percent_floor(values, targets=(), pad: float = 5) -> float:
    """A lower axis limit for percentages: below every value and target, on a multiple of 5, at least 0."""
    known = [float(v) for v in values if not pd.isna(v)] + [v for _, v in target_list(targets)]
    return max(0.0, 5 * math.floor((min(known, default=100) - pad) / 5))


def new_figure(figsize: tuple[float, float]) -> Figure:
    """Create a figure with constrained layout (no pyplot)."""
    return Figure(figsize=figsize, layout="constrained")


def finish_figure(fig: FigureBase, title: str | None, *, footer: str | None = FOOTER, left: float = 0.01) -> None:
    """Give a figure its left-aligned title and (unless footer is None) the source footer."""
    width = max(40, int(fig.get_figwidth() * (1 - 2 * left) * 8.5)) if hasattr(fig, "get_figwidth") else 80
    if title:
        fig.suptitle(wrap(title, width), x=left, ha="left")
    if footer:
        fig.supxlabel(footer, x=left, ha="left", fontsize=8, color=MUTED)


CANVASES = {"png": FigureCanvasAgg, "svg": FigureCanvasSVG, "pdf": FigureCanvasPdf}
METADATA_KEYS = {"png": ("Title", "Description"), "svg": ("Title", "Description"), "pdf": ("Title", "Subject")}
PNG_COMPRESSION = 3  # zlib level: a chart's PNG is a few percent larger than at 6 and encodes in a third of the time


def figure_bytes(fig: Figure, fmt: str, title: str) -> bytes:
    """Save a figure as png, svg or pdf bytes with its title (and the source) in the file's metadata.

    The backend canvas prints the figure directly rather than through ``Figure.savefig``: savefig
    draws a figure with a layout engine twice (once to lay it out, once to print), while the canvas
    draws it once, running the constrained layout at the start of that draw. Charts are mostly text,
    and drawing text is most of their cost, so this halves the time of a cold chart.
    """
    buffer = BytesIO()
    metadata = dict(zip(METADATA_KEYS[fmt], (title, current()("footer")), strict=True))
    fig.set_dpi(mpl.rcParams["savefig.dpi"])
    canvas = CANVASES[fmt](fig)
    if fmt == "png":
        canvas.print_png(buffer, metadata=metadata, pil_kwargs={"compress_level": PNG_COMPRESSION})
    else:
        getattr(canvas, f"print_{fmt}")(buffer, metadata=metadata)
    return buffer.getvalue()
