"""The monthly report pack: a PDF (cover, headline, charts, tables, method) and its workbook.

The PDF is drawn page by page on matplotlib Figures (no pyplot) into ``PdfPages`` on a BytesIO, with
TrueType (Type 42) fonts so its Vietnamese text can be searched and copied. The workbook is the
monthly export of ``analysis.output`` plus the trend, the volumes and the agencies' summary. Every text
comes from the current wording (``analysis.wording``): Vietnamese unless drawn inside ``using(...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from io import BytesIO

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from analysis.chart_style import house_style, month_label, number
from analysis.chart_text import headline
from analysis.charts import chart_data, chart_figure, split_chart
from analysis.dashboard import first_pool
from analysis.output import ReportNotes, add_frame_sheet, xlsx_workbook
from analysis.report_pages import (
    MARGIN,
    PAGE_SIZE,
    Column,
    PageMaker,
    number_page,
    page_footer,
    table_pages,
    text_pages,
)
from analysis.report_tables import agency_blocks, agency_detail, agency_summary
from analysis.reportpack_pages import cover_page, headline_page, method_sections
from analysis.wording import VI, current
from questionnaires import Catalog

REPORT_TITLE = VI["pack.title"]
ROWS_PER_CHART_PAGE = 30
MAX_DETAIL_BLOCKS = 40  # beyond, a page per agency makes the PDF too long to draw on request: details=True forces
SHEETS = ("pack.sheet.trend", "pack.sheet.volume", "pack.sheet.summary")  # wording keys of the added sheets


def _notes(notes: ReportNotes | dict) -> ReportNotes:
    return notes if isinstance(notes, ReportNotes) else ReportNotes(**notes)


def _chart_page(name: str, data: dict, title: str) -> Figure:
    """Draw a chart on a page: inside the page margins, footer and page number below it."""
    width, height = PAGE_SIZE
    fig = chart_figure(name, data, title=title, figsize=PAGE_SIZE, left=MARGIN / width, footer=None)
    fig.get_layout_engine().set(rect=(MARGIN / width, 0.5 / height, 1 - 2 * MARGIN / width, 1 - 0.7 / height))
    page_footer(fig)
    return fig


def _chart_pages(name: str, data: dict) -> list[PageMaker]:
    """One page per chart; a long ranking or heatmap over several pages sharing one scale."""
    parts = split_chart(name, data, ROWS_PER_CHART_PAGE)
    return [partial(_chart_page, name, part, part["title"]) for part in parts]


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """Write a frame's numbers as the wording does for a PDF table (one decimal; counts whole; the CI as a range)."""
    words, out = current(), {}
    low, high, change = words("col.low"), words("col.high"), words("col.change")
    for column in frame.columns:
        values = frame[column]
        if column == low:
            out[words("pack.interval")] = [
                f"{number(a)} – {number(b)}" if pd.notna(a) else "" for a, b in zip(values, frame[high], strict=True)
            ]
        elif column == high:
            continue
        elif pd.api.types.is_float_dtype(values):
            signed = column == change
            out[column] = values.map(lambda v, s=signed: ("+" if s and v > 0 else "") + number(v))
        elif pd.api.types.is_integer_dtype(values):
            out[column] = values.map(lambda v: number(v, 0))
        else:
            out[column] = values.map(lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
    return pd.DataFrame(out, index=frame.index)


def _columns(frame: pd.DataFrame, weights: dict[str, float], wraps: dict[str, int] | None = None) -> list[Column]:
    """Give each column of a (numeric) frame a width by weight (1 unless named); numbers right-aligned."""
    words = current()
    low, high, interval = words("col.low"), words("col.high"), words("pack.interval")
    target = words("target", value="").strip()
    names = [interval if c == low else c for c in frame.columns if c != high]
    raw = [weights.get(c, 2.7 if c.startswith(target) else 1.6 if c == interval else 1.0) for c in names]
    numeric = [c == interval or pd.api.types.is_numeric_dtype(frame[c]) for c in names]
    wraps = wraps or {}
    return [
        Column(c, w / sum(raw), "right" if number else "left", wraps.get(c))
        for c, w, number in zip(names, raw, numeric, strict=True)
    ]


def _detail_blocks(table: pd.DataFrame, details: bool | None) -> list[tuple[str, str]]:
    """The blocks that get a page of full figures: all, none, or (None) all up to MAX_DETAIL_BLOCKS, else the first."""
    blocks = agency_blocks(table)
    if details is None:
        return blocks if len(blocks) <= MAX_DETAIL_BLOCKS else blocks[:1]
    return blocks if details else []


def _table_makers(table: pd.DataFrame, targets, details: bool | None) -> list[PageMaker]:
    """The summary of every agency, then each detailed agency's full table."""
    words = current()
    agency, level, code_, text = words("col.agency"), words("col.level"), words("col.code"), words("col.text")
    summary = agency_summary(table, targets)
    columns = _columns(summary, {agency: 4.5}, {agency: 42})
    pages = table_pages(words("pack.summary"), _display(summary), columns)
    weights = {level: 1.3, code_: 1.3, text: 7.0, "n": 0.9, words("col.share"): 1.2}
    for code, name in _detail_blocks(table, details):
        detail = agency_detail(table, code, targets)
        bold = detail[level].isin([words("level.overall"), words("level.element")])
        pages += table_pages(words("pack.detail", name=name), _display(detail), _columns(detail, weights), bold=bold)
    return pages


def _criteria_list(table: pd.DataFrame) -> list[PageMaker]:
    """The codes and full wording of the elements, criteria and priorities the tables abbreviate."""
    rows = first_pool(table)
    rows = rows[(rows["agency_code"] == rows["agency_code"].iloc[0]) & (rows["level"] != "overall")]
    words = current()
    code, text = words("col.code"), words("col.text")
    frame = pd.DataFrame({code: rows["code"], text: rows["label"]}).reset_index(drop=True)
    columns = [Column(code, 0.08), Column(text, 0.92, wrap=170)]
    return table_pages(words("pack.criteria_list"), frame, columns)


def report_pages(table, trend, notes, *, agency_name, month, **options) -> list[PageMaker]:
    """List the report's pages in order, each as a callable that draws it."""
    notes = _notes(notes)
    targets, min_n = list(notes.targets), notes.min_n
    common = {"targets": targets, "min_n": min_n, "agency_name": agency_name}
    common |= {k: options.get(k) for k in ("agencies", "catalog", "volume")}
    names = ["trend", *(["volume"] if options.get("volume") is not None else []), "ranking", "elements"]
    names += ["criteria", "heatmap", "priorities"]
    summary = headline(table, targets=targets)
    generated = options.get("generated") or date.today()
    words = current()
    pages = [
        lambda: cover_page(words("pack.title"), month, agency_name, notes, generated),
        lambda: headline_page(summary, table, agency_name, month, min_n),
    ]
    for name in names:
        pages += _chart_pages(name, chart_data(name, table, trend, **common))
    if not first_pool(table).empty:
        pages += _table_makers(table, targets, options.get("details")) + _criteria_list(table)
    return pages + text_pages(words("pack.method"), method_sections(notes))


def build_report_pdf(
    table: pd.DataFrame,
    trend: pd.DataFrame | None,
    notes: ReportNotes | dict,
    *,
    agency_name: str,
    month: str,
    agencies: pd.DataFrame | None = None,
    catalog: Catalog | None = None,
    volume: pd.DataFrame | None = None,
    details: bool | None = None,
    generated: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """Draw the month's report pack as a multi-page PDF (A4 landscape), titled in its metadata.

    details: a page of full figures for every agency block (True), none (False), or every block when there
    are at most MAX_DETAIL_BLOCKS and only the block in focus otherwise (None). progress(done, total) is
    called after each page.
    """
    options = {"agencies": agencies, "catalog": catalog, "volume": volume, "details": details, "generated": generated}
    pages = report_pages(table, trend, notes, agency_name=agency_name, month=month, **options)
    buffer = BytesIO()
    words = current()
    title = words("pack.pdf_title", title=words("pack.title"), agency=agency_name, month=month_label(month))
    metadata = {"Title": title, "Subject": words("footer"), "Creator": words("pack.title")}
    with house_style(**{"pdf.fonttype": 42}), PdfPages(buffer, metadata=metadata) as pdf:
        for number, make in enumerate(pages, start=1):
            fig = make()
            number_page(fig, number, len(pages))
            pdf.savefig(fig)
            if progress is not None:
                progress(number, len(pages))
    return buffer.getvalue()


def build_report_xlsx(
    table: pd.DataFrame, trend: pd.DataFrame | None, notes: ReportNotes | dict, *, volume: pd.DataFrame | None = None
) -> bytes:
    """Write the report pack's workbook: the monthly export's sheets, then trend, volumes and agencies' summary."""
    notes = _notes(notes)
    buffer = BytesIO()
    book = xlsx_workbook(table, notes, buffer)
    trend_sheet, volume_sheet, summary_sheet = (current()(key) for key in SHEETS)
    add_frame_sheet(book, trend_sheet, trend if trend is not None else pd.DataFrame())
    if volume is not None:
        add_frame_sheet(book, volume_sheet, volume, frozen="B2")
    add_frame_sheet(book, summary_sheet, agency_summary(table, list(notes.targets)), frozen="B2")
    book.close()
    return buffer.getvalue()
