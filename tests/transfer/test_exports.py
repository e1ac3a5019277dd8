"""Exporting a month of responses: the import's layout, local months, safe cells, bounded memory."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import delete, select

from survey import db
from survey.domain import catalog, responses
from survey.models import Agency, Answer, AnswerCount, Response, ScoreSum
from survey.transfer import exports
from tests.helpers import HEADER, QUICK_ROW, SIPAS_ROW, counts, import_file, stored, write_csv

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
INJECTIONS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx"]


def export(runner, tmp_path, month: str, fmt: str = "csv", *options: str, name: str | None = None):
    out = tmp_path / "out" / (name or f"responses.{fmt}")
    out.parent.mkdir(exist_ok=True)
    result = runner.invoke(args=["export-responses", "--month", month, "--format", fmt, "--out", str(out), *options])
    return result, out


def in_january(rows: list[tuple]) -> list[tuple]:
    """The stored rows (UTC times) of January 2026 in Hà Nội."""
    return [r for r in rows if datetime.fromisoformat(r[0]).astimezone(HANOI).strftime("%Y-%m") == "2026-01"]


def read_csv(path) -> list[dict]:
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def store(app, at: datetime, comment: str | None, agency: str = "P-HK") -> None:
    """Write one response through the web's own service."""
    with app.app_context():
        s = db.session()
        agency_id = s.scalar(select(Agency.id).where(Agency.code == agency))
        key = f"key-{int(at.timestamp()):016d}"
        sub = responses.Submission(catalog.current().get("sipas", 1), agency_id, "qr", key, {"TC1": 4}, comment,
                                   submitted_at=at)  # fmt: skip
        assert responses.record_response(s, sub) is responses.Outcome.STORED
        s.commit()


@pytest.fixture
def month_of_data(places, runner, tmp_path):
    """Responses in January 2026 of both questionnaires, and some before and after it."""
    rows = [
        {
            **SIPAS_ROW,
            "submitted_at": f"2026-01-{1 + i % 31:02d}T{8 + i % 10:02d}:05",
            "TT1": str(1 + i % 5),
            "comment": "" if i % 3 else f"Góp ý số {i}, “có dấu phẩy”\nvà xuống dòng",
        }
        for i in range(40)
    ]
    rows += [{**QUICK_ROW, "submitted_at": f"2026-01-{1 + i:02d}T10:00", "QN_PA": str(1 + i % 5)} for i in range(9)]
    rows += [{**SIPAS_ROW, "submitted_at": "2025-12-31T23:59"}, {**SIPAS_ROW, "submitted_at": "2026-02-01T00:00"}]
    result = import_file(runner, write_csv(tmp_path, rows, name="january.csv"))  # fmt: skip
    assert result.exit_code == 0, result.output
    return places


def test_csv_export_matches_what_was_stored(month_of_data, runner, tmp_path):
    result, out = export(runner, tmp_path, "2026-01")
    assert result.exit_code == 0, result.output
    assert f"Exported 49 responses of 2026-01 to {out}." in result.output
    rows = read_csv(out)
    assert list(rows[0]) == HEADER  # the items of both questionnaires present, by questionnaire id
    expected = in_january(stored(month_of_data))
    assert len(rows) == len(expected) == 49
    as_stored = []
    for r in rows:
        moment = datetime.fromisoformat(r["submitted_at"])
        assert moment.utcoffset().total_seconds() == 7 * 3600
        answers = tuple(sorted((c, int(v)) for c, v in r.items() if c in set(HEADER[7:-2]) and v))
        as_stored.append((moment.astimezone(UTC).isoformat(), r["agency_code"], r["service_code"] or None,
                          r["counter_code"] or None, r["questionnaire"], int(r["version"]), r["channel"], answers,
                          r["comment"] or None))  # fmt: skip
    assert sorted(as_stored) == expected


def test_export_reimports_into_an_empty_database(month_of_data, runner, tmp_path):
    result, out = export(runner, tmp_path, "2026-01")
    assert result.exit_code == 0, result.output
    january = in_january(stored(month_of_data))
    with month_of_data.app_context():
        s = db.session()
        for model in (Answer, Response, AnswerCount, ScoreSum):
            s.execute(delete(model))
        s.commit()
    result = import_file(runner, str(out))
    assert result.exit_code == 0, result.output
    assert "Imported 49 responses (0 already imported)" in result.output
    assert stored(month_of_data) == january


