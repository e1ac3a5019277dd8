from datetime import date

import pandas as pd
import pytest

from analysis.targets import read_targets, target_status, targets_in_force


def targets_frame():
    return pd.DataFrame(
        {
            "code": ["old", "90", "86", "late", "ends-1st", "starts-31st"],
            "value": [80.0, 90.0, 86.0, 95.0, 70.0, 75.0],
            "metric": ["overall"] * 6,
            "period_start": [
                date(2020, 1, 1),
                date(2021, 1, 1),
                date(2022, 1, 1),
                date(2026, 2, 1),
                date(2025, 1, 1),
                date(2026, 1, 31),
            ],
            "period_end": [date(2025, 12, 31), None, None, None, date(2026, 1, 1), None],
            "source": ["s"] * 6,
            "description": ["d"] * 6,
        }
    )


def test_targets_in_force_for_a_month_ordered_by_value():
    in_force = targets_in_force(targets_frame(), "2026-01")
    # "old" ended in December, "late" starts in February; one ending on 1 January and one starting on the
    # 31st are in force for part of January, so they count
    assert list(in_force["code"]) == ["ends-1st", "starts-31st", "86", "90"]
    assert list(targets_in_force(targets_frame(), "2025-06")["code"]) == ["ends-1st", "old", "86", "90"]


def test_status_against_a_target():
    # intervals in %: met when low ≥ target, not_met when high < target, else inconclusive; n < min_n first
    n = [100, 100, 100, 100, 29, 30]
    low = [86.0, 80.0, 85.0, 80.0, 95.0, 95.0]
    high = [95.0, 85.99, 87.0, 86.0, 99.0, 99.0]
    status = target_status(n, low, high, 86.0, 30)
    assert list(status) == ["met", "not_met", "inconclusive", "inconclusive", "insufficient", "met"]


def test_default_targets_file():
    targets = read_targets()
    assert list(targets["code"]) == ["86", "90"]
    assert list(targets["value"]) == [86.0, 90.0]
    assert targets["period_start"].tolist() == [date(2022, 1, 1), date(2021, 1, 1)]
    assert targets["period_end"].tolist() == [None, None]
    assert "399/QĐ-UBND" in targets["source"][0] and "190/KH-UBND" in targets["source"][1]
    assert set(targets["metric"]) == {"overall"}


def test_read_targets_rejects_bad_files(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,value\n86,86\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        read_targets(path)
    path.write_text("code,value,metric,period_start,period_end,source,description\n86,86,overall,2022-13-01,,s,d\n")
    with pytest.raises(ValueError, match="period_start"):
        read_targets(path)
