from datetime import UTC, datetime

import pandas as pd
import pytest

from analysis.periods import local_period, month_bounds, parse_month, previous_month


def test_parse_month():
    assert parse_month("2026-01") == "2026-01"
    assert parse_month(" 2026-12 ") == "2026-12"
    for bad in ("2026-13", "2026-00", "2026-1", "26-01", "2026/01", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad)


def test_previous_month():
    assert previous_month("2026-01") == "2025-12"
    assert previous_month("2026-03") == "2026-02"


def test_month_bounds_are_local_midnights_in_utc():
    # Hà Nội is UTC+7 all year: 1 January 00:00 local = 31 December 17:00 UTC
    start, end = month_bounds("2026-01")
    assert start == datetime(2025, 12, 31, 17, tzinfo=UTC)
    assert end == datetime(2026, 1, 31, 17, tzinfo=UTC)
    assert month_bounds("2026-12")[1] == datetime(2026, 12, 31, 17, tzinfo=UTC)


def test_local_period_uses_local_calendar_month():
    moments = pd.Series(
        pd.to_datetime(["2026-01-31T16:30Z", "2026-01-31T17:30Z", "2025-12-31T17:00Z"], utc=True), index=[3, 4, 5]
    )
    # 23:30 local on 31 January; 00:30 local on 1 February; 00:00 local on 1 January
    expected = pd.Series(["2026-01", "2026-02", "2026-01"], index=[3, 4, 5], dtype=object)
    pd.testing.assert_series_equal(local_period(moments), expected)


def test_months_outside_the_supported_years_are_refused():
    import pytest

    from analysis.periods import parse_month, previous_month

    for text in ("0001-01", "1969-12", "3000-01"):
        with pytest.raises(ValueError, match="must lie between 1970-01 and 2999-12"):
            parse_month(text)
    assert previous_month("1970-02") == "1970-01"
