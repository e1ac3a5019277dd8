"""Bugs the fuzz found (B1…B10), fixed: each test pins what should happen. Server errors are answered as the
500 page instead of propagating, so that a regression reads as a status."""

from __future__ import annotations

import gc
import io
import os
import warnings
import zipfile

import openpyxl
import pytest

from tests.fuzz.citizen_form import BOUNDARY, MULTIPART, UNEXPECTED, multipart
from tests.fuzz.common import API_PATH, BOTH_BACKENDS, rows
from tests.helpers import hidden_fields, make_key


def only_on_postgresql(bug: str) -> pytest.MarkDecorator:
    """Run on both backends (the bug showed on PostgreSQL); the name keeps the record of where."""
    return pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def server_errors_as_pages(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def statuses(client, requests: dict) -> dict:
    """The status of each request (name: (method, path, keyword arguments of client.open))."""
    return {
        name: client.open(path, method=method, **kwargs).status_code
        for name, (method, path, kwargs) in requests.items()
    }


# Regression, found by the fuzz: B1: hmac.compare_digest refuses a str with non-ASCII characters: TypeError, 500
# instead of 404
def test_regression_non_ascii_signature(server_errors_as_pages, client, counter_path):
    path = counter_path.split("?s=")[0] + "?s=%C3%A9"
    assert statuses(client, {"GET": ("GET", path, {}), "POST": ("POST", path, {"data": {}})}) == {
        "GET": 404,
        "POST": 404,
    }


# Regression, found by the fuzz: B2: forms.SUBMISSION_KEY ends in '$', which also matches before a final newline: the
# key is stored (SQLite) or overflows VARCHAR(64) (PostgreSQL: DataError, 500)
@BOTH_BACKENDS
def test_regression_submission_key_with_a_trailing_newline(server_errors_as_pages, client, counter_path):
    app, before = server_errors_as_pages, rows(server_errors_as_pages)
    found = {}
    for length in (16, 64):
        data = {**hidden_fields(client.get(counter_path).text), "TC1": "4", "submission_key": "k" * length + "\n"}
        found[length] = client.post(counter_path, data=data).status_code
    assert found == {16: 422, 64: 422}
    assert rows(app) == before


@only_on_postgresql(
    "B3: the token of /t/<token>, and the submission key of a retry on a used link, are looked up "
    "as they come: psycopg refuses NUL in a parameter (DataError, 500 instead of 404/410)"
)
def test_regression_nul_in_a_one_time_link(server_errors_as_pages, client, tokens):
    found = statuses(
        client,
        {
            "GET": ("GET", "/t/abc%00def", {}),
            "POST": ("POST", "/t/abc%00def", {"data": {}}),
            "retry": ("POST", f"/t/{tokens['used']}", {"data": {"submission_key": "a\x00b", "DG1": "1"}}),
        },
    )
    assert found == {"GET": 404, "POST": 404, "retry": 410}


@only_on_postgresql(
    "B4: counter_code and service_code are looked up as they come: psycopg refuses NUL in a "
    "parameter (DataError, 500 instead of 422)"
)
def test_regression_nul_in_api_codes(app, client, counter):
    headers = {"Authorization": f"Bearer {make_key(app)}"}
    found = [
        client.post(API_PATH, json=body, headers=headers).status_code
        for body in ({"counter_code": "HK\x0001"}, {"counter_code": "HK-01", "service_code": "K\x00S"})
    ]
    assert found == [422, 422]
    assert rows(app)["interactions"] == 0


# Regression, found by the fuzz: B5: the patterns of openapi.SCHEMAS end in '$', which jsonschema's re.search also
# matches before a final newline: the values are stored (201), and a 33-character channel overflows VARCHAR(32) on
# PostgreSQL (500)
@BOTH_BACKENDS
def test_regression_trailing_newline_passes_the_api_patterns(app, client, counter):
    headers = {"Authorization": f"Bearer {make_key(app)}"}
    bodies = [
        {"counter_code": "HK-01", "channel": "kiosk\n"},
        {"counter_code": "HK-01", "channel": "a" * 32 + "\n"},
        {"counter_code": "HK-01", "event": "result\n", "dossier_code": "D-1"},
        {"counter_code": "HK-01", "dossier_code": "D-1\n"},
    ]
    assert [client.post(API_PATH, json=body, headers=headers).status_code for body in bodies] == [422] * 4
    assert rows(app)["interactions"] == 0


# Regression, found by the fuzz: B7: json.loads keeps lone surrogates (\\ud800 escapes, or the bytes ED A0 80 it reads
# with 'surrogatepass'); encoding them for the database or for the keyed hash fails: UnicodeEncodeError, 500
def test_regression_lone_surrogates_in_api_json(app, client, counter):
    headers = {"Authorization": f"Bearer {make_key(app)}"}
    bodies = [
        b'{"counter_code": "\\ud800"}',
        b'{"counter_code": "HK-01", "service_code": "\\udfff"}',
        b'{"counter_code": "HK-01", "dossier_code": "D-\\ud800"}',
        b'{"counter_code": "HK\xed\xa0\x8001"}',
    ]
    found = [
        client.post(API_PATH, data=body, content_type="application/json", headers=headers).status_code
        for body in bodies
    ]
    assert all(status in (400, 422) for status in found), found
    assert rows(app)["interactions"] == 0


# Regression, found by the fuzz: B8: a blank of whitespace passes validation (Optional() strips it) but
# ScaleField.answer and ChoiceField.answer call int(' '): ValueError, 500
def test_regression_whitespace_answer(server_errors_as_pages, client, counter_path):
    found = [
        client.post(counter_path, data={**hidden_fields(client.get(counter_path).text), **answers}).status_code
        for answers in ({"TC1": "4", "TC2": " "}, {"TC1": "4", "BG_AGE": "\t"}, {"TC1": " "})
    ]
    assert all(status in (303, 422) for status in found), found


# Regression, found by the fuzz: B10: the form checks the fields of request.form only: a multipart file part (an
# unknown field all the same) is ignored and the response stored (303)
def test_regression_unknown_file_part_is_ignored(app, client, counter_path):
    fields = [*hidden_fields(client.get(counter_path).text).items(), ("TC1", "4")]
    body = (
        multipart(fields)[: -len(f"--{BOUNDARY}--\r\n")]
        + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; filename="x.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
        ).encode()
    )
    reply = client.post(counter_path, data=body, content_type=MULTIPART)
    assert reply.status_code == 422 and UNEXPECTED in reply.text
    assert rows(app)["responses"] == 0


