"""The counter screen and the administration in a real Chromium: the QR code's size, the screen going
back by itself, the officer's landing, and axe-core's WCAG 2.1 AA rules on the staff pages."""

from __future__ import annotations

import re

import pytest

from tests.browser import axe_violations, chromium, live_server, log_in
from tests.helpers import send

# What a person sees here does not depend on the database: SQLite only (tests/web/test_browser.py runs both).
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


def test_the_counter_screen_shows_a_large_code_and_goes_back_by_itself(staff, browser):
    with live_server(staff) as base:
        staff.config["BASE_URL"] = base
        tablet = browser.new_page(viewport=TABLET)
        tablet.set_default_timeout(10_000)
        log_in(tablet, base, "officer@hanoi.gov.vn")
        tablet.wait_for_url("**/counter/HK-01")  # the officer's only counter, straight after logging in
        assert axe_violations(tablet) == []
        tablet.get_by_role("button", name="Hoàn thành giao dịch").click()
        tablet.wait_for_url("**/qr/*")
        assert tablet.locator("meta[http-equiv=refresh]").count() == 0
        svg = tablet.locator(".qr svg").bounding_box()
        box = tablet.locator(".qr").bounding_box()
        assert svg["width"] >= 0.8 * box["width"] and svg["width"] >= 300, (svg, box)
        assert tablet.get_by_role("link", name="Kiểm tra / Quay lại").is_visible()
        assert re.fullmatch(r"[0-3]:\d\d", tablet.text_content("#time-left"))
        assert axe_violations(tablet) == []
        link = tablet.locator(".card a[href*='/t/']").get_attribute("href")
        token = link.rsplit("/t/", 1)[1]
        assert send(staff.test_client(), f"/t/{token}", {"CC1": "5"}).status_code == 303
        tablet.wait_for_url("**/counter/HK-01", timeout=15_000)
        assert "Đã nhận đánh giá" in tablet.text_content("main")


def test_the_countdown_runs_without_reloading(staff, browser):
    with live_server(staff) as base:
        tablet = browser.new_page(viewport=TABLET)
        log_in(tablet, base, "officer@hanoi.gov.vn")
        tablet.wait_for_url("**/counter/HK-01")
        tablet.get_by_role("button", name="Hoàn thành giao dịch").click()
        first = tablet.text_content("#time-left")
        # Polled from here: the page's policy lets no string be evaluated as script, Playwright's own neither.
        for _ in range(50):
            tablet.wait_for_timeout(100)
            if tablet.text_content("#time-left") != first:
                break
        assert tablet.text_content("#time-left") != first
        assert "/qr/" in tablet.url


def test_staff_pages_pass_axe(staff, browser):
    with live_server(staff) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/auth/login")
        assert axe_violations(page) == [], "login"
        log_in(page, base, "admin@hanoi.gov.vn")
        page.wait_for_url(base + "/")
        assert axe_violations(page) == [], "home"
        for name in ("counters", "users", "agencies", "services", "targets"):
            page.goto(f"{base}/admin/{name}")
            assert axe_violations(page) == [], name
        page.goto(base + "/admin/api-keys")
        assert axe_violations(page) == [], "api keys"
        page.goto(base + "/admin/counters/BD-01/deactivate")
        assert axe_violations(page) == [], "deactivate confirmation"
        page.get_by_role("button", name="Đồng ý ngừng hoạt động").click()
        page.wait_for_url("**/admin/counters?undo=BD-01")
        assert page.get_by_role("button", name="Hoàn tác").is_visible()
        assert axe_violations(page) == [], "list with the undo notice"
        page.goto(base + "/admin/audit")
        assert "admin@hanoi.gov.vn đã ngừng hoạt động quầy BD-01" in page.text_content("main")
        page.locator("details summary").first.click()
        assert axe_violations(page) == [], "audit log"
        page.goto(base + "/counter/")
        assert axe_violations(page) == [], "counter list"