def test_month_boundaries_are_local(places, runner, tmp_path):
    rows = [{**SIPAS_ROW, "submitted_at": "2026-01-31T16:30:00+00:00"},
            {**SIPAS_ROW, "submitted_at": "2026-01-31T17:30:00+00:00"}]  # fmt: skip
    assert import_file(runner, write_csv(tmp_path, rows)).exit_code == 0
    result, out = export(runner, tmp_path, "2026-01")
    assert result.exit_code == 0, result.output
    assert [r["submitted_at"] for r in read_csv(out)] == ["2026-01-31T23:00:00+07:00"]  # to the hour
    result, out = export(runner, tmp_path, "2026-02")
    assert [r["submitted_at"] for r in read_csv(out)] == ["2026-02-01T00:00:00+07:00"]


def test_agency_subtree_and_questionnaire(places, runner, tmp_path):
    with places.app_context():
        s = db.session()
        ward = s.scalar(select(Agency).where(Agency.code == "P-HK"))
        s.add(Agency(code="HK-TDP1", name="Tổ dân phố 1", level="to_dan_pho", parent=ward))
        s.commit()
    plain = {k: v for k, v in SIPAS_ROW.items() if k not in ("service_code", "counter_code")}
    rows = [{**plain, "agency_code": code} for code in ("HN", "P-HK", "HK-TDP1", "P-BD")] + [QUICK_ROW]
    assert import_file(runner, write_csv(tmp_path, rows)).exit_code == 0

    def agencies(*options: str) -> list[str]:
        result, out = export(runner, tmp_path, "2026-01", "csv", *options)
        assert result.exit_code == 0, result.output
        return sorted(r["agency_code"] for r in read_csv(out))

    assert agencies() == ["HK-TDP1", "HN", "P-BD", "P-BD", "P-HK"]
    assert agencies("--agency", "HN") == ["HK-TDP1", "HN", "P-BD", "P-BD", "P-HK"]
    assert agencies("--agency", "P-HK") == ["HK-TDP1", "P-HK"]
    assert agencies("--agency", "P-BD", "--questionnaire", "sipas") == ["P-BD"]
    result, out = export(runner, tmp_path, "2026-01", "csv", "--questionnaire", "quay-nhanh")
    assert list(read_csv(out)[0]) == [
        *HEADER[:7],
        "QN_TC",
        "QN_TT",
        "QN_CC",
        "QN_KQ",
        "QN_PA",
        "comment",
        "submission_key",
    ]


@pytest.fixture
def injections(places):
    for minute, comment in enumerate(INJECTIONS):
        store(places, datetime(2026, 1, 10, 3, minute, tzinfo=UTC), comment)
    return places


def test_csv_cells_cannot_be_formulas(injections, runner, tmp_path):
    result, out = export(runner, tmp_path, "2026-01", "csv")
    assert result.exit_code == 0, result.output
    assert [r["comment"] for r in read_csv(out)] == ["'" + c for c in INJECTIONS]


def test_xlsx_opens_and_its_cells_cannot_be_formulas(injections, runner, tmp_path):
    result, out = export(runner, tmp_path, "2026-01", "xlsx")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    sheet = book.worksheets[0]
    assert sheet.title == "Khảo sát tại quầy"
    header = [c.value for c in sheet[1]]
    assert header[:7] == HEADER[:7] and header[-2:] == ["comment", "submission_key"]
    comments = [row[-2] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in comments] == ["'" + c for c in INJECTIONS]
    assert {c.data_type for c in comments} == {"s"}
    first = [c.value for c in sheet[2]]
    assert first[:7] == ["2026-01-10T10:00:00+07:00", "P-HK", None, None, "sipas", "1", "qr"]
    assert first[header.index("TC1")] == 4 and first[header.index("TC2")] is None
    book.close()


def test_parquet_keeps_text_as_text_and_items_as_nullable_integers(injections, runner, tmp_path):
    result, out = export(runner, tmp_path, "2026-01", "parquet")
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names[:7] == HEADER[:7] and table.column_names[-2:] == ["comment", "submission_key"]
    assert table.schema.field("TC1").type == pa.int32() and table.schema.field("TC1").nullable
    assert table.schema.field("version").type == pa.string()
    assert table.column("comment").to_pylist() == INJECTIONS
    assert table.column("TC1").to_pylist() == [4] * 5 and table.column("TC2").null_count == 5
    assert table.column("service_code").null_count == 5  # nothing recorded is null, not ""
    assert pq.read_metadata(out).metadata[b"title"].decode() == "Khảo sát tại quầy"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_empty_month_gives_a_file_with_a_header(places, runner, tmp_path, fmt):
    result, out = export(runner, tmp_path, "2026-05", fmt)
    assert result.exit_code == 0, result.output
    assert f"Exported 0 responses of 2026-05 to {out}." in result.output
    assert out.exists()


