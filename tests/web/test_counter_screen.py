"""The counter screen and the administration as their users meet them: the QR page, the officer's landing,
roles and states in words, deactivation confirmed and undone, the audit log in sentences."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey import db
from survey.domain import accounts, audit
from survey.models import Counter
from tests.helpers import PASSWORD, hidden_fields, login, send
from tests.web.test_admin import audit_entries, client_of


def show_qr(client, code="HK-01"):
    idle = client.get(f"/counter/{code}")
    return client.post(f"/counter/{code}", data=hidden_fields(idle.text)).headers["Location"]


def test_the_qr_page_scales_its_code_and_never_reloads_itself(staff):
    officer = client_of(staff, "officer")
    page = officer.get(show_qr(officer))
    svg = re.search(r"<svg[^>]*>", page.text).group(0)
    assert "viewBox=" in svg and " width=" not in svg and 'role="img"' in svg
    assert "<title>" in page.text
    assert 'http-equiv="refresh"' not in page.text
    assert "Thời gian còn lại:" in page.text and re.search(r'id="time-left">[23]:\d\d<', page.text)
    assert "Kiểm tra / Quay lại" in page.text
    assert re.search(r'<script src="/static/counter\.js\?v=[0-9a-f]{12}" defer></script>', page.text)


def test_only_counter_pages_may_run_the_sites_own_scripts(staff):
    officer = client_of(staff, "officer")
    policy = officer.get("/counter/HK-01").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "unsafe" not in policy
    for path in ("/", "/auth/login", "/auth/password"):
        assert "script-src" not in officer.get(path).headers["Content-Security-Policy"], path
    assert officer.get("/static/counter.js").mimetype in ("text/javascript", "application/javascript")


def test_the_status_url_tells_the_script_when_to_go_back(staff):
    officer = client_of(staff, "officer")
    location = show_qr(officer)
    status = officer.get(location + "/status")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert status.json["state"] == "waiting" and 0 < status.json["seconds_left"] <= 180
    token = re.search(r"/t/([A-Za-z0-9_-]{16,})", officer.get(location).text).group(1)
    assert send(staff.test_client(), f"/t/{token}", {"CC1": "5"}).status_code == 303
    assert officer.get(location + "/status").json["state"] == "answered"
    back = officer.get(location)  # where the script then goes: the button again, with the thank-you note
    assert back.status_code == 302 and back.headers["Location"].endswith("/counter/HK-01")
    assert "Đã nhận đánh giá" in officer.get("/counter/HK-01").text


def test_the_status_url_is_scoped_like_the_page(staff):
    officer = client_of(staff, "officer")
    location = show_qr(officer)
    other_screen = client_of(staff, "officer")  # same officer, another screen: it did not issue the code
    assert other_screen.get(location + "/status").status_code == 404
    assert staff.test_client().get(location + "/status").status_code == 302, "anonymous: the login page"
    assert client_of(staff, "official").get(location + "/status").status_code == 403
    staff.config["COUNTER_QR_SECONDS"] = 0
    assert officer.get(location + "/status").json == {"state": "expired", "seconds_left": 0}


def test_an_officer_lands_on_the_counter_screen(staff):
    officer = staff.test_client()
    landing = login(officer, "officer@hanoi.gov.vn")
    assert landing.status_code == 303 and landing.headers["Location"] == "/counter/"
    only = officer.get("/counter/")
    assert only.status_code == 302 and only.headers["Location"].endswith("/counter/HK-01")
    with staff.app_context():
        s = db.session()
        s.add(Counter(code="HK-02", agency=s.scalar(select(Counter)).agency, name="Quầy số 2"))
        s.commit()
    several = officer.get("/counter/")
    assert several.status_code == 200 and "/counter/HK-01" in several.text and "/counter/HK-02" in several.text
    assert "/counter/BD-01" not in several.text, "another ward's counter"
    home = officer.get("/")
    assert "cán bộ một cửa" in home.text and "(officer)" not in home.text and "/counter/" in home.text


def test_the_home_page_links_what_each_role_opens(staff):
    admin = client_of(staff, "admin").get("/").text
    assert all(link in admin for link in ('href="/counter/"', 'href="/dashboard', 'href="/admin"'))
    assert "quản trị viên" in admin
    official = client_of(staff, "official").get("/").text
    assert 'href="/dashboard' in official and "/counter/" not in official and 'href="/admin"' not in official
    assert "lãnh đạo" in official


def test_lists_show_roles_and_states_in_words(staff):
    admin = client_of(staff, "admin")
    users = admin.get("/admin/users").text
    assert "cán bộ một cửa" in users and "quản trị viên" in users and ">officer<" not in users
    assert "đang hoạt động" in admin.get("/admin/counters").text
    assert '<option value="officer">cán bộ một cửa</option>' in admin.get("/admin/users/new").text


def test_deactivating_a_counter_asks_first_and_can_be_undone(staff, counter_path):
    admin = client_of(staff, "admin")
    confirm = admin.get("/admin/counters/HK-01/deactivate")
    assert confirm.status_code == 200 and "Áp phích QR" in confirm.text
    with staff.app_context():
        assert db.session().scalar(select(Counter.active).where(Counter.code == "HK-01")) is True
    done = admin.post("/admin/counters/HK-01/deactivate", data=hidden_fields(confirm.text))
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/counters?undo=HK-01")
    assert staff.test_client().get(counter_path).status_code == 404, "its QR link stops answering"
    listing = admin.get(done.headers["Location"])
    assert "Hoàn tác" in listing.text and "/admin/counters/HK-01/reactivate" in listing.text
    undone = admin.post("/admin/counters/HK-01/reactivate", data=hidden_fields(listing.text))
    assert undone.status_code == 303 and "Đã kích hoạt lại HK-01" in admin.get("/admin/counters").text
    assert staff.test_client().get(counter_path).status_code == 200
    assert [e[1] for e in audit_entries(staff) if e[3] == "HK-01"] == ["deactivate", "reactivate"]


def test_deactivating_a_user_says_they_can_no_longer_log_in(staff):
    admin = client_of(staff, "ward-admin")
    confirm = admin.get("/admin/users/officer@hanoi.gov.vn/deactivate")
    assert "không thể đăng nhập" in confirm.text
    assert admin.get("/admin/users/admin@hanoi.gov.vn/deactivate").status_code == 404, "outside the scope"
    admin.post("/admin/users/officer@hanoi.gov.vn/deactivate", data=hidden_fields(confirm.text))
    assert login(staff.test_client(), "officer@hanoi.gov.vn").status_code == 401
    listing = admin.get("/admin/users")
    admin.post("/admin/users/officer@hanoi.gov.vn/reactivate", data=hidden_fields(listing.text))
    assert login(staff.test_client(), "officer@hanoi.gov.vn", PASSWORD).status_code == 303
    assert admin.post("/admin/users/officer@hanoi.gov.vn/reactivate", data={}).status_code == 400, "CSRF"


def test_the_audit_log_reads_as_sentences(staff):
    admin = client_of(staff, "admin")
    confirm = admin.get("/admin/counters/HK-01/deactivate")
    admin.post("/admin/counters/HK-01/deactivate", data=hidden_fields(confirm.text))
    with staff.app_context():
        audit.command_run(db.session(), "import", "reference:counters", "/srv/data/counters.csv", {"created": 2})
        user = db.session().scalar(select(accounts.User).where(accounts.User.email == "official@hanoi.gov.vn"))
        accounts.change_password(db.session(), user, "another long password", audit.cli_actor())
        db.session().commit()
    page = admin.get("/admin/audit").text
    assert "admin@hanoi.gov.vn đã ngừng hoạt động quầy HK-01" in page
    assert "Đang hoạt động: đang hoạt động → đã ngừng hoạt động" in page
    assert re.search(r"dòng lệnh \([^)]+\) đã nhập danh mục quầy từ tệp counters\.csv", page)
    assert re.search(r"dòng lệnh \([^)]+\) đã đặt mật khẩu mới cho tài khoản official@hanoi\.gov\.vn", page)
    assert "<details><summary>Dữ liệu đã ghi (JSON)</summary>" in page and "&#34;active&#34;: false" in page
    assert ">deactivate<" not in page and ">api_key<" not in page
    english = admin.get("/admin/audit?lang=en").text
    assert "admin@hanoi.gov.vn deactivated counter HK-01" in english
