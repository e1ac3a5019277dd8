"""Importing responses from a CSV or XLSX file in the wide layout: every row, or nothing if any row is bad.

The file is read as a stream and written in batches inside the caller's transaction; a bad row stops
the writing (the caller rolls back) but not the reading, so that every bad row is reported at once.
"""

from __future__ import annotations

import codecs
import csv
import gc
import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.xlsx_limits import WorkbookTooLarge, check_xlsx
from survey import db
from survey.domain import responses, rollup
from survey.domain.reference import ReferenceImportError, RowError, header_problems
from survey.domain.responses import Submission
from survey.models import Response
from survey.transfer import layout
from survey.transfer.layout import Problems, RowChecker

BATCH = 2000  # rows stored at a time; also bounds the dry run's IN list of submission keys
READ_CHUNK = 1 << 20
PROGRESS_EVERY = 100  # lines: redrawing the bar for every row would cost more than reading it

# What openpyxl raises on a file that is not a workbook, or a damaged one (zip, compression or XML).
XLSX_ERRORS = (
    InvalidFileException,
    zipfile.BadZipFile,
    zlib.error,
    ElementTree.ParseError,
    NotImplementedError,
    EOFError,
    KeyError,
    ValueError,
    OSError,
)


class ResponseImportError(ReferenceImportError):
    """A file of responses that cannot be imported: the first problems found, and how many there were."""

    def __init__(self, errors: list[RowError], total: int | None = None):
        super().__init__(errors)
        self.total = len(errors) if total is None else total


class UnreadableRow(Exception):
    """The file cannot be read past this line."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


@dataclass
class Source:
    """An open file of responses: its digest, its size for the progress bar, and its rows.

    ``rows`` yields (line, cell texts, position) with the header first; a position is a byte offset
    (CSV) or a row number (XLSX), in the unit of ``total``.
    """

    path: Path
    digest: str
    total: int
    rows: Iterator[tuple[int, list[str], int]]
    exact_width: bool  # CSV rows must have the header's number of fields; XLSX rows are padded


@dataclass(frozen=True)
class ImportResult:
    file: str
    rows: int
    imported: int
    dry_run: bool

    def summary(self) -> str:
        skipped = self.rows - self.imported
        if self.dry_run:
            return (f"Dry run: {self.imported:,} responses would be imported ({skipped:,} already imported) "
                    f"from {self.file}; nothing was written.")  # fmt: skip
        return f"Imported {self.imported:,} responses ({skipped:,} already imported) from {self.file}."


def _file_error(reason: str) -> ResponseImportError:
    return ResponseImportError([RowError(0, "file", reason)])


def file_digest(path: Path, utf8: bool) -> str:
    """The SHA-256 of a file's bytes, checking on the way (if asked) that they are UTF-8.

    reference.read_text says the same things about a bad file, but holds the whole text in memory.
    """
    digest, decoder, read, start = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")(), 0, 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(READ_CHUNK):
                digest.update(chunk)
                if utf8:
                    start = read - len(decoder.getstate()[0])  # the decoder's input begins with a cut character
                    decoder.decode(chunk)
                read += len(chunk)
        if utf8:
            start = read - len(decoder.getstate()[0])
            decoder.decode(b"", final=True)  # the file ends in the middle of a character
    except FileNotFoundError:
        raise _file_error(f"{path}: no such file") from None
    except OSError as exc:
        raise _file_error(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 (invalid byte at offset {start + exc.start}); save the file as CSV UTF-8"
        raise _file_error(f"{path}: {reason}") from None
    return digest.hexdigest()


@contextmanager
def open_source(path: Path | str) -> Iterator[Source]:
    """Open a .csv (UTF-8, with or without BOM) or .xlsx (first sheet) file of responses."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise _file_error(f"{path}: not a .csv or .xlsx file")
    digest = file_digest(path, utf8=suffix == ".csv")
    if suffix == ".csv":
        with path.open("rb") as binary, io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            yield Source(path, digest, os.fstat(binary.fileno()).st_size, _csv_rows(text, binary), True)
        return
    with path.open("rb") as handle:  # our own handle: closed even when openpyxl fails half-way
        try:
            check_xlsx(handle)
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except WorkbookTooLarge as exc:
            raise _file_error(f"{path}: {exc}") from None
        except XLSX_ERRORS as exc:
            raise _file_error(f"{path}: not a readable .xlsx workbook ({exc})") from None
        rows = _xlsx_rows(book.worksheets[0])
        try:
            yield Source(path, digest, book.worksheets[0].max_row or 0, rows, False)
        finally:
            rows.close()
            book.close()


