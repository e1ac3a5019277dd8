"""Pages of the report pack as matplotlib Figures (A4 landscape): text pages and paginated tables.

Each page is made by a callable, so a long report holds one Figure at a time and knows its page count
before drawing (for "Trang 3/12"). Every page carries the counter-survey footer.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analysis.chart_style import INK, MUTED
from analysis.wording import current

PAGE_SIZE = (11.69, 8.27)  # A4 landscape, inches
MARGIN = 0.6
TOP = 1.05  # where the body starts, inches from the top (below the page title)
BOTTOM = 0.6  # where the body ends, inches from the bottom (above the footer)
TABLE_FONT = 7.5
LINE = TABLE_FONT * 1.3 / 72  # inches per line of table text
PAD = 0.045  # inches of padding per row
HEADER_FILL, STRIPE_FILL = "#DDEBF7", "#F4F6F9"
PageMaker = Callable[[], Figure]


@dataclass(frozen=True)
class Column:
    """A table column: its header (a frame column), share of the text width, alignment and wrapping."""

    header: str
    width: float
    align: str = "left"
    wrap: int | None = None  # characters per line; None: one line, cut with …


def _x(inches: float) -> float:
    return inches / PAGE_SIZE[0]


def _y(inches_from_top: float) -> float:
    return 1 - inches_from_top / PAGE_SIZE[1]


def blank_page(title: str | None = None, subtitle: str | None = None) -> Figure:
    """Create a page with its title, subtitle and the counter-survey footer."""
    fig = Figure(figsize=PAGE_SIZE)
    if title:
        fig.text(_x(MARGIN), _y(0.5), title, fontsize=16, fontweight="bold", va="top")
    if subtitle:
        fig.text(_x(MARGIN), _y(0.85), subtitle, fontsize=10, color=MUTED, va="top")
    page_footer(fig)
    return fig


def page_footer(fig: Figure) -> None:
    """Write the counter-survey footer at the bottom left of a page."""
    fig.text(_x(MARGIN), 0.35 / PAGE_SIZE[1], current()("footer"), fontsize=8, color=MUTED)


def number_page(fig: Figure, number: int, total: int) -> None:
    """Write the page number at the bottom right."""
    text = current()("pack.page", number=number, total=total)
    fig.text(1 - _x(MARGIN), 0.35 / PAGE_SIZE[1], text, fontsize=8, color=MUTED, ha="right")


def _lines(text: str, wrap: int | None) -> list[str]:
    """Split a cell into its lines: wrapped at wrap characters, or one line cut with …"""
    text = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    if wrap is None:
        return [textwrap.shorten(text, 400, placeholder=" …")] if text else [""]
    return textwrap.wrap(text, wrap) or [""]


def _cut(lines: list[str], width_inches: float) -> list[str]:
    """Cut one-line cells to the column: about 15 characters an inch at the table font."""
    limit = max(4, int(width_inches * 17))
    return [line if len(line) <= limit else line[: limit - 1].rstrip() + "…" for line in lines]


def _row_lines(row, columns: list[Column], widths: list[float]) -> list[list[str]]:
    cells = [_lines(value, c.wrap) for value, c in zip(row, columns, strict=True)]
    return [cell if c.wrap else _cut(cell, w) for cell, c, w in zip(cells, columns, widths, strict=True)]


def _draw_row(fig: Figure, cells, columns, widths, top: float, height: float, style: dict) -> None:
    """Draw one table row: its background (when given) and each cell's lines."""
    if style.get("fill"):
        fig.add_artist(
            Rectangle(
                (_x(MARGIN), _y(top + height)),
                _x(sum(widths)),
                height / PAGE_SIZE[1],
                transform=fig.transFigure,
                facecolor=style["fill"],
                edgecolor="none",
                zorder=0,
            )
        )
    left = MARGIN
    for cell, column, width in zip(cells, columns, widths, strict=True):
        x = left + width - 0.06 if column.align == "right" else left + 0.06
        fig.text(
            _x(x),
            _y(top + 0.04),
            "\n".join(cell),
            ha=column.align,
            va="top",
            fontsize=TABLE_FONT,
            linespacing=1.1,
            fontweight=style.get("weight", "normal"),
            color=INK,
        )
        left += width


