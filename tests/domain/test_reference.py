"""Reference data import from CSV: every row or none, every bad row reported with its line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import db
from survey.domain.reference import ReferenceImportError, Row, import_reference, parse_csv
from survey.models import Agency, Counter, Service

AGENCY_HEADER = "code,name,level,parent_code\n"
SERVICE_HEADER = "code,name,field,processing_days\n"
COUNTER_HEADER = "code,agency_code,name,questionnaire\n"


def write(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def run_import(runner, tmp_path, kind: str, text: str, encoding: str = "utf-8"):
    return runner.invoke(args=["reference", "import", "--kind", kind, write(tmp_path, text, encoding=encoding)])


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of the three reference tables, read on a connection of its own."""
    with app.extensions["survey.db"]["engine"].connect() as conn:
        return {
            model.__tablename__: sorted(tuple(r) for r in conn.execute(select(model.__table__)))
            for model in (Agency, Service, Counter)
        }


def agencies(app) -> dict[str, tuple]:
    """Each agency's (name, level, parent code), by code."""
    with app.app_context():
        rows = db.session().scalars(select(Agency)).all()
        return {a.code: (a.name, a.level, a.parent.code if a.parent else None) for a in rows}


@pytest.fixture
def city(app, runner, tmp_path):
    """The city and one ward, already stored."""
    result = run_import(runner, tmp_path, "agencies", AGENCY_HEADER + "HN,UBND Thành phố Hà Nội,thanh_pho,\n"
                        "P-HK,UBND Phường Hoàn Kiếm,phuong,HN\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    return app


def test_agencies_import_with_parents(app, runner, tmp_path):
    text = AGENCY_HEADER + "HN,UBND Thành phố Hà Nội,thanh_pho,\nSTP,  Sở Tư pháp  ,so,HN\n"
    result = run_import(runner, tmp_path, "agencies", text)
    assert result.exit_code == 0, result.output
    assert "agencies: 2 created, 0 updated, 0 unchanged." in result.output
    assert agencies(app) == {"HN": ("UBND Thành phố Hà Nội", "thanh_pho", None), "STP": ("Sở Tư pháp", "so", "HN")}


def test_parent_defined_later_in_the_same_file(app, runner, tmp_path):
    text = (
        AGENCY_HEADER
        + "P-BD,UBND Phường Ba Đình,phuong,HN\nX-SS,UBND Xã Sóc Sơn,xa,HN\nHN,UBND Thành phố Hà Nội,thanh_pho,\n"
    )
    result = run_import(runner, tmp_path, "agencies", text)
    assert result.exit_code == 0, result.output
    assert {code: parent for code, (_, _, parent) in agencies(app).items()} == {"P-BD": "HN", "X-SS": "HN", "HN": None}


def test_parent_already_in_the_database(city, runner, tmp_path):
    result = run_import(runner, tmp_path, "agencies", AGENCY_HEADER + "P-TH,UBND Phường Tây Hồ,phuong,HN\n")
    assert result.exit_code == 0, result.output
    assert agencies(city)["P-TH"] == ("UBND Phường Tây Hồ", "phuong", "HN")
    assert len(agencies(city)) == 3


def test_existing_codes_are_updated(city, runner, tmp_path):
    text = (AGENCY_HEADER + "HN,UBND Thành phố Hà Nội,thanh_pho,\nP-HK,Ủy ban nhân dân Phường Hoàn Kiếm,phuong,HN\n"
            "P-BD,UBND Phường Ba Đình,phuong,HN\n")  # fmt: skip
    result = run_import(runner, tmp_path, "agencies", text)
    assert result.exit_code == 0, result.output
    assert "agencies: 1 created, 1 updated, 1 unchanged." in result.output
    assert agencies(city)["P-HK"] == ("Ủy ban nhân dân Phường Hoàn Kiếm", "phuong", "HN")
    # Moving an agency to another parent is an update too.
    result = run_import(runner, tmp_path, "agencies", AGENCY_HEADER + "P-BD,UBND Phường Ba Đình,phuong,P-HK\n")
    assert "agencies: 0 created, 1 updated, 0 unchanged." in result.output
    assert agencies(city)["P-BD"][2] == "P-HK"


def test_services_import_and_update(app, runner, tmp_path):
    text = SERVICE_HEADER + "HT-KS,Đăng ký khai sinh,Hộ tịch,1\nCT-BS,Chứng thực bản sao từ bản chính,Chứng thực,\n"
    assert run_import(runner, tmp_path, "services", text).exit_code == 0
    result = run_import(runner, tmp_path, "services", SERVICE_HEADER + "HT-KS,Đăng ký khai sinh,Hộ tịch,0\n")
    assert "services: 0 created, 1 updated, 0 unchanged." in result.output
    with app.app_context():
        rows = {s.code: (s.name, s.field, s.processing_days) for s in db.session().scalars(select(Service))}
    assert rows == {"HT-KS": ("Đăng ký khai sinh", "Hộ tịch", 0),
                    "CT-BS": ("Chứng thực bản sao từ bản chính", "Chứng thực", None)}  # fmt: skip


def test_counters_import_and_update(city, runner, tmp_path):
    text = COUNTER_HEADER + 'HK-01,P-HK,"Quầy số 1 – Tư pháp, hộ tịch",\nHK-02,P-HK,Quầy số 2,tt01\n'
    result = run_import(runner, tmp_path, "counters", text)
    assert result.exit_code == 0, result.output
    assert "counters: 2 created, 0 updated, 0 unchanged." in result.output
    with city.app_context():
        s = db.session()
        s.scalar(select(Counter).where(Counter.code == "HK-02")).questionnaire_version = 1
        s.commit()
    result = run_import(runner, tmp_path, "counters", COUNTER_HEADER + "HK-02,HN,Quầy số 2,quay-nhanh\n")
    assert "counters: 0 created, 1 updated, 0 unchanged." in result.output
    with city.app_context():
        rows = {c.code: (c.agency.code, c.name, c.questionnaire, c.questionnaire_version)
                for c in db.session().scalars(select(Counter))}  # fmt: skip
    # The version pinned for tt01 is dropped: quay-nhanh is followed at its latest version.
    assert rows == {"HK-01": ("P-HK", "Quầy số 1 – Tư pháp, hộ tịch", None, None),
                    "HK-02": ("HN", "Quầy số 2", "quay-nhanh", None)}  # fmt: skip


def test_byte_order_mark_is_accepted(app, runner, tmp_path):
    result = run_import(runner, tmp_path, "agencies", AGENCY_HEADER + "HN,UBND Thành phố Hà Nội,thanh_pho,\n",
                        encoding="utf-8-sig")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert list(agencies(app)) == ["HN"]


def test_windows_line_endings_and_quoted_newlines_keep_physical_line_numbers():
    text = 'code,name,level,parent_code\r\n\r\nA,"Tên\r\nhai dòng",x,\r\nB,,x,\r\n'
    rows, errors = parse_csv(text, "agencies")
    assert errors == []
    assert [(r.line, r.values["code"]) for r in rows] == [(3, "A"), (5, "B")]
    assert rows[0].values["name"] == "Tên\r\nhai dòng"


BAD_FILES = [
    pytest.param("agencies", AGENCY_HEADER + ",Không mã,phuong,HN\n", ["line 2: code: is empty"], id="empty-code"),
    pytest.param("agencies", AGENCY_HEADER + f"{'X' * 33},Tên,phuong,\n", ["line 2: code: longer than 32"], id="long"),
    pytest.param("agencies", AGENCY_HEADER + "P HK,Tên,phuong,\nP/HK,Tên,phuong,\nPhường-Đ,Tên,phuong,\n",
                 ["line 2: code: 'P HK': only letters", "line 3: code: 'P/HK'", "line 4: code: 'Phường-Đ'"],
                 id="code-characters"),
    pytest.param("agencies", AGENCY_HEADER + "P-CG,   ,phuong,HN\n", ["line 2: name: is empty"], id="empty-name"),
    pytest.param("agencies", AGENCY_HEADER + 'P-CG,"Cầu\nGiấy",phuong,HN\n', ["line 2: name: contains a line break"],
                 id="name-line-break"),
    pytest.param("services", SERVICE_HEADER + f"A,{'x' * 200000},F,1\nB,B,F,1\n",
                 ["line 2: row: not readable as CSV (field larger than field limit"], id="huge-field"),
    pytest.param("agencies", AGENCY_HEADER + "P-CG,A,phuong,HN\nP-TH,B,phuong,HN\nP-CG,C,phuong,HN\n",
                 ["line 4: code: 'P-CG' already appears on line 2"], id="repeated-code"),
    pytest.param("agencies", AGENCY_HEADER + "P-CG,Cầu Giấy,phuong,HANOI\n",
                 ["line 2: parent_code: no agency 'HANOI' in this file or the database"], id="unknown-parent"),
    pytest.param("agencies", AGENCY_HEADER + "P-CG,Cầu Giấy,phuong,P-CG\n",
                 ["line 2: parent_code: an agency cannot be its own parent"], id="own-parent"),
    pytest.param("agencies", AGENCY_HEADER + "A,A,x,B\nB,B,x,C\nC,C,x,A\n",
                 ["line 2: parent_code: 'B' is under 'A': a cycle", "line 3: parent_code: 'C' is under 'B'",
                  "line 4: parent_code: 'A' is under 'C'"], id="cycle-in-file"),
    pytest.param("agencies", AGENCY_HEADER + "HN,UBND Thành phố Hà Nội,thanh_pho,P-HK\n",
                 ["line 2: parent_code: 'P-HK' is under 'HN': a cycle"], id="cycle-through-database"),
    pytest.param("agencies", AGENCY_HEADER + "P-CG,Cầu Giấy,phuong,HN,extra\n",
                 ["line 2: row: 5 fields, expected 4"], id="field-count"),
    pytest.param("services", SERVICE_HEADER + "A,A,F,-1\nB,B,F,abc\nC,C,F,1.5\nD,D,F,99999\nE,E,F,٣\n",
                 ["line 2: processing_days: '-1' is not a whole number", "line 3: processing_days: 'abc'",
                  "line 4: processing_days: '1.5'", "line 5: processing_days: more than 3650 days",
                  "line 6: processing_days: '٣'"], id="processing-days"),
    pytest.param("counters", COUNTER_HEADER + "HK-03,P-XX,Quầy số 3,\nHK-04,,Quầy số 4,\n",
                 ["line 2: agency_code: no agency 'P-XX' in the database", "line 3: agency_code: is empty"],
                 id="unknown-agency"),
    pytest.param("counters", COUNTER_HEADER + "HK-03,P-HK,Quầy số 3,sipas-2030\n",
                 ["line 2: questionnaire: unknown questionnaire 'sipas-2030'"], id="unknown-questionnaire"),
]  # fmt: skip


@pytest.mark.parametrize("kind, text, messages", BAD_FILES)
def test_bad_rows_are_reported_and_nothing_is_written(city, runner, tmp_path, kind, text, messages):
    # Each file ends with a valid new row: it must not be written either.
    valid = {"agencies": "P-BD,UBND Phường Ba Đình,phuong,HN\n", "services": "KS,Đăng ký khai sinh,Hộ tịch,1\n",
             "counters": "HK-01,P-HK,Quầy mới,\n"}[kind]  # fmt: skip
    before = snapshot(city)
    result = run_import(runner, tmp_path, kind, text + valid)
    assert result.exit_code == 1
    for message in messages:
        assert message in result.output
    assert f"{len(messages)} error(s)" in result.output and "nothing was imported" in result.output
    assert "Traceback" not in result.output
    assert snapshot(city) == before


def test_every_bad_row_of_a_file_is_reported(city, runner, tmp_path):
    text = (AGENCY_HEADER + "P-CG,Cầu Giấy,phuong,HN\n,Không mã,phuong,HN\n\nP-TH,,phuong,NOWHERE\n"
            'P-HD,"Hà Đông,\nquận cũ",phuong,HN\nP-CG,Trùng,phuong,HN\nP-X,X,phuong,HN,thừa\n')  # fmt: skip
    before = snapshot(city)
    result = run_import(runner, tmp_path, "agencies", text)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert lines == [
        "line 3: code: is empty",
        "line 5: name: is empty",
        "line 5: parent_code: no agency 'NOWHERE' in this file or the database",
        "line 6: name: contains a line break",
        "line 8: code: 'P-CG' already appears on line 2",
        "line 9: row: 5 fields, expected 4",
    ]
    assert snapshot(city) == before


@pytest.mark.parametrize("header, reason", [
    ("code,name,level", "missing parent_code"),
    ("code,name,level,parent_code,note", "unexpected note"),
    ("code,name,level,level,parent_code", "repeated level"),
    ("ma,ten,cap,ma_cha", "missing code, name, level, parent_code; unexpected ma, ten, cap, ma_cha"),
])  # fmt: skip
def test_wrong_header_is_a_clear_error(app, runner, tmp_path, header, reason):
    result = run_import(runner, tmp_path, "agencies", f"{header}\nHN,UBND Thành phố Hà Nội,thanh_pho,\n")
    assert result.exit_code == 1
    assert f"line 1: header: {reason}" in result.output
    assert "expected exactly: code,name,level,parent_code" in result.output
    assert agencies(app) == {}


def test_missing_file_is_a_clear_error(app, runner, tmp_path):
    result = runner.invoke(args=["reference", "import", "--kind", "agencies", str(tmp_path / "nowhere.csv")])
    assert result.exit_code == 1
    assert "nowhere.csv: no such file" in result.output
    assert isinstance(result.exception, SystemExit)


def test_file_not_in_utf8_is_a_clear_error(app, runner, tmp_path):
    result = run_import(runner, tmp_path, "agencies", AGENCY_HEADER + "HN,Thành phố Hà Nội,thanh_pho,\n",
                        encoding="utf-16")  # fmt: skip
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
    assert isinstance(result.exception, SystemExit)
    assert agencies(app) == {}


def test_empty_file_is_a_clear_error(app, runner, tmp_path):
    result = run_import(runner, tmp_path, "services", "")
    assert result.exit_code == 1
    assert "line 1: header: the file is empty" in result.output


def test_service_reports_all_errors_without_writing(city):
    rows = [Row(2, {"code": "HT-KS", "name": "Khai sinh", "field": "Hộ tịch", "processing_days": "x"}),
            Row(3, {"code": "HT-KS", "name": "", "field": "Hộ tịch", "processing_days": "1"})]  # fmt: skip
    with city.app_context():
        s = db.session()
        with pytest.raises(ReferenceImportError) as caught:
            import_reference(s, "services", rows)
        assert [str(e) for e in caught.value.errors] == [
            "line 2: processing_days: 'x' is not a whole number of days >= 0",
            "line 3: code: 'HT-KS' already appears on line 2",
            "line 3: name: is empty",
        ]
        assert not s.new and not s.dirty
