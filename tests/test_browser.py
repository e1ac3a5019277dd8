"""What a citizen sees and clicks, in a real Chromium at a phone's viewport."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey import db
from survey.models import Response
from tests.browser import chromium, live_server

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
