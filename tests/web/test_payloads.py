"""Hostile text (script and spreadsheet-formula payloads) is shown escaped on every page and
neutralised in every export: a comment from a citizen, an agency name typed by an administrator."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey import db
from survey.domain import accounts, signing
from survey.models import Answer, Counter
from survey.transfer.demo import seed_demo
from tests.helpers import PASSWORD, hidden_fields, login, post_form

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
NAME = f'=HYPERLINK("http://evil.example","x"){SCRIPT}'
COMMENT = f"=1+2 {SCRIPT}"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
QUERY = "?month=2026-10&questionnaire=sipas&agency=HN"


@pytest.fixture
def hostile(app):
    """The demo city, an agency renamed with a payload through the administration, a payload comment."""
    with app.app_context():
        s = db.session()
        seed_demo(s, months=2, per_month=60, seed=7, now=NOW)
        accounts.create_user(s, "admin@hanoi.gov.vn", "admin", PASSWORD)
        s.commit()
        counter = s.scalar(select(Counter).where(Counter.agency.has(code="P-HK")).order_by(Counter.code))
        path = signing.counter_url(counter.code).removeprefix(app.config["BASE_URL"])
    admin = app.test_client()
    assert login(admin, "admin@hanoi.gov.vn").status_code == 303
    renamed = post_form(
        admin,
        "/admin/agencies/P-HK/edit",
        {"code": "P-HK", "name": NAME, "level": "phuong", "parent_code": "HN", "questionnaire": "", "active": "y"},
    )
    assert renamed.status_code == 303, renamed.text
    citizen = app.test_client()
    sent = citizen.post(path, data={**hidden_fields(citizen.get(path).text), "TC1": "5", "comment": COMMENT})
    assert sent.status_code == 303
    with app.app_context():
        assert COMMENT in db.session().scalars(select(Answer.text).where(Answer.item_code == "COMMENT")).all()
    return app, admin, citizen, path, counter.code


def assert_escaped(html: str, where: str) -> None:
    assert SCRIPT not in html, f"raw script in {where}"


def test_pages_show_payloads_as_text(hostile):
    app, admin, citizen, path, counter_code = hostile
    pages = {
        "citizen form": citizen.get(path),
        "dashboard": admin.get(f"/dashboard{QUERY}"),
        "dashboard of the agency": admin.get("/dashboard?month=2026-10&questionnaire=sipas&agency=P-HK"),
        "agencies": admin.get("/admin/agencies"),
        "agency form": admin.get("/admin/agencies/P-HK/edit"),
        "audit log": admin.get("/admin/audit"),
        "counter screen": admin.get(f"/counter/{counter_code}"),
    }
    for where, page in pages.items():
        assert page.status_code == 200, where
        assert_escaped(page.text, where)
        assert ESCAPED in page.text, f"the name is shown, escaped, in {where}"
    assert_escaped(admin.get("/admin/counters").text, "counters")
    refused = citizen.post(path, data={**hidden_fields(citizen.get(path).text), "TC1": "9", "comment": COMMENT})
    assert refused.status_code == 422
    assert_escaped(refused.text, "the form sent back")
    assert f"=1+2 {ESCAPED}" in refused.text, "the comment is kept, escaped"


def cells_of_csv(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def cells_of_xlsx(data: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c]
    book.close()
    return cells


def assert_neutralised(cells: list[str], payload: str, where: str) -> None:
    assert "'" + payload in cells, f"{where}: the payload is there, neutralised"
    assert not [c for c in cells if c.startswith(("=", "+", "@"))], f"{where}: a formula cell"


def test_every_export_neutralises_formulas(hostile, tmp_path):
    app, admin, *_ = hostile
    runner = app.test_cli_runner()
    month = datetime.now(UTC).astimezone().strftime("%Y-%m")
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"export.{fmt}"
        result = runner.invoke(args=["export-responses", "--month", month, "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        cells = (cells_of_csv if fmt == "csv" else cells_of_xlsx)(out.read_bytes())
        assert_neutralised(cells, COMMENT, f"responses export ({fmt})")

    result = runner.invoke(args=["report", "monthly", "--month", "2026-10", "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert_neutralised(cells_of_csv((tmp_path / "report" / "satisfaction.csv").read_bytes()), NAME, "report CSV")
    assert_neutralised(cells_of_xlsx((tmp_path / "report" / "satisfaction.xlsx").read_bytes()), NAME, "report XLSX")

    prepared = post_form(admin, f"/dashboard/report/2026-10.xlsx{QUERY}", {})  # built at once in tests
    assert prepared.status_code == 303
    pack = admin.get(prepared.headers["Location"] + "/download")
    assert pack.status_code == 200
    assert_neutralised(cells_of_xlsx(pack.data), NAME, "report pack XLSX")

    audit = admin.get("/admin/audit.csv")
    assert audit.status_code == 200
    cells = cells_of_csv(audit.data)
    assert any("HYPERLINK" in c for c in cells), "the audit export records the new name (inside its JSON)"
    assert not [c for c in cells if c.startswith(("=", "+", "@"))], "audit export: a formula cell"
