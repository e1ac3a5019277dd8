"""Files and names: reserved codes, spreadsheet bombs and names drawn as text (security findings 2, 5 and 6).

Each test tries the attack again: an agency coded ALL, an .xlsx whose shared strings inflate to
hundreds of megabytes, an agency named like TeX.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from analysis import xlsx_limits
from analysis.xlsx_limits import WorkbookTooLarge, check_xlsx
from survey import db
from survey.domain import accounts
from survey.domain.reference import RESERVED_CODES, ReferenceImportError, import_csv
from survey.models import Agency, Counter, Service
from tests.helpers import HEADER, PASSWORD, import_file, login, post_form

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024

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


# --------------------------------------------------------------------------------------------------
# 5. Spreadsheet bombs
# --------------------------------------------------------------------------------------------------

BOMB_SIZE = 300 * MB


def small_workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


STRINGS = "xl/sharedStrings.xml"
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
STRINGS_RELATION = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _declaring_shared_strings(name: str, data: bytes) -> bytes:
    """A part of a workbook without shared strings, changed to declare them (so that openpyxl reads them)."""
    if name == "[Content_Types].xml":
        return data.replace(
            b"</Types>", f'<Override PartName="/{STRINGS}" ContentType="{STRINGS_TYPE}"/></Types>'.encode()
        )
    if name == "xl/_rels/workbook.xml.rels":
        relation = f'<Relationship Type="{STRINGS_RELATION}" Target="sharedStrings.xml" Id="rIdStrings"/>'
        return data.replace(b"</Relationships>", relation.encode() + b"</Relationships>")
    return data


def write_bomb(path: Path, inflated: int = BOMB_SIZE) -> Path:
    """A real workbook whose shared strings are one string of `inflated` bytes, deflated to a few hundred KB."""
    with (
        zipfile.ZipFile(io.BytesIO(small_workbook())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        assert STRINGS not in source.namelist()  # openpyxl writes inline strings
        for name in source.namelist():
            out.writestr(name, _declaring_shared_strings(name, source.read(name)))
        with out.open(STRINGS, "w") as strings:  # streamed: never whole in this process
            strings.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                          b'uniqueCount="1"><si><t>')  # fmt: skip
            chunk = b"A" * MB
            for _ in range(inflated // MB):
                strings.write(chunk)
            strings.write(b"</t></si></sst>")
    return path


# `flask --app wsgi ARGS…` printing its peak resident memory (VmHWM, bytes) last on standard error,
# whether the command succeeded or not (bench/_serve.py's FLASK_MEASURED prints it on success only).
MEASURED = """
import sys
import xml.etree.ElementTree as ET
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", *sys.argv[1:]]
try:
    main()
