"""Administration: records within scope, the audit log, QR codes, posters and the counter screen."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from survey import db
from survey.domain import signing
from survey.models import AuditEntry, Counter, Interaction, Response, Target
from tests.helpers import hidden_fields, login, post_form, send


def client_of(app, who):
    client = app.test_client()
    assert login(client, f"{who}@hanoi.gov.vn").status_code == 303
    return client


def audit_entries(app):
    with app.app_context():
        return [
            (
                e.actor,
                e.action,
                e.kind,
                e.key,
                json.loads(e.before) if e.before else None,
                json.loads(e.after) if e.after else None,
            )
            for e in db.session().scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_create_edit_deactivate_counter_is_audited(staff):
    client = client_of(staff, "admin")
    created = post_form(
        client,
        "/admin/counters/new",
        {"code": "HK-02", "agency_code": "P-HK", "name": "Quầy số 2", "questionnaire": "", "active": "y"},
    )
    assert created.status_code == 303
    edited = post_form(
        client,
        "/admin/counters/HK-02/edit",
        {
            "code": "IGNORED",
            "agency_code": "P-HK",
            "name": "Quầy số 2 – Chứng thực",
            "questionnaire": "quay-nhanh",
            "active": "y",
        },
    )
    assert edited.status_code == 303
    page = client.get("/admin/counters")
    action = hidden_fields(page.text)["csrf_token"]
    assert client.post("/admin/counters/HK-02/deactivate", data={"csrf_token": action}).status_code == 303
    with staff.app_context():
        counter = db.session().scalar(select(Counter).where(Counter.code == "HK-02"))
        assert (counter.name, counter.questionnaire, counter.active) == ("Quầy số 2 – Chứng thực", "quay-nhanh", False)
    log = audit_entries(staff)
    assert [(e[0], e[1], e[2], e[3]) for e in log] == [
        ("admin@hanoi.gov.vn", "create", "counter", "HK-02"),
        ("admin@hanoi.gov.vn", "update", "counter", "HK-02"),
        ("admin@hanoi.gov.vn", "deactivate", "counter", "HK-02"),
    ]
    assert log[1][4]["name"] == "Quầy số 2" and log[1][5]["name"] == "Quầy số 2 – Chứng thực"
    assert log[2][4]["active"] is True and log[2][5]["active"] is False


def test_invalid_input_is_shown_and_nothing_written(staff):
    client = client_of(staff, "admin")
    reply = post_form(
        client,
        "/admin/counters/new",
        {"code": "=bad code", "agency_code": "P-HK", "name": "", "questionnaire": "", "active": "y"},
    )
    assert reply.status_code == 422 and "This field is required." in reply.text or "Trường này" in reply.text
    duplicate = post_form(
        client, "/admin/counters/new", {"code": "HK-01", "agency_code": "P-HK", "name": "X", "questionnaire": ""}
    )
    assert duplicate.status_code == 422
    version = post_form(
        client,
        "/admin/counters/new",
        {"code": "HK-03", "agency_code": "P-HK", "name": "X", "questionnaire": "sipas", "questionnaire_version": "9"},
    )
    assert version.status_code == 422
    target = post_form(
        client,
        "/admin/targets/new",
        {
            "code": "95",
            "value": "95",
            "metric": "overall",
            "period_start": "2026-12-01",
            "period_end": "2026-01-01",
            "source": "Kế hoạch",
        },
    )
    assert target.status_code == 422
    assert audit_entries(staff) == []
    with staff.app_context():
        assert db.session().scalar(select(func.count()).select_from(Counter)) == 2


def test_targets_are_data(staff):
    client = client_of(staff, "admin")
    reply = post_form(
        client,
        "/admin/targets/new",
        {
            "code": "95",
            "value": "95",
            "metric": "overall",
            "period_start": "2027-01-01",
            "source": "Kế hoạch 2027",
            "active": "y",
        },
    )
    assert reply.status_code == 303
    with staff.app_context():
        target = db.session().scalar(select(Target).where(Target.code == "95"))
        assert target.value == 95.0 and str(target.period_start) == "2027-01-01"


def test_scoped_admin_manages_only_their_subtree(staff):
    client = client_of(staff, "ward-admin")
    listing = client.get("/admin/counters")
    assert "HK-01" in listing.text and "BD-01" not in listing.text
    assert client.get("/admin/counters/BD-01/edit").status_code == 404
    assert post_form(client, "/admin/counters/BD-01/edit", {"agency_code": "P-BD", "name": "x"}).status_code == 404
    outside = post_form(
        client, "/admin/counters/new", {"code": "HK-05", "agency_code": "P-BD", "name": "X", "questionnaire": ""}
    )
    assert outside.status_code == 422
    assert client.get("/admin/targets/86/edit").status_code == 404, "targets belong to the city's admins"
    unscoped_user = post_form(
        client,
        "/admin/users/new",
        {"email": "boss@x.vn", "role": "admin", "agency_code": "", "password": "long enough pw", "active": "y"},
    )
    assert unscoped_user.status_code == 422
    assert client.get("/admin/counters/BD-01/qr.png").status_code == 404
    assert client.get("/admin/agencies/P-BD/posters.pdf").status_code == 404
    assert (
        post_form(
            client,
            "/admin/counters/new",
            {"code": "HK-05", "agency_code": "P-HK", "name": "Quầy 5", "questionnaire": "", "active": "y"},
        ).status_code
        == 303
    )


@pytest.mark.parametrize("who", ["officer", "official"])
def test_other_roles_cannot_administer(staff, who):
    client = client_of(staff, who)
    for url in ("/admin", "/admin/counters", "/admin/audit", "/admin/counters/HK-01/qr.svg"):
        assert client.get(url).status_code == 403


def test_audit_log_is_viewable_exportable_and_append_only(staff):
    client = client_of(staff, "admin")
    post_form(
        client, "/admin/services/new", {"code": "=cmd", "name": '=HYPERLINK("x")', "field": "Hộ tịch", "active": "y"}
    )
    post_form(
        client, "/admin/services/new", {"code": "HT-KS", "name": '=HYPERLINK("x")', "field": "Hộ tịch", "active": "y"}
    )
    page = client.get("/admin/audit")
    assert "HT-KS" in page.text and "&#34;" in page.text or "&quot;" in page.text
    export = client.get("/admin/audit.csv")
    assert export.data.startswith(b"\xef\xbb\xbf") and b"HT-KS" in export.data
    with staff.app_context():
        entry = db.session().scalar(select(AuditEntry))
        entry.actor = "someone else"
        with pytest.raises(PermissionError):
            db.session().commit()
        db.session().rollback()
        db.session().delete(db.session().scalar(select(AuditEntry)))
        with pytest.raises(PermissionError):
            db.session().flush()


def test_qr_png_scans_back_to_the_counter_url(staff):
    import zxingcpp

    from survey.domain import signing

    client = client_of(staff, "admin")
    png = client.get("/admin/counters/HK-01/qr.png")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    with staff.test_request_context():
        expected = signing.counter_url("HK-01")
    assert [d.text for d in decoded] == [expected]
    svg = client.get("/admin/counters/HK-01/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


@pytest.mark.parametrize("size", ["A5", "A4"])
def test_posters(staff, size):
    client = client_of(staff, "admin")
    one = client.get(f"/admin/counters/HK-01/poster.pdf?size={size}")
    assert one.status_code == 200 and one.data.startswith(b"%PDF")
    many = client.get(f"/admin/agencies/P-HK/posters.pdf?size={size}")
    assert many.status_code == 200 and many.data.startswith(b"%PDF")
    assert client.get("/admin/counters/HK-01/poster.pdf?size=A3").status_code == 404


def test_counter_screen_issues_a_one_time_qr(staff):
    officer = client_of(staff, "officer")
    idle = officer.get("/counter/HK-01")
    assert idle.status_code == 200 and "Hoàn thành giao dịch" in idle.text
    shown = officer.post("/counter/HK-01", data=hidden_fields(idle.text))
    assert shown.status_code == 303
    page = officer.get(shown.headers["Location"])
    assert page.status_code == 200 and "<svg" in page.text and 'http-equiv="refresh"' not in page.text
    token = re.search(r"/t/([A-Za-z0-9_-]{16,})", page.text).group(1)  # the database keeps only its hash
    with staff.app_context():
        assert db.session().scalar(select(Interaction.token_hash)) == signing.token_hash(token)
    citizen = staff.test_client()
    assert send(citizen, f"/t/{token}", {"CC1": "5"}).status_code == 303
    back = officer.get(shown.headers["Location"])
    assert back.status_code == 302 and back.headers["Location"].endswith("/counter/HK-01")
    assert "Đã nhận đánh giá" in officer.get("/counter/HK-01").text
    with staff.app_context():
        assert db.session().scalar(select(func.count()).select_from(Response)) == 1


def test_counter_screen_clears_itself_after_a_while(staff):
    officer = client_of(staff, "officer")
    idle = officer.get("/counter/HK-01")
    location = officer.post("/counter/HK-01", data=hidden_fields(idle.text)).headers["Location"]
    staff.config["COUNTER_QR_SECONDS"] = 0
    assert officer.get(location).status_code == 302


def test_counter_screen_needs_the_right_agency(staff):
    officer = client_of(staff, "officer")
    assert officer.get("/counter/BD-01").status_code == 404
    assert officer.post("/counter/HK-01", data={}).status_code == 400, "CSRF"
    official = client_of(staff, "official")
    assert official.get("/counter/HK-01").status_code == 403


def test_api_keys_in_the_administration(staff):
    client = client_of(staff, "ward-admin")
    page = client.get("/admin/api-keys")
    token = hidden_fields(page.text)["csrf_token"]
    created = client.post(
        "/admin/api-keys", data={"csrf_token": token, "name": "Một cửa Hoàn Kiếm", "agency_code": "P-HK"}
    )
    assert created.status_code == 201
    secret = created.text.split('<code class="breakall">')[1].split("</code>")[0]
    assert secret.startswith("ksq_")
    api = staff.test_client()
    reply = api.post(
        "/api/v1/interactions", json={"counter_code": "HK-01"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert reply.status_code == 201
    outside = client.post("/admin/api-keys", data={"csrf_token": token, "name": "x", "agency_code": "P-BD"})
    assert outside.status_code == 422
    with staff.app_context():
        from survey.models import ApiKey

        key = db.session().scalar(select(ApiKey))
        assert secret not in (key.key_hash, key.prefix)
        prefix = key.prefix
    assert client.post(f"/admin/api-keys/{prefix}/revoke", data={"csrf_token": token}).status_code == 303
    assert (
        api.post(
            "/api/v1/interactions", json={"counter_code": "HK-01"}, headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )
    assert [(e[1], e[2]) for e in audit_entries(staff)] == [("create", "api_key"), ("revoke", "api_key")]
