"""Scope in small places, and every command line change in the audit log with who made it."""

from __future__ import annotations

import getpass
import json

import pytest
from sqlalchemy import select

from survey import db
from survey.domain import accounts, audit
from survey.models import AuditEntry, Counter
from tests.helpers import PASSWORD, QUICK_ROW, SIPAS_ROW, add_ward, create, import_file, login, make_key, write_csv


def cli_entries(app) -> list[tuple]:
    with app.app_context():
        found = db.session().scalars(select(AuditEntry).where(AuditEntry.actor.like("cli:%")).order_by(AuditEntry.id))
        return [(e.actor, e.action, e.kind, e.key, json.loads(e.after)) for e in found]


def test_the_cli_actor_names_the_operating_system_user(app):
    assert audit.cli_actor() == f"cli:{getpass.getuser()}"


def test_response_and_reference_imports_and_rollup_rebuilds_are_audited(places, runner, tmp_path):
    path = write_csv(tmp_path, [SIPAS_ROW, QUICK_ROW])
    assert import_file(runner, path).exit_code == 0
    assert import_file(runner, path, "--dry-run").exit_code == 0  # a dry run changes nothing: not logged
    services = tmp_path / "services.csv"
    services.write_text("code,name,field,processing_days\nKH,Kết hôn,Hộ tịch,3\n", encoding="utf-8")
    assert runner.invoke(args=["reference", "import", "--kind", "services", str(services)]).exit_code == 0
    assert runner.invoke(args=["rollup", "rebuild"]).exit_code == 0
    actor = audit.cli_actor()
    entries = cli_entries(places)
    assert [(e[0], e[1], e[2], e[3]) for e in entries] == [
        (actor, "import", "responses", "responses.csv"),
        (actor, "import", "reference:services", "services.csv"),
        (actor, "rebuild", "rollups", "all"),
    ]
    assert entries[0][4]["imported"] == 2 and entries[0][4]["source"] == path
    assert entries[1][4]["created"] == 1 and entries[2][4]["responses"] == 2


def test_a_refused_import_is_not_logged(places, runner, tmp_path):
    path = write_csv(tmp_path, [{**SIPAS_ROW, "agency_code": "P-XX"}])
    assert import_file(runner, path).exit_code != 0
    assert cli_entries(places) == []


@pytest.fixture
def ward_admin(places):
    with places.app_context():
        accounts.create_user(db.session(), "ward-admin@hanoi.gov.vn", "admin", PASSWORD, "P-HK")
        accounts.create_user(db.session(), "admin@hanoi.gov.vn", "admin", PASSWORD)
        db.session().commit()
    return places


def test_questionnaire_counts_are_those_of_the_admins_agencies(ward_admin, runner, tmp_path):
    # One response at P-HK (sipas), one at P-BD (quay-nhanh).
    assert import_file(runner, write_csv(tmp_path, [SIPAS_ROW, QUICK_ROW])).exit_code == 0
    ward = ward_admin.test_client()
    assert login(ward, "ward-admin@hanoi.gov.vn").status_code == 303
    page = ward.get("/admin/questionnaires").text
    assert "Câu trả lời tại các cơ quan của bạn" in page
    counts = dict(_counts(page))
    assert counts == {"sipas": 1, "quay-nhanh": 0, "tt01": 0}
    city = ward_admin.test_client()
    assert login(city, "admin@hanoi.gov.vn").status_code == 303
    assert dict(_counts(city.get("/admin/questionnaires").text)) == {"sipas": 1, "quay-nhanh": 1, "tt01": 0}


def _counts(html: str):
    import re

    for row in re.findall(
        r"<tr><td>([\w-]+)</td><td class=\"num\">\d+</td><td>.*?</td><td class=\"num\">([\d,]+)</td>", html
    ):
        yield row[0], int(row[1].replace(",", ""))


def test_a_key_of_one_agency_cannot_probe_dossiers_of_another(app, client, counter):
    add_ward(app)
    ward_key, other_key = make_key(app, "ward", "P-HK"), make_key(app, "other", "P-BD")
    body = {"dossier_code": "H26.1-000777"}
    assert create(client, ward_key, {"counter_code": "HK-01", **body}).status_code == 201
    assert create(client, ward_key, {"counter_code": "HK-01", **body}).status_code == 409, "same agency: taken"
    assert create(client, other_key, {"counter_code": "BD-01", **body}).status_code == 201, "nothing to learn"
    with app.app_context():
        assert db.session().scalar(select(Counter.code).where(Counter.code == "BD-01")) == "BD-01"
