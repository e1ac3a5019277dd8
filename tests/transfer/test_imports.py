"""Importing responses from CSV and XLSX files: every row or none, each bad row reported, nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import select

from survey import db
from survey.models import Response
from tests.helpers import HEADER, ITEMS, QUICK_ROW, SIPAS_ROW, counts, csv_text, import_file, rollups, stored, write_csv

EXPECTED = [
    ("2026-01-15T02:00:00+00:00", "P-HK", "KS", "HK-01", "sipas", 1, "paper",
     (("BG_AGE", 2), ("CC1", 2), ("TC1", 5), ("TC3", 4), ("UT1", 3)), "Rất tốt, cảm ơn"),
    ("2026-01-16T07:00:00+00:00", "P-BD", None, None, "quay-nhanh", 1, "kiosk", (("QN_CC", 5), ("QN_TC", 3)), None),
]  # fmt: skip


@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
def test_csv_with_mixed_questionnaires(places, runner, tmp_path, bom):
    path = write_csv(tmp_path, [SIPAS_ROW, QUICK_ROW], bom=bom)
    result = import_file(runner, path)
    assert result.exit_code == 0, result.output
    assert f"Imported 2 responses (0 already imported) from {path}." in result.output
    assert stored(places) == EXPECTED
    assert counts(places)["answers"] == 5 + 1 + 2


def test_xlsx(places, runner, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER + [None, None])  # empty cells after the last column are ignored
    for row in (SIPAS_ROW, QUICK_ROW):
        values = [row.get(c) for c in HEADER]
        values[HEADER.index("version")] = 1  # numbers as a spreadsheet holds them
        for code in ITEMS:
            if row.get(code):
                values[HEADER.index(code)] = float(row[code]) if code == "TC1" else int(row[code])
        sheet.append(values)
    sheet.append([])  # blank rows are skipped
    sheet["A2"] = datetime(2026, 1, 15, 9, 0)  # a spreadsheet date has no zone: local time
    path = tmp_path / "responses.xlsx"
    book.save(path)
    result = import_file(runner, str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 2 responses (0 already imported)" in result.output
    assert stored(places) == EXPECTED


@pytest.mark.parametrize("text, utc", [  # stored to the local hour
    ("2026-01-31T23:30", "2026-01-31T16:00:00+00:00"),  # naive: Hà Nội time
    ("2026-01-31 23:30:15", "2026-01-31T16:00:00+00:00"),
    ("2026-01-31T23:30:00+00:00", "2026-01-31T23:00:00+00:00"),
    ("2026-01-31T23:30Z", "2026-01-31T23:00:00+00:00"),
    ("2026-02-01T00:10+07:00", "2026-01-31T17:00:00+00:00"),
    ("2026-01-31T20:00-05:00", "2026-02-01T01:00:00+00:00"),
])  # fmt: skip
def test_times_are_local_unless_they_have_an_offset(places, runner, tmp_path, text, utc):
    result = import_file(runner, write_csv(tmp_path, [{**SIPAS_ROW, "submitted_at": text}]))
    assert result.exit_code == 0, result.output
    assert stored(places)[0][0] == utc


BAD_ROWS = [
    ({"agency_code": "P-XX"}, "agency_code: no agency 'P-XX' in the database"),
    ({"agency_code": ""}, "agency_code: is empty"),
    ({"service_code": "NOPE"}, "service_code: no service 'NOPE' in the database"),
    ({"counter_code": "XX-01"}, "counter_code: no counter 'XX-01' in the database"),
    ({"counter_code": "BD-01"}, "counter_code: counter 'BD-01' belongs to agency 'P-BD', not 'P-HK'"),
    ({"questionnaire": "sipas-2030"}, "questionnaire: unknown questionnaire 'sipas-2030' (quay-nhanh, sipas, tt01)"),
    ({"version": "7"}, "version: sipas has no version 7 (versions: 1)"),
    ({"version": "v1"}, "version: 'v1' is not a version number"),
    ({"TC3": "6"}, "TC3: 6 is not a value of the satisfaction scale (1–5)"),
    ({"TC3": "4.5"}, "TC3: 4.5 is not a value of the satisfaction scale (1–5)"),
    ({"UT1": "4"}, "UT1: 4 is not a value of the priority scale (1–3)"),
    ({"BG_AGE": "x"}, "BG_AGE: x is not a value of the bg_age scale (1–5)"),
    ({"QN_TC": "4"}, "QN_TC: not an item of sipas v1; leave it blank"),
    ({"TC1": "", "TC3": "", "CC1": ""}, "answers: no criterion of sipas v1 is answered"),
    ({"comment": "x" * 1001}, "comment: longer than 1000 characters"),
    ({"comment": "a\x1bb"}, "comment: contains control characters"),
    ({"submitted_at": "2030-01-01T08:00"}, "submitted_at: 2030-01-01T08:00 is in the future"),
    ({"submitted_at": "15/01/2026 09:00"}, "submitted_at: '15/01/2026 09:00' is not an ISO 8601 date and time"),
    ({"submitted_at": ""}, "submitted_at: is empty"),
    ({"channel": "Giấy"}, "channel: 'Giấy' is not a short lowercase word"),
]


@pytest.mark.parametrize("change, message", BAD_ROWS, ids=[m.split(":")[0] + str(i) for i, (_, m) in
                                                           enumerate(BAD_ROWS)])  # fmt: skip
def test_bad_row_is_reported_with_line_and_column(places, runner, tmp_path, change, message):
    before = counts(places)
    result = import_file(runner, write_csv(tmp_path, [SIPAS_ROW, QUICK_ROW, {**SIPAS_ROW, **change}]))
    assert result.exit_code == 1
    assert f"line 4: {message}" in result.output
    assert "1 error(s) in" in result.output and "nothing was imported" in result.output
    assert "Traceback" not in result.output
    assert counts(places) == before


def test_every_bad_row_is_reported_and_nothing_written(places, runner, tmp_path):
    good = [SIPAS_ROW, QUICK_ROW] * 300  # more than a batch: the good rows before the bad ones are not kept
    bad = [{**SIPAS_ROW, "TC3": "6"}, {**QUICK_ROW, "agency_code": "P-XX", "TC1": "3"}, {}]
    before = counts(places)
    result = import_file(runner, write_csv(tmp_path, good + bad + good))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert lines == [
        "line 602: TC3: 6 is not a value of the satisfaction scale (1–5)",
        "line 603: agency_code: no agency 'P-XX' in the database",
        "line 603: TC1: not an item of quay-nhanh v1; leave it blank",
    ]  # the empty row 604 is skipped
    assert counts(places) == before


def test_many_bad_rows_are_counted_but_not_all_shown(places, runner, tmp_path):
    result = import_file(runner, write_csv(tmp_path, [{**SIPAS_ROW, "TC3": "9"}] * 250))
    assert result.exit_code == 1
    assert len([line for line in result.output.splitlines() if line.startswith("line ")]) == 200
    assert "250 error(s) in" in result.output and "(the first 200 shown)" in result.output


def test_wrong_number_of_fields(places, runner, tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text(csv_text([SIPAS_ROW]) + "2026-01-15T09:00,P-HK\n" + csv_text([SIPAS_ROW]).split("\n")[1] + ",x\n")
    result = import_file(runner, str(path))
    assert result.exit_code == 1
    assert f"line 3: row: 2 fields, expected {len(HEADER)}" in result.output
    assert f"line 4: row: {len(HEADER) + 1} fields, expected {len(HEADER)}" in result.output


@pytest.mark.parametrize("header, reason", [
    (HEADER + ["ZZ9"], "unknown column(s) ZZ9"),
    ([c for c in HEADER if c != "version"], "missing version"),
    (HEADER + ["TC1"], "repeated TC1"),
    (["agency_code", "questionnaire", "TC1", "ghi_chu"], "missing submitted_at, version; unknown column(s) ghi_chu"),
])  # fmt: skip
def test_wrong_header_is_an_error_on_line_one(places, runner, tmp_path, header, reason):
    result = import_file(runner, write_csv(tmp_path, [SIPAS_ROW], header=header))
    assert result.exit_code == 1
    assert f"line 1: header: {reason}" in result.output
    assert counts(places)["responses"] == 0


def test_optional_columns_may_be_left_out(places, runner, tmp_path):
    header = ["submitted_at", "agency_code", "questionnaire", "version", "QN_TC"]
    result = import_file(runner, write_csv(tmp_path, [QUICK_ROW], header=header))
    assert result.exit_code == 0, result.output
    assert stored(places)[0][3:] == (None, "quay-nhanh", 1, "paper", (("QN_TC", 3),), None)


@pytest.mark.parametrize("name, content, message", [
    ("nowhere.csv", None, "nowhere.csv: no such file"),
    ("latin.csv", "submitted_at\nHà\n".encode("latin-1"), "not UTF-8 (invalid byte at offset 14)"),
    ("responses.txt", b"x", "not a .csv or .xlsx file"),
    ("broken.xlsx", b"not a zip", "not a readable .xlsx workbook"),
    ("empty.csv", b"", "line 1: header: the file is empty"),
])  # fmt: skip
def test_unreadable_file_is_a_clear_error(places, runner, tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    result = import_file(runner, str(tmp_path / name))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_dry_run_writes_nothing(places, runner, tmp_path):
    path = write_csv(tmp_path, [SIPAS_ROW, QUICK_ROW])
    result = import_file(runner, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: 2 responses would be imported (0 already imported)" in result.output
    assert "nothing was written" in result.output
    assert counts(places) == {"responses": 0, "answers": 0, "answer_counts": 0, "score_sums": 0}
    assert import_file(runner, path).exit_code == 0
    result = import_file(runner, path, "--dry-run")
    assert "Dry run: 0 responses would be imported (2 already imported)" in result.output


def test_dry_run_reports_errors_too(places, runner, tmp_path):
    result = import_file(runner, write_csv(tmp_path, [{**SIPAS_ROW, "TC3": "6"}]), "--dry-run")
    assert result.exit_code == 1
    assert "line 2: TC3: 6 is not a value" in result.output


def test_reimporting_the_same_file_imports_nothing(places, runner, tmp_path):
    path = write_csv(tmp_path, [SIPAS_ROW, QUICK_ROW, SIPAS_ROW])  # identical rows are distinct responses
    assert "Imported 3 responses (0 already imported)" in import_file(runner, path).output
    before = (counts(places), rollups(places))
    result = import_file(runner, path)
    assert result.exit_code == 0, result.output
    assert f"Imported 0 responses (3 already imported) from {path}." in result.output
    assert (counts(places), rollups(places)) == before
    # The same rows in another file are other responses (a second batch of paper forms).
    other = write_csv(tmp_path, [SIPAS_ROW], name="other.csv")
    assert "Imported 1 responses (0 already imported)" in import_file(runner, other).output


def test_rollups_after_import_equal_a_rebuild(places, runner, tmp_path):
    rows = [
        {
            **SIPAS_ROW,
            "submitted_at": f"2026-0{1 + i % 3}-{1 + i % 28:02d}T{8 + i % 9:02d}:15",
            "TC1": str(1 + i % 5),
            "TT2": str(1 + i * 7 % 5),
            "UT3": str(1 + i % 3),
        }
        for i in range(700)
    ]
    rows += [{**QUICK_ROW, "QN_KQ": str(1 + i % 5)} for i in range(40)]  # fmt: skip
    result = import_file(runner, write_csv(tmp_path, rows))
    assert result.exit_code == 0, result.output
    imported = rollups(places)
    assert imported["answer_counts"] and imported["score_sums"]
    assert runner.invoke(args=["rollup", "rebuild"]).exit_code == 0
    assert rollups(places) == imported


def test_imported_times_are_aware_utc(places, runner, tmp_path):
    assert import_file(runner, write_csv(tmp_path, [SIPAS_ROW])).exit_code == 0
    with places.app_context():
        moment = db.session().scalar(select(Response.submitted_at))
    assert moment == datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
