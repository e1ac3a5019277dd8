"""Write the monthly table: CSV (UTF-8 with BOM) and a formatted XLSX with a notes sheet."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

import pandas as pd

from analysis import xlsx
from analysis.cells import safe_cell
from analysis.indices import EXTRA_COLUMNS, LEVELS, csv_columns
from analysis.targets import targets_in_force
from questionnaires import Catalog

NOTES_SHEET = "Ghi chú"
DECIMAL_COLUMNS = {"pct_satisfied", "ci_low", "ci_high", "change", "response_rate"}
FROZEN = "F2"  # header row and the columns that say whose figures a row holds (period … agency_name)
WIDTHS = {"agency_name": 32, "label": 60, "period": 9, "level": 10, "n": 8, "n_satisfied": 11}
METHOD = (
    "Tiêu chí và ưu tiên cải thiện: tỷ lệ câu trả lời thuộc nhóm “hài lòng” của thang đo (4–5 trên thang 5 mức; "
    "“Nhiều”, “Rất nhiều” với ưu tiên) trên số câu trả lời hợp lệ, không tính “Không có ý kiến”; "
    "khoảng tin cậy 95 % Wilson.",
    "Yếu tố: trung bình tỷ lệ của các tiêu chí; chỉ số chung: trung bình các yếu tố; khoảng tin cậy 95 % Wilson "
    "tại cỡ mẫu hiệu dụng suy ra từ sai số chuẩn của điểm từng người trả lời.",
)
STATUS_NOTE = (
    "met: đạt (cận dưới khoảng tin cậy ≥ mục tiêu); not_met: chưa đạt (cận trên < mục tiêu); "
    "inconclusive: chưa đủ cơ sở kết luận; insufficient: ít hơn {min_n} câu trả lời."
)


@dataclass(frozen=True)
class ReportNotes:
    """What the notes sheet says: the period, the questionnaires and the targets with their sources."""

    period: str
    questionnaires: tuple[str, ...] = ()
    targets: tuple[dict, ...] = field(default_factory=tuple)
    min_n: int = 30
    as_of: str = ""  # when the figures were taken, as a sentence ("Số liệu cập nhật lúc 14:32 04/12/2026")


def report_notes(table: pd.DataFrame, catalog: Catalog, targets: pd.DataFrame, period: str) -> ReportNotes:
    """Describe a table for its notes sheet: the questionnaires it shows and the targets in force."""
    shown = table[["questionnaire", "version"]].drop_duplicates()
    names = []
    for qid, label in zip(shown["questionnaire"], shown["version"], strict=True):
        definition = catalog.get(qid, max(int(v) for v in str(label).split("+")))
        names.append(f"{qid}, phiên bản {label}: {definition.title.vi}" if definition else f"{qid}, phiên bản {label}")
    in_force = targets_in_force(targets, period)
    rows = tuple(in_force[["code", "value", "description", "source"]].to_dict("records"))
    min_n = min((d.min_n for d in catalog if d.id in set(shown["questionnaire"])), default=30)
    return ReportNotes(period, tuple(names), rows, min_n)


def _csv_texts(column: pd.Series) -> list[str]:
    """A column as the CSV shows it: two decimals for floats, blanks for missing values, text made safe."""
    if pd.api.types.is_float_dtype(column.dtype):
        return ["" if v != v else f"{v:.2f}" for v in column.to_numpy(dtype="float64").tolist()]
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    texts = [str(safe_cell(u)) for u in uniques.tolist()] + [""]  # code -1: a blank
    return [texts[code] for code in codes.tolist()]


def write_csv(table: pd.DataFrame, path) -> None:
    """Write the CSV export: UTF-8 with BOM, csv_columns only, blanks for missing values."""
    columns = csv_columns(table)
    texts = [_csv_texts(table[c]) for c in columns]
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*texts, strict=True))


def _sheet_columns(table: pd.DataFrame, level: str) -> list[str]:
    """Columns of one level's sheet: no status on priorities; extras only where they hold a value."""
    columns = [c for c in csv_columns(table) if not (level == "priority" and c.startswith("status_"))]
    rows = table[table["level"] == level]
    return columns + [c for c in EXTRA_COLUMNS if c in rows and rows[c].notna().any()]


