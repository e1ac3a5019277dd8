"""Read exported files: the wide responses export (one row per response) and the agencies list."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from analysis.periods import LOCAL_TZ
from analysis.xlsx_limits import WorkbookTooLarge, check_xlsx

META_COLUMNS = ["submitted_at", "agency_code", "service_code", "counter_code", "questionnaire", "version", "channel"]
REQUIRED_COLUMNS = ["submitted_at", "agency_code", "questionnaire", "version"]
TEXT_COLUMNS = {"comment"}
TIDY_COLUMNS = [
    "response_id",
    "submitted_at",
    "agency_code",
    "service_code",
    "counter_code",
    "questionnaire",
    "version",
    "item_code",
    "value",
]
_AWARE = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn every cell into text ('' for missing), as a CSV read would give."""
    return pd.DataFrame({c: [("" if pd.isna(v) else str(v)) for v in frame[c]] for c in frame.columns}, dtype=object)


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a .csv (UTF-8, BOM or not), .xlsx or .parquet file as text cells ('' = blank)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").astype(object)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if suffix == ".xlsx":
        try:
            check_xlsx(path)
        except WorkbookTooLarge as exc:
            raise WorkbookTooLarge(f"{path}: {exc}") from None
        return _as_text(pd.read_excel(path, dtype=object, engine="openpyxl"))
    if suffix == ".parquet":
        if importlib.util.find_spec("pyarrow") is None:
            raise ValueError(
                f"{path}: reading .parquet needs the pyarrow package, which is not installed; use .csv or .xlsx"
            )
        return _as_text(pd.read_parquet(path))
    raise ValueError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv, .xlsx or .parquet")


def parse_timestamps(text: pd.Series, tz: str = LOCAL_TZ) -> pd.Series:
    """Parse ISO 8601 text to UTC instants: with an offset as given, without one as local time in ``tz``."""
    text = text.astype(str).str.strip()
    aware = text.str.contains(_AWARE, regex=True)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        result[aware] = pd.to_datetime(text[aware], utc=True, format="ISO8601", errors="coerce")
    if (~aware).any():
        local = pd.to_datetime(text[~aware], format="ISO8601", errors="coerce")
        result[~aware] = local.dt.tz_localize(tz).dt.tz_convert("UTC")
    return result


def _row_error(mask: pd.Series, frame: pd.DataFrame, column: str, what: str) -> None:
    if mask.any():
        row = mask.idxmax()
        raise ValueError(f"data row {row + 1}: {column} {frame.at[row, column]!r} is not {what}")


def wide_to_tidy(wide: pd.DataFrame, tz: str = LOCAL_TZ) -> pd.DataFrame:
    """Turn the wide export (one row per response, one column per item) into the tidy answers frame."""
    missing = [c for c in REQUIRED_COLUMNS if c not in wide.columns]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    wide = wide.reset_index(drop=True).reindex(columns=[*dict.fromkeys([*META_COLUMNS, *wide.columns])], fill_value="")
    stamps = parse_timestamps(wide["submitted_at"], tz)
    _row_error(stamps.isna(), wide, "submitted_at", "an ISO 8601 date and time")
    version = pd.to_numeric(wide["version"], errors="coerce")
    _row_error(version.isna() | (version % 1 != 0), wide, "version", "a whole number")
    meta = pd.DataFrame(
        {
            "response_id": pd.RangeIndex(1, len(wide) + 1, dtype="int64"),
            "submitted_at": stamps,
            **{c: wide[c].astype(str).str.strip().astype(object) for c in META_COLUMNS[1:5]},
            "version": version.astype("int64"),
        }
    )
    meta = meta.assign(**{c: meta[c].where(meta[c] != "", None) for c in ("service_code", "counter_code")})
    items = [c for c in wide.columns if c not in META_COLUMNS and c not in TEXT_COLUMNS]
    answers = wide[items].assign(response_id=meta["response_id"]).melt("response_id", var_name="item_code")
    answers = answers[answers["value"].astype(str).str.strip() != ""]
    values = pd.to_numeric(answers["value"], errors="coerce")
    bad = values.isna() | (values % 1 != 0)
    if bad.any():
        first = answers[bad].iloc[0]
        raise ValueError(
            f"data row {first['response_id']}: {first['item_code']} {first['value']!r} is not a whole number"
        )
    answers = answers.assign(value=values.astype("int64"), item_code=answers["item_code"].astype(object))
    tidy = meta.merge(answers, on="response_id")
    return tidy[TIDY_COLUMNS].sort_values(["response_id", "item_code"], ignore_index=True)


def read_agencies(path: Path | str) -> pd.DataFrame:
    """Read the agencies reference CSV (code,name,level,parent_code) into an agencies frame."""
    raw = read_table(path)
    missing = [c for c in ("code", "name", "parent_code") if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    parent = raw["parent_code"].str.strip()
    return pd.DataFrame(
        {"code": raw["code"].str.strip(), "name": raw["name"], "parent_code": parent.where(parent != "", None)},
        dtype=object,
    )
