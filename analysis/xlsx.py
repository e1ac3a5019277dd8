"""A small write-only XLSX writer for the report workbooks: sheets of rows, a handful of fixed styles.

The exports hold tens of thousands of cells; openpyxl's write-only mode spends about 20 µs on each
(a cell object, its style, an XML element), which made the workbook most of a monthly report's
time. Here a sheet's XML is put together as text, column by column, each distinct value formatted
once: strings inline (no shared string table, as openpyxl writes them), numbers with 16 significant
digits, the styles below. Readers (Excel, LibreOffice, openpyxl, pandas) see the same values and
formats as before.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass, field
from numbers import Integral, Real
from xml.sax.saxutils import escape

import pandas as pd

# Style ids, indexes into the cellXfs of STYLES.
PLAIN, HEADER, DECIMAL, BOLD, WRAPPED = 0, 1, 2, 3, 4
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="0.00"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="00DDEBF7"/></patternFill></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">\
<alignment vertical="top" wrapText="1"/></xf></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""
# Characters XML 1.0 cannot hold; openpyxl refuses them, a report drops them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def column_letter(index: int) -> str:
    """Name a column from its 1-based index: 1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _blank(value) -> bool:
    """Whether a value leaves its cell empty (None, NaN, pd.NA, NaT, and '' as openpyxl reads it back)."""
    if value is None or (isinstance(value, str) and not value):
        return True
    try:
        return bool(value != value)  # NaN, NaT; pd.NA raises
    except TypeError:
        return True


def _text(value: str, style: int) -> str:
    text = escape(_ILLEGAL.sub("", value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{_style(style)} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _style(style: int) -> str:
    return f' s="{style}"' if style else ""


def _body(value, style: int) -> str | None:
    """The part of a cell's XML after its reference ('<c r="A1"' + this); None leaves the cell out."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalars
    if _blank(value):
        return f"{_style(style)}/>" if style else None
    if isinstance(value, str):
        return _text(value, style)
    if isinstance(value, bool):
        return f'{_style(style)} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Integral):
        return f"{_style(style)}><v>{int(value)}</v></c>"
    if isinstance(value, Real):
        number = float(value)
        return None if math.isinf(number) else f"{_style(style)}><v>{number:.16g}</v></c>"
    return _text(str(value), style)


def cells(
    letter: str, values, style: int = PLAIN, first_row: int = 2, decimal: bool = False, convert=None
) -> list[str]:
    """The XML of one column's cells, from first_row down ('' where a cell is left out).

    values: a Series, array or list; decimal: numbers shown with two decimals (style DECIMAL), text
    and blanks as in any column; convert: applied to each value first (once per distinct value).
    """
    if isinstance(values, list | tuple):
        values = pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = list(uniques)
    kinds = {u.__class__ for u in uniques}
    if bool in kinds and len(kinds) > 1:  # True and 1 are one key to factorize, not one cell
        codes, uniques = range(len(values)), list(values)
    bodies = [_cell_body(u if convert is None else convert(u), style, decimal) for u in uniques]
    bodies.append(f"{_style(style)}/>" if style else None)  # code -1: a blank
    return [
        "" if (body := bodies[code]) is None else f'<c r="{letter}{row}"{body}'
        for row, code in enumerate(codes, start=first_row)
    ]


def _cell_body(value, style: int, decimal: bool) -> str | None:
    if value.__class__ is float and value == value and not math.isinf(value):  # the common case, quickly
        return (
            f' s="{DECIMAL if decimal else style}"><v>{value:.16g}</v></c>'
            if decimal or style
            else f"><v>{value:.16g}</v></c>"
        )
    if decimal and not _blank(value) and not isinstance(value, str):
        return _body(float(value), DECIMAL)
    return _body(value, style)


@dataclass
class Sheet:
    """One worksheet: its title, column widths, frozen panes and rows of cell XML."""

    title: str
    widths: list[float] = field(default_factory=list)
    frozen: str | None = None
    rows: list[str] = field(default_factory=list)
    size: tuple[int, int] = (0, 0)  # columns, rows

    def add_columns(self, columns: list[list[str]]) -> None:
        """Append rows made of the given columns of cell XML (each the same length)."""
        if not columns:
            return
        start = len(self.rows) + 1
        width = max(self.size[0], len(columns))
        self.rows += [f'<row r="{i}">{"".join(r)}</row>' for i, r in enumerate(zip(*columns, strict=True), start)]
        self.size = (width, len(self.rows))

    def _pane(self) -> str:
        if not self.frozen:
            return '<sheetView workbookViewId="0"/>'
        match = re.fullmatch(r"([A-Z]+)(\d+)", self.frozen)
        column = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(match[1])))
        x, y = column - 1, int(match[2]) - 1
        active = "bottomRight" if x and y else ("bottomLeft" if y else "topRight")
        split = (f' xSplit="{x}"' if x else "") + (f' ySplit="{y}"' if y else "")
        selections = ['<selection pane="topRight"/>', '<selection pane="bottomLeft"/>'] if x and y else []
        selections.append(f'<selection pane="{active}" activeCell="{self.frozen}" sqref="{self.frozen}"/>')
        return (
            f'<sheetView workbookViewId="0"><pane{split} topLeftCell="{self.frozen}" activePane="{active}" '
            f'state="frozen"/>{"".join(selections)}</sheetView>'
        )

    def xml(self) -> str:
        columns, rows = self.size
        dimension = f"A1:{column_letter(columns)}{rows}" if columns and rows else "A1"
        cols = "".join(
            f'<col min="{j}" max="{j}" width="{w:g}" customWidth="1"/>' for j, w in enumerate(self.widths, start=1)
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" '
            f'xmlns:r="{_RELS}"><dimension ref="{dimension}"/><sheetViews>{self._pane()}</sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>{f"<cols>{cols}</cols>" if cols else ""}'
            f"<sheetData>{''.join(self.rows)}</sheetData></worksheet>"
        )


class Book:
    """A workbook of sheets in the order created, saved to a path or a binary file object."""

    def __init__(self) -> None:
        self.sheets: list[Sheet] = []

    def create_sheet(self, title: str) -> Sheet:
        sheet = Sheet(title)
        self.sheets.append(sheet)
        return sheet

    def save(self, target) -> None:
        n = len(self.sheets)
        sheet_types = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        parts = {
            "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{sheet_types}</Types>",
            "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PACKAGE_RELS}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            f'Type="{_RELS}/officeDocument"/></Relationships>',
            "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><bookViews><workbookView/></bookViews><sheets>'
            + "".join(
                f'<sheet name="{escape(s.title, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                for i, s in enumerate(self.sheets, start=1)
            )
            + "</sheets></workbook>",
            "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PACKAGE_RELS}">'
            + "".join(
                f'<Relationship Id="rId{i}" Target="worksheets/sheet{i}.xml" Type="{_RELS}/worksheet"/>'
                for i in range(1, n + 1)
            )
            + f'<Relationship Id="rId{n + 1}" Target="styles.xml" Type="{_RELS}/styles"/></Relationships>',
            "xl/styles.xml": STYLES,
            **{f"xl/worksheets/sheet{i}.xml": s.xml() for i, s in enumerate(self.sheets, start=1)},
        }
        # Level 1: the sheets are repetitive text; a higher level costs more time than it saves bytes.
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for name, text in parts.items():
                archive.writestr(name, text.encode("utf-8"))
