"""The monthly report pack: a Vietnamese PDF (cover, headline, charts, tables, method) and its workbook.

The PDF is drawn page by page on matplotlib Figures (no pyplot) into ``PdfPages`` on a BytesIO, with
TrueType (Type 42) fonts so its Vietnamese text can be searched and copied. The workbook is the
monthly export of ``analysis.output`` plus the trend, the volumes and the agencies' summary.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from io import BytesIO

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from analysis.chart_style import FOOTER, house_style, month_label, vi_number
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
from questionnaires import Catalog

REPORT_TITLE = "Báo cáo kết quả Khảo sát tại quầy"
LOW, HIGH = "KTC 95 %: cận dưới", "KTC 95 %: cận trên"  # shown as one column, "85,3 – 87,0", in the PDF
ROWS_PER_CHART_PAGE = 30
MAX_DETAIL_BLOCKS = 40  # beyond, a page per agency makes the PDF too long to draw on request: details=True forces
TREND_SHEET, VOLUME_SHEET, SUMMARY_SHEET = "Xu hướng", "Số phiếu", "Tổng hợp cơ quan"


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
    """Write a frame's numbers the Vietnamese way for a PDF table (one decimal; counts whole; KTC as a range)."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if column == LOW:
            out["KTC 95 %"] = [
                f"{vi_number(a)} – {vi_number(b)}" if pd.notna(a) else ""
                for a, b in zip(values, frame[HIGH], strict=True)
            ]
        elif column == HIGH:
            continue
        elif pd.api.types.is_float_dtype(values):
            signed = column.startswith("Thay đổi")
            out[column] = values.map(lambda v, s=signed: ("+" if s and v > 0 else "") + vi_number(v))
        elif pd.api.types.is_integer_dtype(values):
            out[column] = values.map(lambda v: vi_number(v, 0))
        else:
            out[column] = values.map(lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
    return pd.DataFrame(out, index=frame.index)


def _columns(frame: pd.DataFrame, weights: dict[str, float], wraps: dict[str, int] | None = None) -> list[Column]:
    """Give each column of a (numeric) frame a width by weight (1 unless named); numbers right-aligned."""
    names = ["KTC 95 %" if c == LOW else c for c in frame.columns if c != HIGH]
    raw = [weights.get(c, 2.7 if c.startswith("Mục tiêu") else 1.6 if c == "KTC 95 %" else 1.0) for c in names]
    numeric = [c == "KTC 95 %" or pd.api.types.is_numeric_dtype(frame[c]) for c in names]
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
    summary = agency_summary(table, targets)
    columns = _columns(summary, {"Cơ quan": 4.5}, {"Cơ quan": 42})
    pages = table_pages("Tổng hợp theo cơ quan", _display(summary), columns)
    for code, name in _detail_blocks(table, details):
        detail = agency_detail(table, code, targets)
        columns = _columns(detail, {"Cấp": 1.3, "Mã": 1.3, "Nội dung": 7.0, "n": 0.9, "Tỷ lệ (%)": 1.2})
        bold = detail["Cấp"].isin(["Chung", "Yếu tố"])
        pages += table_pages(f"Kết quả chi tiết — {name}", _display(detail), columns, bold=bold)
    return pages


def _criteria_list(table: pd.DataFrame) -> list[PageMaker]:
    """The codes and full wording of the elements, criteria and priorities the tables abbreviate."""
    rows = first_pool(table)
    rows = rows[(rows["agency_code"] == rows["agency_code"].iloc[0]) & (rows["level"] != "overall")]
    frame = pd.DataFrame({"Mã": rows["code"], "Nội dung": rows["label"]}).reset_index(drop=True)
    columns = [Column("Mã", 0.08), Column("Nội dung", 0.92, wrap=170)]
    return table_pages("Danh mục yếu tố, tiêu chí và ưu tiên cải thiện", frame, columns)


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
    pages = [
        lambda: cover_page(REPORT_TITLE, month, agency_name, notes, generated),
        lambda: headline_page(summary, table, agency_name, month, min_n),
    ]
    for name in names:
        pages += _chart_pages(name, chart_data(name, table, trend, **common))
    if not first_pool(table).empty:
        pages += _table_makers(table, targets, options.get("details")) + _criteria_list(table)
    return pages + text_pages("Ghi chú phương pháp", method_sections(notes))


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
    metadata = {"Title": f"{REPORT_TITLE} — {agency_name}, tháng {month_label(month)}", "Subject": FOOTER}
    with house_style(**{"pdf.fonttype": 42}), PdfPages(buffer, metadata={**metadata, "Creator": REPORT_TITLE}) as pdf:
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
    add_frame_sheet(book, TREND_SHEET, trend if trend is not None else pd.DataFrame())
    if volume is not None:
        add_frame_sheet(book, VOLUME_SHEET, volume, frozen="B2")
    add_frame_sheet(book, SUMMARY_SHEET, agency_summary(table, list(notes.targets)), frozen="B2")
    book.close()
    return buffer.getvalue()