def _write_level(
    sheet: xlsx.Sheet, table: pd.DataFrame, columns: list[str], frozen: str = FROZEN, decimal_columns=DECIMAL_COLUMNS
) -> None:
    """Write one level's rows to a sheet: bold header, two decimals, frozen panes; text made safe."""
    sheet.widths = [WIDTHS.get(name, 13) for name in columns]
    sheet.frozen = frozen
    letters = [xlsx.column_letter(j) for j in range(1, len(columns) + 1)]
    sheet.add_columns(
        [xlsx.cells(c, [name], xlsx.HEADER, first_row=1) for c, name in zip(letters, columns, strict=True)]
    )
    body = []
    for letter, name in zip(letters, columns, strict=True):
        decimal = name in decimal_columns
        body.append(xlsx.cells(letter, table[name], decimal=decimal, convert=None if decimal else safe_cell))
    sheet.add_columns(body)


def _write_notes(sheet: xlsx.Sheet, notes: ReportNotes) -> None:
    """Say what the figures are (a counter survey, not the official SIPAS), for when, how and against what."""
    lines = [
        ("Kết quả Khảo sát tại quầy — không phải Chỉ số SIPAS chính thức", None),
        (
            "Đây là kết quả Khảo sát tại quầy (người dân tự nguyện trả lời tại Bộ phận một cửa), "
            "không phải Chỉ số hài lòng về sự phục vụ hành chính (SIPAS) chính thức.",
            None,
        ),
        ("Kỳ báo cáo", f"Tháng {notes.period} (theo giờ Việt Nam)"),
        *([("Số liệu", notes.as_of)] if notes.as_of else []),
        *[("Bảng hỏi" if i == 0 else "", q) for i, q in enumerate(notes.questionnaires)],
        *[("Phương pháp" if i == 0 else "", m) for i, m in enumerate(METHOD)],
        *[
            ("Mục tiêu" if i == 0 else "", f"≥ {t['value']:g} %: {t['description']} (nguồn: {t['source']})")
            for i, t in enumerate(notes.targets)
        ],
        ("Trạng thái", STATUS_NOTE.format(min_n=notes.min_n)),
    ]
    sheet.widths = [16, 110]
    keys, texts = zip(*lines, strict=True)
    sheet.add_columns(
        [
            xlsx.cells("A", [safe_cell(k) for k in keys], xlsx.BOLD, first_row=1),
            xlsx.cells("B", [safe_cell(t) for t in texts], xlsx.WRAPPED, first_row=1),
        ]
    )


def xlsx_workbook(table: pd.DataFrame, notes: ReportNotes | dict) -> xlsx.Book:
    """Build the XLSX export's workbook (notes, then a sheet per level); more sheets may follow."""
    notes = notes if isinstance(notes, ReportNotes) else ReportNotes(**notes)
    book = xlsx.Book()
    _write_notes(book.create_sheet(NOTES_SHEET), notes)
    for level in LEVELS:
        rows = table[table["level"] == level]
        _write_level(book.create_sheet(level), rows, _sheet_columns(table, level))
    return book


def add_frame_sheet(book: xlsx.Book, title: str, frame: pd.DataFrame, frozen: str = FROZEN) -> None:
    """Append a sheet holding a frame as the level sheets are written (float columns with two decimals)."""
    decimals = {c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
    _write_level(book.create_sheet(title), frame, list(frame.columns), frozen, decimals)


def write_xlsx(table: pd.DataFrame, path, notes: ReportNotes | dict) -> None:
    """Write the XLSX export (to a path or a binary file object): a notes sheet, then one sheet per level."""
    xlsx_workbook(table, notes).save(path)
