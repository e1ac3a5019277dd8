"""Files and names: reserved codes, spreadsheet bombs and names drawn as text (security findings 2, 5 and 6).

Each test tries the attack again: an agency coded ALL, an .xlsx whose shared strings inflate to
hundreds of megabytes, an agency named like TeX.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey import db
from survey.domain import accounts
from survey.domain.reference import RESERVED_CODES, ReferenceImportError, import_csv
from survey.models import Agency, Counter, Service
from tests.helpers import PASSWORD, login, post_form

# --------------------------------------------------------------------------------------------------
# 2. Reserved codes
# --------------------------------------------------------------------------------------------------

SPELLINGS = ["ALL", "all", " All ", "NONE", "none", "OVERALL", "Overall"]


def test_the_reserved_codes_are_the_figures_own():
    from analysis.codes import ALL, NO_SERVICE, OVERALL

    assert {ALL, NO_SERVICE, OVERALL} == RESERVED_CODES


@pytest.mark.parametrize("kind, row", [
    ("agencies", "{code},Phường giả,phuong,HN"),
    ("services", "{code},Dịch vụ giả,Hộ tịch,1"),
    ("counters", "{code},P-HK,Quầy giả,"),
])  # fmt: skip
def test_reference_import_refuses_reserved_codes(session, counter, kind, row):
    header = {"agencies": "code,name,level,parent_code", "services": "code,name,field,processing_days",
              "counters": "code,agency_code,name,questionnaire"}[kind]  # fmt: skip
    text = "\n".join([header, row.format(code="OK-1"), *(row.format(code=f'"{c}"') for c in SPELLINGS)]) + "\n"
    before = {m: session.scalar(select(func.count()).select_from(m)) for m in (Agency, Service, Counter)}
    with pytest.raises(ReferenceImportError) as refused:
        import_csv(session, kind, text)
    session.rollback()
    reserved = [e for e in refused.value.errors if e.column == "code"]
    assert [e.line for e in reserved] == list(range(3, 3 + len(SPELLINGS)))
    assert all("is reserved" in e.reason for e in reserved)
    assert {m: session.scalar(select(func.count()).select_from(m)) for m in (Agency, Service, Counter)} == before


def test_reference_import_command_refuses_an_agency_coded_all(app, counter, tmp_path):
    path = tmp_path / "agencies.csv"
    path.write_text("code,name,level,parent_code\nALL,Phường giả,phuong,P-HK\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["reference", "import", "--kind", "agencies", str(path)])
    assert result.exit_code == 1
    assert "line 2: code: 'ALL' is reserved" in result.output and "nothing was imported" in result.output
    with app.app_context():
        assert db.session().scalar(select(Agency).where(func.upper(Agency.code) == "ALL")) is None


@pytest.fixture
def admin(app, counter):
    with app.app_context():
        accounts.create_user(db.session(), "admin@hanoi.gov.vn", "admin", PASSWORD)
        db.session().commit()
    client = app.test_client()
    assert login(client, "admin@hanoi.gov.vn").status_code == 303
    return client


@pytest.mark.parametrize("kind, fields, model", [
    ("agencies", {"name": "Phường giả", "parent_code": "P-HK", "questionnaire": "", "active": "y"}, Agency),
    ("services", {"name": "Dịch vụ giả", "active": "y"}, Service),
    ("counters", {"agency_code": "P-HK", "name": "Quầy giả", "questionnaire": "", "active": "y"}, Counter),
])  # fmt: skip
def test_admin_forms_refuse_reserved_codes(app, admin, kind, fields, model):
    for code in ("ALL", "all", "NONE", "Overall"):
        page = post_form(admin, f"/admin/{kind}/new", {"code": code, **fields})
        assert page.status_code == 422, (kind, code)
        assert "Mã này được dành riêng: ALL, NONE, OVERALL" in page.text, (kind, code)  # Vietnamese, the default
    with app.app_context():
        assert db.session().scalar(select(model).where(func.upper(model.code).in_(RESERVED_CODES))) is None
    assert post_form(admin, f"/admin/{kind}/new", {"code": "OK-2", **fields}).status_code == 303
