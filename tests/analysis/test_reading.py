import importlib.util

import pandas as pd
import pytest

from analysis.reading import parse_timestamps, read_agencies, read_table, wide_to_tidy


def test_timestamps_with_offset_or_local():
    text = pd.Series(["2026-01-31T23:30:00+07:00", "2026-01-31 23:30", "2026-01-31T16:30:00Z", "bad"])
    parsed = parse_timestamps(text)
    assert list(parsed[:3]) == [pd.Timestamp("2026-01-31T16:30Z")] * 3  # naive text is Hà Nội time
    assert pd.isna(parsed[3])


def test_wide_to_tidy():
    wide = pd.DataFrame(
        {
            "submitted_at": ["2026-01-05T09:00+07:00", "2026-01-06 09:00"],
            "agency_code": ["W1", "W2"],
            "service_code": ["S1", ""],
            "questionnaire": ["mini", "mini"],
            "version": ["1", "1"],
            "A1": ["5", ""],
            "B1": ["", "4"],
            "comment": ["=1+1", ""],
        },
        dtype=object,
    )
    tidy = wide_to_tidy(wide)
    assert list(zip(tidy["response_id"], tidy["item_code"], tidy["value"], strict=True)) == [(1, "A1", 5), (2, "B1", 4)]
    assert tidy["service_code"].tolist() == ["S1", None]
    assert tidy["submitted_at"].tolist() == [pd.Timestamp("2026-01-05T02:00Z"), pd.Timestamp("2026-01-06T02:00Z")]
    with pytest.raises(ValueError, match="data row 2: A1 'x' is not a whole number"):
        wide_to_tidy(wide.assign(A1=["5", "x"]))
    with pytest.raises(ValueError, match="missing column"):
        wide_to_tidy(wide.drop(columns="agency_code"))


def test_read_files(tmp_path):
    (tmp_path / "a.csv").write_bytes("\ufeffcode,name,level,parent_code\nHN,Hà Nội,tp,\nW1,Phường,phuong,HN\n".encode())
    agencies = read_agencies(tmp_path / "a.csv")
    assert agencies.to_dict("list") == {"code": ["HN", "W1"], "name": ["Hà Nội", "Phường"], "parent_code": [None, "HN"]}
    with pytest.raises(ValueError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    if importlib.util.find_spec("pyarrow") is None:
        (tmp_path / "x.parquet").write_bytes(b"PAR1")
        with pytest.raises(ValueError, match="needs the pyarrow package"):
            read_table(tmp_path / "x.parquet")
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(ValueError, match="unsupported"):
        read_table(tmp_path / "a.json")


def test_xlsx_export_with_date_cells(tmp_path):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["submitted_at", "agency_code", "service_code", "questionnaire", "version", "A1", "B1"])
    book.active.append([datetime(2026, 1, 31, 23, 30), "W1", None, "mini", 1, 5, None])  # a date cell: local time
    book.active.append(["2026-01-05T09:00:00+07:00", "W2", "S1", "mini", 1, 4.0, 2])
    book.save(tmp_path / "r.xlsx")
    tidy = wide_to_tidy(read_table(tmp_path / "r.xlsx"))
    assert tidy[["response_id", "item_code", "value"]].values.tolist() == [[1, "A1", 5], [2, "A1", 4], [2, "B1", 2]]
    assert tidy["submitted_at"][0] == pd.Timestamp("2026-01-31T16:30Z")


def test_parquet_export(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(
        {
            "submitted_at": pd.to_datetime(["2026-01-31T16:30Z", "2026-01-10T01:00Z"], utc=True),
            "agency_code": ["W1", "W2"],
            "service_code": [None, "S1"],
            "questionnaire": ["mini", "mini"],
            "version": [1, 1],
            "A1": [5.0, float("nan")],
            "B1": [float("nan"), 2.0],
        }
    )
    frame.to_parquet(tmp_path / "r.parquet")
    tidy = wide_to_tidy(read_table(tmp_path / "r.parquet"))
    assert tidy[["response_id", "item_code", "value"]].values.tolist() == [[1, "A1", 5], [2, "B1", 2]]
    assert tidy["submitted_at"].tolist() == frame["submitted_at"].tolist()
    assert tidy["service_code"].tolist() == [None, "S1"]
