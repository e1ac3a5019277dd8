"""Plain values shared by the outputs, without pandas: what a status may be, and cells made safe for spreadsheets."""

from __future__ import annotations

STATUSES = ("met", "not_met", "inconclusive", "insufficient")  # of a figure against a target
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise spreadsheet formula injection: text starting with = + - @ tab or CR gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
