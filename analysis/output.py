"""Write the monthly table: CSV (UTF-8 with BOM) and a formatted XLSX with a notes sheet.

Workbooks are written by XlsxWriter, row by row (``constant_memory``): about four times faster than
openpyxl's write-only mode on a city's month (tens of thousands of cells), with the same values,
formats, widths and frozen panes; openpyxl still reads them back in the tests.
"""

from __future__ import annotations

import csv
import numbers
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from analysis.cells import safe_cell
from analysis.indices import EXTRA_COLUMNS, LEVELS, csv_columns
from analysis.targets import targets_in_force
from analysis.wording import VI, current
from questionnaires import Catalog

NOTES_SHEET = VI["notes.sheet"]
DECIMAL_COLUMNS = {"pct_satisfied", "ci_low", "ci_high", "change", "response_rate"}
FROZEN = "F2"  # header row and the columns that say whose figures a row holds (period … agency_name)
WIDTHS = {"agency_name": 32, "label": 60, "period": 9, "level": 10, "n": 8, "n_satisfied": 11}
# The notes sheet's texts, Vietnamese (the workbook writes them in the current wording).
METHOD = (VI["notes.method.criterion"], VI["notes.method.element"])
STATUS_NOTE = VI["notes.status"]


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
    words, names = current(), []
    for qid, label in zip(shown["questionnaire"], shown["version"], strict=True):
        definition = catalog.get(qid, max(int(v) for v in str(label).split("+")))
        name = words("notes.version", qid=qid, label=label)
        names.append(f"{name}: {definition.title.get(words('language'))}" if definition else name)
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


def _cell(value):
    """Turn a frame value into what a spreadsheet cell holds: None for blanks, text neutralised."""
    return None if pd.isna(value) else safe_cell(value.item() if hasattr(value, "item") else value)


class _Formats:
    """The workbook's cell formats, made once per workbook."""

    def __init__(self, book: Workbook):
        self.header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "pattern": 1})
        self.decimal = book.add_format({"num_format": "0.00"})
        self.label = book.add_format({"bold": True})
        self.body = book.add_format({"text_wrap": True, "valign": "top"})


def _write(sheet: Worksheet, row: int, col: int, value, fmt=None) -> None:
    """One cell, by its type: numbers stay numbers, everything else is text (never a formula)."""
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, numbers.Number):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, datetime | date):
        sheet.write_string(row, col, value.isoformat(), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def _sheet_columns(table: pd.DataFrame, level: str) -> list[str]:
    """Columns of one level's sheet: no status on priorities; extras only where they hold a value."""
    columns = [c for c in csv_columns(table) if not (level == "priority" and c.startswith("status_"))]
    rows = table[table["level"] == level]
    return columns + [c for c in EXTRA_COLUMNS if c in rows and rows[c].notna().any()]


def _write_level(
    sheet: Worksheet,
    formats: _Formats,
    table: pd.DataFrame,
    columns: list[str],
    frozen: str = FROZEN,
    decimal_columns=DECIMAL_COLUMNS,
) -> None:
    """Write one level's rows to a sheet: bold header, two decimals, frozen panes."""
    for j, name in enumerate(columns):
        sheet.set_column(j, j, WIDTHS.get(name, 13))
    sheet.freeze_panes(frozen)
    sheet.write_row(0, 0, columns, formats.header)
    decimals = [name in decimal_columns for name in columns]
    for i, row in enumerate(table[columns].itertuples(index=False), start=1):
        for j, (value, decimal) in enumerate(zip(row, decimals, strict=True)):
            if decimal:
                if not pd.isna(value):
                    sheet.write_number(i, j, float(value), formats.decimal)
            else:
                _write(sheet, i, j, _cell(value))


_METHOD_KEYS = ("notes.method.criterion", "notes.method.element")


def _target(target: dict) -> dict:
    return {"value": target["value"], "description": target["description"], "source": target["source"]}


def _write_notes(sheet: Worksheet, formats: _Formats, notes: ReportNotes) -> None:
    """Say what the figures are (a counter survey, not the official SIPAS), for when, how and against what."""
    words = current()
    lines = [
        (words("notes.title"), None),
        (words("notes.disclaimer"), None),
        (words("notes.period_key"), words("notes.period", period=notes.period)),
        *([(words("notes.as_of_key"), notes.as_of)] if notes.as_of else []),
        *[(words("notes.questionnaires_key") if i == 0 else "", q) for i, q in enumerate(notes.questionnaires)],
        *[(words("notes.method_key") if i == 0 else "", words(m)) for i, m in enumerate(_METHOD_KEYS)],
        *[
            (words("notes.targets_key") if i == 0 else "", words("notes.target", **_target(t)))
            for i, t in enumerate(notes.targets)
        ],
        (words("notes.status_key"), words("notes.status", min_n=notes.min_n)),
    ]
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 110)
    for i, (key, text) in enumerate(lines):
        _write(sheet, i, 0, safe_cell(key), formats.label)
        _write(sheet, i, 1, safe_cell(text), formats.body)


class ReportBook(Workbook):
    """A report's workbook, written row by row, with its cell formats."""

    def __init__(self, target):
        super().__init__(target, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
        self.report_formats = _Formats(self)


def xlsx_workbook(table: pd.DataFrame, notes: ReportNotes | dict, target) -> ReportBook:
    """Start the XLSX export's workbook on target (a path or a binary file object): notes, then a sheet
    per level; more sheets may follow (add_frame_sheet); close() writes it."""
    notes = notes if isinstance(notes, ReportNotes) else ReportNotes(**notes)
    book = ReportBook(target)
    _write_notes(book.add_worksheet(current()("notes.sheet")), book.report_formats, notes)
    for level in LEVELS:
        rows = table[table["level"] == level]
        _write_level(book.add_worksheet(level), book.report_formats, rows, _sheet_columns(table, level))
    return book


def add_frame_sheet(book: ReportBook, title: str, frame: pd.DataFrame, frozen: str = FROZEN) -> None:
    """Append a sheet holding a frame as the level sheets are written (float columns with two decimals)."""
    decimals = {c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
    _write_level(book.add_worksheet(title), book.report_formats, frame, list(frame.columns), frozen, decimals)


def write_xlsx(table: pd.DataFrame, path, notes: ReportNotes | dict) -> None:
    """Write the XLSX export (to a path or a binary file object): a notes sheet, then one sheet per level."""
    xlsx_workbook(table, notes, path).close()
