"""Targets as data (value, metric, period, source) and the status of an interval against them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.periods import next_month, parse_month

TARGET_COLUMNS = ["code", "value", "metric", "period_start", "period_end", "source", "description"]
DEFAULT_TARGETS = Path(__file__).resolve().parent / "default_targets.csv"


def _dates(column: pd.Series, name: str, required: bool) -> pd.Series:
    """Parse a column of dates (date objects or ISO text; blank = none) into datetime.date or None."""
    blank = column.isna() | (column.astype(str).str.strip() == "")
    if required and blank.any():
        raise ValueError(f"targets: {name} is required (target {column.index[blank][0]})")
    try:
        parsed = pd.to_datetime(column.where(~blank), format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"targets: {name} must be dates written YYYY-MM-DD ({exc})") from exc
    return pd.Series([None if b else d.date() for b, d in zip(blank, parsed, strict=True)], index=column.index)


def read_targets(path: Path | str = DEFAULT_TARGETS) -> pd.DataFrame:
    """Read a targets CSV (TARGET_COLUMNS; UTF-8 with or without BOM) into a targets frame."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in TARGET_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    value = pd.to_numeric(raw["value"], errors="coerce")
    if value.isna().any():
        raise ValueError(f"{path}: every target needs a numeric value")
    frame = raw[TARGET_COLUMNS].astype(object).set_index(raw["code"].rename(None))
    frame = frame.assign(
        value=value.to_numpy(dtype="float64"),
        period_start=_dates(frame["period_start"], "period_start", True),
        period_end=_dates(frame["period_end"], "period_end", False),
    )
    return frame.reset_index(drop=True)


def targets_in_force(targets: pd.DataFrame, month: str) -> pd.DataFrame:
    """Keep the targets in force in a month (start ≤ its last day, end blank or ≥ its first day), by value."""
    first = date.fromisoformat(parse_month(month) + "-01")
    following = date.fromisoformat(next_month(month) + "-01")
    if targets is None or targets.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    start = pd.to_datetime(targets["period_start"])
    end = pd.to_datetime(targets["period_end"])
    keep = (start < pd.Timestamp(following)) & (end.isna() | (end >= pd.Timestamp(first)))
    kept = targets[keep.to_numpy()].assign(code=lambda f: f["code"].astype(str))
    return kept.sort_values(["value", "code"], kind="stable", ignore_index=True)


def status_column(code: str) -> str:
    """Name the status column of a target."""
    return f"status_{code}"


def target_status(n, low, high, target: float, min_n: int) -> np.ndarray:
    """Compare intervals (in %) with a target: met, not_met, inconclusive, or insufficient when n < min_n."""
    n, low, high = (np.asarray(x, dtype="float64") for x in (n, low, high))
    return np.select(
        [n < min_n, low >= target, high < target],
        ["insufficient", "met", "not_met"],
        default="inconclusive",
    ).astype(object)
