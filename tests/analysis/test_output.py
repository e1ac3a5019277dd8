import csv
import io

import pandas as pd
from openpyxl import load_workbook

from analysis.counting import count_answers
from analysis.indices import CSV_COLUMNS, monthly_table
from analysis.output import report_notes, safe_cell, write_csv, write_xlsx
from analysis.targets import read_targets
from tests.analysis.helpers import JANUARY, agencies, mini_catalog, tidy


def sample_table():
    catalog = mini_catalog()
    counts, scores = count_answers(tidy(JANUARY), catalog)
    hostile = agencies().assign(name=["=cmd|' /C calc'!A0", "+Phường Một", "@Phường Hai"])
    return monthly_table(counts, scores, catalog, hostile, read_targets(), "2026-01", previous_counts=counts)


def test_safe_cell():
    assert [safe_cell(v) for v in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
    ]
    assert [safe_cell(v) for v in ["Hà Nội", "", -1, 2.5, None]] == ["Hà Nội", "", -1, 2.5, None]


def test_csv_has_bom_exact_columns_and_blanks(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(sample_table(), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [*CSV_COLUMNS, "status_86", "status_90"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["agency_code"], first["level"], first["n_satisfied"]) == ("ALL", "overall", "")
    assert (first["pct_satisfied"], first["ci_low"], first["ci_high"]) == ("68.75", "38.58", "88.51")
    criterion = next(dict(zip(rows[0], r, strict=True)) for r in rows if r[7] == "A1")
    assert (criterion["n_satisfied"], criterion["pct_satisfied"]) == ("3", "75.00")
    priority = next(dict(zip(rows[0], r, strict=True)) for r in rows if r[7] == "UT1")
    assert priority["status_86"] == ""
    names = {r[4] for r in rows[1:]}
    assert names == {"Tất cả cơ quan", "'=cmd|' /C calc'!A0", "'+Phường Một", "'@Phường Hai"}


def test_xlsx_sheets_formats_and_notes(tmp_path):
    table = sample_table()
    path = tmp_path / "out.xlsx"
    write_xlsx(table, path, report_notes(table, mini_catalog(), read_targets(), "2026-01"))
    book = load_workbook(path)
    assert book.sheetnames == ["Ghi chú", "overall", "element", "criterion", "priority"]
    overall = book["overall"]
    header = [c.value for c in overall[1]]
    assert header[:16] == [*CSV_COLUMNS, "status_86", "status_90"]
    assert overall["A1"].font.bold and overall.freeze_panes == "F2"
    assert overall.max_row == 1 + 4  # ALL, HN, W1, W2
    pct = overall.cell(row=2, column=header.index("pct_satisfied") + 1)
    assert pct.value == 68.75 and pct.number_format == "0.00"
    assert {overall.cell(row=r, column=5).value for r in range(2, 6)} >= {"'=cmd|' /C calc'!A0", "'+Phường Một"}
    assert "status_86" not in [c.value for c in book["priority"][1]]
    notes = "\n".join(str(c.value) for row in book["Ghi chú"].iter_rows() for c in row if c.value)
    for text in (
        "Khảo sát tại quầy",
        "không phải Chỉ số",
        "2026-01",
        "mini, phiên bản 1",
        "399/QĐ-UBND",
        "190/KH-UBND",
    ):
        assert text in notes


def test_empty_table_writes_headers_only(tmp_path):
    empty = monthly_table(*count_answers(tidy([]), mini_catalog()), mini_catalog(), agencies(), None, "2026-01")
    write_csv(empty, tmp_path / "e.csv")
    assert (tmp_path / "e.csv").read_text(encoding="utf-8-sig").strip() == ",".join(CSV_COLUMNS)
    write_xlsx(empty, tmp_path / "e.xlsx", {"period": "2026-01"})
    assert load_workbook(tmp_path / "e.xlsx")["criterion"].max_row == 1
    pd.testing.assert_frame_equal(empty, empty.copy())
