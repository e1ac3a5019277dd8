"""How much an .xlsx file may unpack to: checked from its zip directory before openpyxl reads a byte of it.

An .xlsx is a zip archive of XML parts. openpyxl holds some parts whole in memory (the shared strings,
styles, workbook), even in read-only mode, so an 875 KB file whose shared strings inflate to 300 MB
took 540 MB before being refused. The worksheets are streamed (their size costs time, not memory).

The sizes checked are those the archive declares; they are also what Python's zipfile reads at most
(it stops at a member's declared size, and a member longer than declared fails its checksum), so a
file cannot lie its way past the limits. The import of responses and ``python -m analysis`` both check here.
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

MB = 1024 * 1024
# Everything unpacked together. The sheet XML of 100,000 responses in the wide layout (56 columns)
# measures 110-200 MB depending on how many items are answered; five times that still reads in
# minutes, in the constant memory of a streamed sheet.
MAX_TOTAL_SIZE = 1024 * MB
# A part read whole into memory (any member but a worksheet): the shared strings of 100,000 rows, each
# with its own submission key, time stamp and a comment, stay under 20 MB.
MAX_PART_SIZE = 50 * MB
# Real workbooks compress 3-15 times (a sheet of the wide layout: 8-9); a bomb 300-1000 times. Small
# members may compress better (a few kilobytes of repeated styles) and cannot hurt.
MAX_RATIO = 100
RATIO_FROM = 1 * MB
# A workbook has a few dozen members; every member costs a directory entry in memory.
MAX_MEMBERS = 10_000
WORKSHEETS = "xl/worksheets/"

_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")  # signature, disks, entries here, entries, size, offset, comment


class WorkbookTooLarge(ValueError):
    """An .xlsx file refused before reading: it would unpack to more than the limits allow."""


def _megabytes(size: int) -> str:
    return f"{size / MB:,.0f} MB"


def _declared_entries(handle: BinaryIO) -> int | None:
    """The number of members the end of the zip directory declares (None when there is no such record)."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - _END_OF_DIRECTORY.size - 0xFFFF))  # the record, then at most a 64 KB comment
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_OF_DIRECTORY.size:
        return None
    return _END_OF_DIRECTORY.unpack_from(tail, at)[4]


def _problem(members: list[zipfile.ZipInfo]) -> str | None:
    """What in the declared members is over a limit, or None."""
    if len(members) > MAX_MEMBERS:
        return f"{len(members):,} parts (at most {MAX_MEMBERS:,})"
    total = 0
    for info in members:
        limit = MAX_TOTAL_SIZE if info.filename.startswith(WORKSHEETS) else MAX_PART_SIZE
        if info.file_size > limit:
            return f"{info.filename} unpacks to {_megabytes(info.file_size)} (at most {_megabytes(limit)})"
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            return f"{info.filename} is compressed {ratio:,.0f} times (at most {MAX_RATIO} times)"
        total += info.file_size
    if total > MAX_TOTAL_SIZE:
        return f"it unpacks to {_megabytes(total)} in all (at most {_megabytes(MAX_TOTAL_SIZE)})"
    return None


def check_xlsx(source: Path | str | BinaryIO) -> None:
    """Refuse (WorkbookTooLarge) an .xlsx whose declared contents exceed the limits; a file object is rewound.

    A file that is not a zip archive raises zipfile.BadZipFile, as openpyxl would.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            return check_xlsx(handle)
    entries = _declared_entries(source)
    if entries is not None and entries > MAX_MEMBERS:  # before zipfile builds an object per entry
        problem = f"{entries:,} parts (at most {MAX_MEMBERS:,})"
    else:
        source.seek(0)
        with zipfile.ZipFile(source) as archive:
            problem = _problem(archive.infolist())
    source.seek(0)
    if problem:
        raise WorkbookTooLarge(f"refused before reading, too large once unpacked: {problem}")
    return None