finally:
    with open("/proc/self/status") as status:
        print(next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:")), file=sys.stderr)
"""


def test_bomb_is_refused_by_the_command_before_it_is_read(tmp_path, sqlite_template):
    bomb = write_bomb(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < MB
    database = tmp_path / "db.sqlite3"
    shutil.copy(sqlite_template, database)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "test-secret-key"}
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, "import-responses", str(bomb)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "xl/sharedStrings.xml unpacks to 300 MB (at most 50 MB)" in done.stderr
    peak = int(done.stderr.strip().splitlines()[-1])
    print(f"peak memory of the refused import: {peak / MB:.0f} MB")
    assert peak < 300 * MB


def test_bomb_is_refused_through_the_cli_runner(places, runner, tmp_path):
    result = import_file(runner, str(write_bomb(tmp_path / "bomb.xlsx", inflated=60 * MB)))
    assert result.exit_code == 1
    assert "bomb.xlsx: refused before reading, too large once unpacked: xl/sharedStrings.xml" in result.output
    assert "Traceback" not in result.output


def test_reference_import_does_not_unpack_a_workbook(app, tmp_path):
    bomb = write_bomb(tmp_path / "agencies.csv")  # the reference import reads CSV only: a zip is not UTF-8
    result = app.test_cli_runner().invoke(args=["reference", "import", "--kind", "agencies", str(bomb)])
    assert result.exit_code == 1 and "not UTF-8" in result.output
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Agency)) == 0


def test_analysis_reading_refuses_a_bomb(tmp_path):
    from analysis.reading import read_table

    with pytest.raises(WorkbookTooLarge, match="bomb.xlsx: refused before reading"):
        read_table(write_bomb(tmp_path / "bomb.xlsx", inflated=60 * MB))


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return path


def test_each_limit_is_checked(tmp_path, monkeypatch):
    ratio = zipped(tmp_path / "ratio.xlsx", {"xl/worksheets/sheet1.xml": b"<c/>" * (2 * MB)})  # 8 MB, ~1000 times
    with pytest.raises(WorkbookTooLarge, match=r"sheet1.xml is compressed [\d,]+ times \(at most 100 times\)"):
        check_xlsx(ratio)
    parts = {f"xl/media/image{i}.png": b"x" for i in range(12)}
    monkeypatch.setattr(xlsx_limits, "MAX_MEMBERS", 10)
    with pytest.raises(WorkbookTooLarge, match=r"12 parts \(at most 10\)"):
        check_xlsx(zipped(tmp_path / "many.xlsx", parts))
    monkeypatch.setattr(xlsx_limits, "MAX_TOTAL_SIZE", 10 * MB)
    text = os.urandom(3 * MB)  # does not compress
    sheets = {f"xl/worksheets/sheet{i}.xml": text for i in range(4)}
    with pytest.raises(WorkbookTooLarge, match=r"it unpacks to 12 MB in all \(at most 10 MB\)"):
        check_xlsx(zipped(tmp_path / "total.xlsx", sheets))
    with pytest.raises(zipfile.BadZipFile):
        check_xlsx(io.BytesIO(b"not a zip"))


def test_a_large_legitimate_sheet_passes(tmp_path):
    """A streamed worksheet may be large (100,000 rows of the wide layout: 110-200 MB); only its ratio counts."""
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="n"><v>%d</v></c></row>' % (i, i, i * 7919 % 100_003) for i in range(1, 400_000)
    )
    path = zipped(tmp_path / "large.xlsx", {"xl/worksheets/sheet1.xml": rows, "xl/sharedStrings.xml": b"<sst/>"})
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 15 * MB
    handle = path.open("rb")
    with handle:
        check_xlsx(handle)
        assert handle.tell() == 0


# --------------------------------------------------------------------------------------------------
# 6. Names are text, not TeX
# --------------------------------------------------------------------------------------------------

NAMES = {"HN": "Sở $\\sqrt{$ {}", "W1": "Phường $\\sqrt{$ 100%", "W2": "Xã $x^2$ \\n {}"}


def named_agencies():
    from tests.analysis.helpers import agencies

    frame = agencies()
    return frame.assign(name=frame["code"].map(NAMES))


@pytest.fixture(scope="module")
def figures():
    from analysis.counting import count_answers
    from analysis.indices import monthly_table
    from analysis.output import report_notes
    from analysis.targets import read_targets
    from analysis.trend import trend_table, volume_table
    from tests.analysis.helpers import DASHBOARD_MONTHS, dashboard_responses, mini_catalog, tidy

    catalog, targets, month = mini_catalog(), read_targets(), DASHBOARD_MONTHS[-1]
    counts, scores = count_answers(tidy(dashboard_responses()), catalog)
    table = monthly_table(counts, scores, catalog, named_agencies(), targets, month,
                          previous_counts=counts, previous_scores=scores)  # fmt: skip
    trend = trend_table(counts, scores, catalog, named_agencies(), targets, DASHBOARD_MONTHS, questionnaire="mini")
    return {"table": table, "trend": trend, "volume": volume_table(scores, DASHBOARD_MONTHS), "catalog": catalog,
            "targets": targets, "month": month, "notes": report_notes(table, catalog, targets, month)}  # fmt: skip


def svg_text(data: bytes) -> str:
    return "\n".join(ET.fromstring(data).itertext())


@pytest.mark.parametrize("agency", [None, "HN", "W1"])
def test_every_chart_draws_names_literally(figures, agency):
    from analysis.charts import CHART_NAMES, FORMATS, chart_data, render_chart

    options = {"volume": figures["volume"], "targets": figures["targets"], "catalog": figures["catalog"]}
    for name in CHART_NAMES:
        data = chart_data(name, figures["table"], figures["trend"], agency=agency, agencies=named_agencies(), **options)
        for fmt in FORMATS:
            body = render_chart(name, data, fmt)
            assert body[:4] in (b"\x89PNG", b"<?xm", b"%PDF"), (name, fmt)
            if fmt == "svg" and name in ("ranking", "heatmap") and agency in (None, "HN"):
                text = svg_text(body)
                assert NAMES["W1"] in text and NAMES["W2"] in text, (name, text)


def test_a_title_of_tex_is_text(figures):
    from analysis.charts import chart_data, render_chart

    data = chart_data("ranking", figures["table"], None, agencies=named_agencies(), catalog=figures["catalog"])
    assert "$x^2$ {} 100%" in svg_text(render_chart("ranking", data, "svg", title="Xếp hạng $x^2$ {} 100%"))


def test_report_pack_pdf_draws_names_literally(figures):
    from analysis.reportpack import build_report_pdf
    from tests.analysis.pdf_reading import mapped_characters

    pdf = build_report_pdf(figures["table"], figures["trend"], figures["notes"], agency_name=NAMES["HN"],
                           month=figures["month"], agencies=named_agencies(), catalog=figures["catalog"],
                           volume=figures["volume"], details=True)  # fmt: skip
    assert pdf.startswith(b"%PDF")
    assert set("".join(NAMES.values())) <= mapped_characters(pdf)  # $ \ { } ^ % drawn as characters


@pytest.fixture
def tex_names(app, counter):
    """The agency P-HK, its counter HK-01 and the service KS named like TeX."""
    with app.app_context():
        s = db.session()
        s.scalar(select(Agency).where(Agency.code == "P-HK")).name = NAMES["W1"]
        s.scalar(select(Counter).where(Counter.code == counter)).name = NAMES["W2"]
        s.scalar(select(Service).where(Service.code == "KS")).name = NAMES["HN"]
        s.commit()
    return app


def test_posters_draw_names_literally(tex_names, admin):
    for url in ("/admin/counters/HK-01/poster.pdf", "/admin/agencies/P-HK/posters.pdf?size=A4"):
        reply = admin.get(url)
        assert reply.status_code == 200 and reply.data.startswith(b"%PDF"), url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_dashboard_charts_and_pack_with_names_of_tex(app):
    from datetime import UTC, datetime

    from survey.transfer.demo import seed_demo

    with app.app_context():
        s = db.session()
        seed_demo(s, months=2, per_month=120, seed=5, now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        for i, agency in enumerate(s.scalars(select(Agency).order_by(Agency.code))):
            agency.name = f"{list(NAMES.values())[i % 3]} {agency.code}"
        for service in s.scalars(select(Service)):
            service.name = f"Dịch vụ $x^2$ {service.code}"
        accounts.create_user(s, "admin@hanoi.gov.vn", "admin", PASSWORD)
        s.commit()
        city = s.scalar(select(Agency.code).where(Agency.parent_id.is_(None)).order_by(Agency.code))
    client = app.test_client()
    assert login(client, "admin@hanoi.gov.vn").status_code == 303
    query = f"?month=2026-10&questionnaire=sipas&agency={city}"
    for name in ("ranking", "heatmap", "trend"):
        for fmt in ("png", "svg", "pdf"):
            reply = client.get(f"/dashboard/charts/{name}.{fmt}{query}")
            assert reply.status_code == 200, (name, fmt)
            if fmt == "svg" and name != "trend":
                assert "$\\sqrt{$" in svg_text(reply.data), name
    assert client.get(f"/dashboard{query}").status_code == 200
    prepared = post_form(client, f"/dashboard/report/2026-10.pdf{query}", {})
    assert prepared.status_code == 303
    download = client.get(prepared.headers["Location"] + "/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