def _csv_rows(text, binary) -> Iterator[tuple[int, list[str], int]]:
    reader = csv.reader(text)
    last_line = 0
    try:
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num  # a quoted field may span several lines
            yield line, list(map(str.strip, fields)), binary.tell()
    except (csv.Error, UnicodeDecodeError) as exc:  # e.g. a field beyond the csv module's size limit
        raise UnreadableRow(last_line + 1, f"not readable as CSV ({exc})") from None


def _xlsx_rows(sheet) -> Iterator[tuple[int, list[str], int]]:
    number = 0
    try:
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            yield number, [_cell_text(v) for v in values], number
    except XLSX_ERRORS as exc:  # a damaged sheet (e.g. its compressed XML) is found while reading it
        raise UnreadableRow(number + 1, f"not readable as XLSX ({exc})") from None


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV file would hold (naive dates and times as ISO 8601)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def read_header(cells: list[str] | None, item_codes: set[str]) -> list[str]:
    """The column names of a header row; anything but a known layout raises."""
    if not cells or not any(cells):
        raise ResponseImportError([RowError(1, "header", "the file is empty")])
    names = list(cells)
    while not names[-1]:  # spreadsheets often carry empty cells after the last column
        names.pop()
    known = {*layout.LEADING, layout.COMMENT, layout.KEY, *item_codes}
    missing = [c for c in layout.REQUIRED if c not in names]
    unknown = [n or "(blank)" for n in names if n not in known]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or repeated:
        reason = header_problems(missing, ("unknown column(s)", unknown), repeated) + (
            f" (required: {', '.join(layout.REQUIRED)}; optional: service_code, counter_code, channel, "
            "comment, submission_key and the item codes of the questionnaires)"
        )
        raise ResponseImportError([RowError(1, "header", reason)])
    return names


def _cells(line: int, cells: list[str], checker: RowChecker, exact: bool, problems: Problems) -> list[str] | None:
    """A row's cells padded for the checker, or None (reported) when it has the wrong number of fields."""
    width = checker.width
    if any(cells[width:]) or (exact and len(cells) < width):
        problems.add(line, "row", f"{len(cells)} fields, expected {width}")
        return None
    return checker.cells(cells[:width])


def import_responses(
    session: Session, source: Source, dry_run: bool = False, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Check every row and write the new ones (the caller commits); any bad row raises ResponseImportError.

    The rollups of every batch are summed in memory and written after the last row (or in parts of a
    bounded size, for a country's month), in the same transaction.
    """
    problems, rows, imported, batch, totals = Problems(), 0, 0, [], rollup.Totals()
    with db.bulk_writes(session), _collector_paused():
        try:
            first = next(source.rows, None)
            checker = RowChecker(session, source.digest)
            checker.use_columns(read_header(first[1] if first else None, checker.item_codes))
            for line, cells, position in source.rows:
                padded = _cells(line, cells, checker, source.exact_width, problems) if any(cells) else None
                record = checker.check(line, padded, problems) if padded is not None else None
                if record is not None and not problems.total:
                    rows += 1
                    batch.append(record)
                    if len(batch) >= BATCH:
                        imported, batch = imported + write_batch(session, batch, totals, dry_run), []
                        if totals.full() and not dry_run:  # a country's month: written in parts, memory bounded
                            rollup.write(session, totals)
                            totals = rollup.Totals()
                if progress and line % PROGRESS_EVERY == 0:
                    progress(position)
        except UnreadableRow as exc:
            problems.add(exc.line, "row", exc.reason)
        if problems.total:
            raise ResponseImportError(problems.shown, problems.total)
        imported += write_batch(session, batch, totals, dry_run)
        if not dry_run:
            rollup.write(session, totals)
    if progress:
        progress(source.total)
    return ImportResult(str(source.path), rows, imported, dry_run)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: an import makes millions of short-lived objects without cycles
    (freed as ever when unused), and its passes over them took 7 % of an import while finding almost nothing."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def write_batch(session: Session, batch: list[Submission], totals: rollup.Totals, dry_run: bool = False) -> int:
    """Store the responses not imported before (their keys unseen) with their answers, adding their rollups to
    totals; return how many."""
    unique = list({s.submission_key: s for s in reversed(batch)}.values())[::-1]  # a key twice: the first row
    if not unique:
        return 0
    if dry_run:
        keys = [s.submission_key for s in unique]
        seen = session.scalars(select(Response.submission_key).where(Response.submission_key.in_(keys))).all()
        return len(unique) - len(seen)
    outcomes = responses.store(session, unique, totals)
    return sum(o is responses.Outcome.STORED for o in outcomes)