@pytest.mark.parametrize("options, code, message", [
    (["--month", "2026-13"], 2, "month must be written YYYY-MM"),
    (["--month", "janvier"], 2, "month must be written YYYY-MM"),
    (["--month", "2026-01", "--agency", "P-XX"], 1, "no agency 'P-XX' in the database"),
    (["--month", "2026-01", "--questionnaire", "sipas-2030"], 1, "unknown questionnaire 'sipas-2030'"),
    (["--month", "2026-01", "--format", "ods"], 2, "'ods' is not one of"),
])  # fmt: skip
def test_bad_options_leave_no_file(month_of_data, runner, tmp_path, options, code, message):
    out = tmp_path / "out" / "responses.csv"
    out.parent.mkdir()
    args = ["export-responses", "--format", "csv", "--out", str(out), *options]
    result = runner.invoke(args=args)
    assert result.exit_code == code
    assert message in result.output
    assert list(out.parent.iterdir()) == []


def test_missing_folder_is_a_clear_error(places, runner, tmp_path):
    out = tmp_path / "nowhere" / "responses.csv"
    result = runner.invoke(args=["export-responses", "--month", "2026-01", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 1
    assert "no such folder" in result.output


def test_failure_midway_keeps_the_previous_file(month_of_data, runner, tmp_path, monkeypatch):
    def broken(session, selection, layout):
        yield [["half"] * len(layout.columns)]
        raise RuntimeError("connection lost")

    out = tmp_path / "out" / "responses.csv"
    out.parent.mkdir()
    out.write_text("last month's file")
    monkeypatch.setattr(exports, "export_rows", broken)
    result = runner.invoke(args=["export-responses", "--month", "2026-01", "--format", "csv", "--out", str(out)])
    assert result.exit_code != 0
    assert list(out.parent.iterdir()) == [out] and out.read_text() == "last month's file"


def bulk_rows(month: str, count: int) -> list[dict]:
    return [{**SIPAS_ROW, "submitted_at": f"{month}-{1 + i % 28:02d}T{8 + i % 9:02d}:{i % 60:02d}",
             "TC2": str(1 + i % 5), "TT4": str(1 + i * 3 % 5), "KQ1": str(1 + i % 4), "PA2": str(2 + i % 4),
             "comment": "Thủ tục nhanh, cán bộ nhiệt tình" if i % 4 == 0 else ""} for i in range(count)]  # fmt: skip


def export_peak(runner, tmp_path, month: str, fmt: str) -> int:
    tracemalloc.start()
    try:
        result, _ = export(runner, tmp_path, month, fmt, name=f"{month}.{fmt}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    return peak


def test_memory_does_not_grow_with_the_number_of_responses(places, runner, tmp_path):
    # Both months fill their chunks: a chunk's rows are still held while the next one is read, so a
    # month whose last chunk is short would peak lower for that reason alone.
    path = write_csv(tmp_path, bulk_rows("2026-03", 2_000) + bulk_rows("2026-04", 6_000))
    result = import_file(runner, path)
    assert result.exit_code == 0, result.output
    assert counts(places)["responses"] == 8_000
    peaks = {}
    for fmt in ("csv", "xlsx", "parquet"):
        export(runner, tmp_path, "2026-03", fmt, name=f"warm-up.{fmt}")  # caches of SQLAlchemy and the writers
        peaks[fmt] = export_peak(runner, tmp_path, "2026-03", fmt), export_peak(runner, tmp_path, "2026-04", fmt)
    assert all(large <= 1.2 * small for small, large in peaks.values()), peaks
    assert pq.read_metadata(tmp_path / "out" / "2026-04.parquet").num_row_groups == 6  # one per chunk


def test_every_format_the_command_offers_has_a_writer():
    from survey.transfer.exports import SINKS
    from survey.transfer.layout import FORMATS

    assert tuple(SINKS) == FORMATS
