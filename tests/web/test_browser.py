"""What a citizen sees and clicks, in a real Chromium at a phone's viewport."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey import db
from survey.domain import accounts
from survey.models import Response
from tests.browser import chromium, live_server, log_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_citizen_answers_on_a_phone(app, counter_path, browser, javascript):
    with live_server(app) as base:
        context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, is_mobile=True, has_touch=True)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto(base + counter_path)
        assert "Khảo sát tại quầy" in page.text_content("header")
        # Nothing wider than the phone: no horizontal scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("group", name="Công chức có thái độ giao tiếp lịch sự").get_by_role(
            "radio", name="5 Rất hài lòng"
        ).check()
        page.get_by_role("group", name="Kết quả giải quyết thủ tục hành chính được trả đúng hẹn.").get_by_role(
            "radio", name="4 Hài lòng"
        ).check()
        page.get_by_role("group", name="Cơ quan thông báo kết quả xử lý phản ánh").get_by_role(
            "radio", name="Không có ý kiến"
        ).check()
        page.get_by_label("Ý kiến khác").fill("Cán bộ hướng dẫn nhiệt tình <b>cảm ơn</b>")
        page.get_by_role("button", name="Gửi đánh giá").click()
        page.wait_for_url("**/thanks")
        assert "Cảm ơn Ông/Bà!" in page.text_content("main")
        context.close()
    with app.app_context():
        response = db.session().scalar(select(Response))
        answers = {a.item_code: a.value if a.value is not None else a.text for a in response.answers}
    assert answers == {"CC1": 5, "KQ1": 4, "COMMENT": "Cán bộ hướng dẫn nhiệt tình <b>cảm ơn</b>"}


def test_a_mistake_is_shown_and_the_answers_kept(app, counter_path, browser):
    with live_server(app) as base:
        page = browser.new_page(viewport=PHONE)
        page.goto(base + counter_path)
        page.get_by_role("button", name="Gửi đánh giá").click()
        assert page.get_by_role("alert").is_visible()
        assert "Vui lòng đánh giá ít nhất một nội dung" in page.text_content("[role=alert]")
        page.get_by_role("group", name="Thành phần hồ sơ").get_by_role("radio", name="3 Bình thường").check()
        page.get_by_role("button", name="Gửi đánh giá").click()
        page.wait_for_url("**/thanks")
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Response)) == 1


@pytest.fixture
def staffed(app, counter):
    from survey.transfer.demo import seed_demo

    with app.app_context():
        seed_demo(db.session(), months=2, per_month=80, seed=2)
        accounts.create_user(db.session(), "officer@hanoi.gov.vn", "officer", PASSWORD, "P-HK")
        accounts.create_user(db.session(), "official@hanoi.gov.vn", "official", PASSWORD, "HN")
        db.session().commit()
    return app


def test_counter_flow_end_to_end(staffed, browser):
    with live_server(staffed) as base:
        staffed.config["BASE_URL"] = base  # the links the counter screen prints
        tablet = browser.new_page(viewport={"width": 1024, "height": 768})
        log_in(tablet, base, "officer@hanoi.gov.vn")
        tablet.goto(base + "/counter/HK-01")
        tablet.get_by_role("button", name="Hoàn thành giao dịch").click()
        link = tablet.locator(".card a[href*='/t/']").get_attribute("href")
        assert tablet.locator(".qr svg").is_visible()
        phone = browser.new_page(viewport=PHONE)
        phone.goto(link)
        phone.get_by_role("group", name="Công chức có thái độ giao tiếp lịch sự").get_by_role(
            "radio", name="5 Rất hài lòng"
        ).check()
        phone.get_by_role("button", name="Gửi đánh giá").click()
        phone.wait_for_url("**/thanks")
        # The tablet notices the answer (its script polls) and goes back to the button with a thank-you note.
        tablet.wait_for_url("**/counter/HK-01", timeout=15_000)
        assert "Đã nhận đánh giá" in tablet.text_content("main")


def test_official_sees_charts_and_downloads_the_report(staffed, browser):
    with live_server(staffed) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, base, "official@hanoi.gov.vn")
        page.goto(base + "/dashboard")
        assert "Khảo sát tại quầy" in page.text_content("main")
        images = page.locator("figure img")
        assert images.count() >= 5
        page.locator("figure img").last.scroll_into_view_if_needed()
        for i in range(images.count()):
            images.nth(i).scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=images.nth(i).element_handle())
        page.get_by_role("link", name="Bộ báo cáo (PDF)").click()
        page.get_by_role("button", name="Chuẩn bị").click()  # the pack is prepared in the background
        ready = page.get_by_role("link", name="Tải bộ báo cáo")
        ready.wait_for(timeout=60_000)  # the status page refreshes itself until the pack is ready
        assert "Số liệu cập nhật lúc" in page.text_content("main")
        with page.expect_download() as download:
            ready.click()
        path = download.value.path()
        with open(path, "rb") as fh:
            assert fh.read(4) == b"%PDF"
