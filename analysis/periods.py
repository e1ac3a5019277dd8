"""Reporting months: calendar months in local time (Asia/Ho_Chi_Minh), written 'YYYY-MM'.

A response at 23:30 local time on the 31st belongs to that month, whatever its UTC date.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import pandas as pd


LOCAL_TZ = "Asia/Ho_Chi_Minh"
# Reports reach back to the month before the one asked for: keep every year in range for that.
FIRST_YEAR, LAST_YEAR = 1970, 2999
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> str:
    """Validate a month written 'YYYY-MM' and return it; ValueError with a clear message otherwise."""
    match = _MONTH.fullmatch(str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"month must be written YYYY-MM with a month from 01 to 12 (e.g. 2026-01), got {text!r}")
    if not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise ValueError(f"month must lie between {FIRST_YEAR}-01 and {LAST_YEAR}-12, got {text!r}")
    return match.group(0)


def _year_month(month: str) -> tuple[int, int]:
    year, mon = parse_month(month).split("-")
    return int(year), int(mon)


def previous_month(month: str) -> str:
    """Return the month before a 'YYYY-MM' month."""
    year, mon = _year_month(month)
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def next_month(month: str) -> str:
    """Return the month after a 'YYYY-MM' month."""
    year, mon = _year_month(month)
    return f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"


def month_bounds(month: str, tz: str = LOCAL_TZ) -> tuple[datetime, datetime]:
    """Return the UTC instants where a local calendar month starts and ends (end exclusive)."""
    zone = ZoneInfo(tz)
    year, mon = _year_month(month)
    after = (year + 1, 1) if mon == 12 else (year, mon + 1)  # December 2999 ends in 3000: no month to validate
    start, end = (datetime(y, m, 1, tzinfo=zone).astimezone(UTC) for y, m in ((year, mon), after))
    return start, end


def local_period(series_utc: pd.Series, tz: str = LOCAL_TZ) -> pd.Series:
    """Return the local 'YYYY-MM' month of each instant (naive values are taken as UTC)."""
    import pandas as pd  # the rest of this module is plain Python: the web app starts without pandas

    moments = pd.to_datetime(series_utc)
    if moments.dt.tz is None:
        moments = moments.dt.tz_localize("UTC")
    return moments.dt.tz_convert(tz).dt.strftime("%Y-%m").astype(object)