def xlsx_bytes(header: list, rows_: list[list]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows_:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite_sheet(data: bytes, change) -> bytes:
    """The workbook with its sheet's XML changed, stored again (so the zip itself is sound)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = zin.read(info.filename)
            zout.writestr(info.filename, change(content) if info.filename == "xl/worksheets/sheet1.xml" else content)
    return out.getvalue()


def corrupt_sheet_stream(data: bytes) -> bytes:
    """Flip the first bits of the sheet's deflate stream (its block header): no valid stream starts that way."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    name_length, extra_length = (
        int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"),
        int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little"),
    )
    start = info.header_offset + 30 + name_length + extra_length
    return data[:start] + bytes([data[start] ^ 0x07]) + data[start + 1 :]


def import_and_collect(runner, path, check=lambda: None) -> tuple[int, type | None, str, str]:
    """Run the import; the workbooks B6 and B9 leave open are collected here (their ResourceWarning ignored), not
    in whichever test the collector next runs in. check() runs first, while the result is alive."""
    result = runner.invoke(args=["import-responses", str(path)])
    check()
    outcome = result.exit_code, type(result.exception), repr(result.exception), result.output
    del result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.enable()
        gc.collect()
    return outcome


VALID_XLSX_ROW = ["2025-01-15T09:00", "P-HK", "sipas", 1, 5]
VALID_XLSX = (["submitted_at", "agency_code", "questionnaire", "version", "TC1"], [VALID_XLSX_ROW])


# Regression, found by the fuzz: B6: zlib.error, xml ParseError (and NotImplementedError for an unknown compression)
# from openpyxl are caught neither in open_source nor while reading rows: a traceback instead of a readable error
def test_regression_unreadable_xlsx_is_a_traceback(places, runner, tmp_path):
    files = {
        "deflate": corrupt_sheet_stream(xlsx_bytes(*VALID_XLSX)),
        "xml at load": rewrite_sheet(xlsx_bytes(*VALID_XLSX), lambda xml: xml[:200]),
        # rows are read, checked and written in a batch before the broken end is reached
        "xml after a batch": rewrite_sheet(xlsx_bytes(VALID_XLSX[0], [VALID_XLSX_ROW] * 600), lambda xml: xml[:-60]),
    }
    before, found = rows(places), {}
    for name, data in files.items():
        path = tmp_path / f"{name.replace(' ', '-')}.xlsx"
        path.write_bytes(data)
        exit_code, exception, description, output = import_and_collect(runner, path)
        found[name] = "clean" if exception is SystemExit and "readable" in output else description
    assert rows(places) == before
    assert found == dict.fromkeys(files, "clean")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads the open files in /proc/self/fd")
# Regression, found by the fuzz: B9: a workbook whose import stops early stays open until the garbage collector runs
# (a ResourceWarning): open_source closes the book but not the rows generator, and openpyxl keeps its archive open
# when load_workbook fails
def test_regression_failed_xlsx_import_leaves_the_file_open(places, runner, tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(*VALID_XLSX))) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename != "xl/workbook.xml":
                zout.writestr(info, zin.read(info))
    files = {
        "bad header": xlsx_bytes(["submitted_at", "agency_code", "questionnaire", "zz"], [VALID_XLSX_ROW[:4]]),
        "no workbook part": out.getvalue(),
    }
    found = {}
    for name, data in files.items():
        path = tmp_path / f"{name.replace(' ', '-')}.xlsx"
        path.write_bytes(data)

        def look(path=path, name=name) -> None:
            found[name] = sum(
                os.path.realpath(f"/proc/self/fd/{fd}") == str(path) for fd in os.listdir("/proc/self/fd")
            )

        gc.disable()  # without the collector, only what the import closes itself is closed
        try:
            exit_code, _, _, output = import_and_collect(runner, path, look)
        finally:
            gc.enable()
        assert exit_code == 1 and "Error: " in output
    assert found == dict.fromkeys(files, 0), "files still open after the import"