def _table_page(title, subtitle, columns, header, rows, bold) -> Figure:
    """Draw one page of a table: the header row, then rows striped."""
    fig = blank_page(title, subtitle)
    widths = [c.width * (PAGE_SIZE[0] - 2 * MARGIN) for c in columns]
    top = TOP
    height = len(max(header, key=len)) * LINE + PAD
    _draw_row(fig, header, columns, widths, top, height, {"fill": HEADER_FILL, "weight": "bold"})
    top += height
    for i, (cells, strong) in enumerate(zip(rows, bold, strict=True)):
        height = max(len(c) for c in cells) * LINE + PAD
        style = {"fill": STRIPE_FILL if i % 2 else None, "weight": "bold" if strong else "normal"}
        _draw_row(fig, cells, columns, widths, top, height, style)
        top += height
    return fig


def table_pages(
    title: str, frame: pd.DataFrame, columns: list[Column], *, subtitle: str | None = None, bold=None
) -> list[PageMaker]:
    """Lay a frame of display text out as table pages (as many as its rows need), one maker per page."""
    widths = [c.width * (PAGE_SIZE[0] - 2 * MARGIN) for c in columns]
    header = [textwrap.wrap(c.header, max(6, int(w * 14.5))) or [""] for c, w in zip(columns, widths, strict=True)]
    rows = [_row_lines(row, columns, widths) for row in frame[[c.header for c in columns]].itertuples(index=False)]
    bold = list(bold) if bold is not None else [False] * len(rows)
    budget = PAGE_SIZE[1] - TOP - BOTTOM - (max(map(len, header)) * LINE + PAD)
    pages, start, used = [], 0, 0.0
    for i, cells in enumerate(rows):
        height = max(len(c) for c in cells) * LINE + PAD
        if used + height > budget and i > start:
            pages.append((start, i))
            start, used = i, 0.0
        used += height
    pages.append((start, len(rows)))
    total = len(pages)
    return [
        partial(
            _table_page,
            title if total == 1 else f"{title} ({k}/{total})",
            subtitle,
            columns,
            header,
            rows[a:b],
            bold[a:b],
        )
        for k, (a, b) in enumerate(pages, start=1)
    ]


def _text_page(title: str, lines: list[tuple[str, str]]) -> Figure:
    """Draw a page of headings and paragraph lines."""
    fig = blank_page(title)
    top = TOP
    for text, kind in lines:
        if kind == "heading":
            top += 0.12
            fig.text(_x(MARGIN), _y(top), text, fontsize=11, fontweight="bold", va="top")
            top += 0.26
        else:
            fig.text(_x(MARGIN + (0.2 if kind == "item" else 0)), _y(top), text, fontsize=10, va="top")
            top += 0.2
    return fig


def text_pages(title: str, sections: list[tuple[str, list[str]]], *, width: int = 150) -> list[PageMaker]:
    """Lay headed sections of paragraphs ('• ' starts an item) out on as many pages as they need."""
    lines = []
    for heading, paragraphs in sections:
        lines.append((heading, "heading"))
        for paragraph in paragraphs:
            item = paragraph.startswith("• ")
            wrapped = textwrap.wrap(paragraph, width - (4 if item else 0))
            lines += [
                (line if i == 0 or not item else "   " + line, "item" if item else "body")
                for i, line in enumerate(wrapped)
            ]
    budget = PAGE_SIZE[1] - TOP - BOTTOM
    pages, current, used = [], [], 0.0
    for text, kind in lines:
        height = 0.38 if kind == "heading" else 0.2
        if used + height > budget and current:
            pages.append(current)
            current, used = [], 0.0
        current.append((text, kind))
        used += height
    pages.append(current)
    return [
        partial(_text_page, title if len(pages) == 1 else f"{title} ({k}/{len(pages)})", page)
        for k, page in enumerate(pages, start=1)
    ]
