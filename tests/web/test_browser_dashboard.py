"""The officials' dashboard in a real Chromium: default month, language, formats, phones, keyboard, WCAG."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from survey import db
from survey.domain import accounts
from tests.browser import axe_violations, chromium, live_server
from tests.helpers import PASSWORD

# What a person sees here does not depend on the database: SQLite only (tests/web/test_browser.py runs both).
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PHONE = {"width": 360, "height": 740}
VI_STATUS = ("Đạt", "Chưa đạt", "Chưa đủ cơ sở kết luận", "Quá ít phiếu", "chưa kết luận được")
EN_STATUS = ("Met", "Not met", "Not yet conclusive", "Too few answers")


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def demo(app):
    from survey.transfer.demo import seed_demo

    with app.app_context():
        seed_demo(db.session(), months=2, per_month=80, seed=2, now=datetime.now(UTC))
        accounts.create_user(db.session(), "official@hanoi.gov.vn", "official", PASSWORD, "HN")
        db.session().commit()
    return app


def last_complete_month() -> str:
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()  # the office's time zone (TIMEZONE)
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def signed_in(browser, base, viewport, lang="vi"):
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(15_000)
    page.goto(base + "/auth/login?lang=vi")
    page.get_by_label("Thư điện tử").fill("official@hanoi.gov.vn")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    page.goto(f"{base}/dashboard?lang={lang}")
    return page


def badges(page) -> set[str]:
    return {text.strip() for text in page.locator(".badge").all_text_contents()}


def test_dashboard_in_both_languages(demo, browser):
    with live_server(demo) as base:
        page = signed_in(browser, base, {"width": 1366, "height": 900})
        assert page.locator("#month").input_value() == last_complete_month()
        assert badges(page) and badges(page) <= set(VI_STATUS)
        main = page.text_content("main")
        assert re.search(r"\d,\d %", main) and not re.search(r"\d\.\d%", main)
        year, month = last_complete_month().split("-")
        assert f"tháng {month}/{year}" in page.text_content("#headline-title")
        assert axe_violations(page) == []

        page.goto(f"{base}/dashboard?lang=en")
        assert page.locator("#month").input_value() == last_complete_month()
        assert badges(page) and badges(page) <= set(EN_STATUS)
        main = page.text_content("main")
        assert not any(word in main for word in VI_STATUS[1:])
        assert re.search(r"\d\.\d%", main) and not re.search(r"\d,\d %", main)
        english = datetime(int(year), int(month), 1).strftime("%B")
        assert f"{english} {year}" in page.text_content("#headline-title")
        alts = page.locator("main img").evaluate_all("images => images.map(i => i.alt)")
        assert alts and all(re.search(r"\d", alt) for alt in alts) and not any("Biểu đồ" in a for a in alts)
        assert axe_violations(page) == []


def test_dashboard_on_a_phone(demo, browser):
    with live_server(demo) as base:
        page = signed_in(browser, base, PHONE)
        page.locator("details").first.evaluate("d => d.open = true")  # a wide table, open
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # Each chart is shown at its own size (its text ≥ 11 px) and scrolls inside its card.
        sizes = page.locator(".chart img").evaluate_all("images => images.map(i => [i.width, i.naturalWidth])")
        assert sizes and all(width >= 0.9 * natural for width, natural in sizes if natural)


def test_skip_link_is_the_first_tab_stop(demo, browser):
    with live_server(demo) as base:
        page = signed_in(browser, base, {"width": 1366, "height": 900})
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.className, document.activeElement.getAttribute('href')]")
        assert focused == ["skip", "#main"]
        assert page.locator(".skip").is_visible()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"


def test_a_report_packs_status_page_follows_the_job_by_itself(demo, browser):
    """No meta refresh: the page's script follows the job and shows the download once it is ready."""
    from playwright.sync_api import expect
    from sqlalchemy import update

    from survey.models import ReportJob
    from survey.reporting import insights, packs

    with demo.app_context():
        session = db.session()
        job = packs.start(session, insights.Selection(last_complete_month(), "sipas", "HN"), "xlsx", None)
        session.commit()
        session.execute(update(ReportJob).where(ReportJob.id == job.id).values(state="running", progress=40))
        session.commit()
        job_id = job.id
    with live_server(demo) as base:
        page = signed_in(browser, base, {"width": 1024, "height": 768})
        page.goto(f"{base}/dashboard/report/jobs/{job_id}")
        assert page.locator('meta[http-equiv="refresh"]').count() == 0
        assert page.locator("#pack-progress").get_attribute("value") == "40"
        assert axe_violations(page) == []
        with demo.app_context():
            db.session().execute(update(ReportJob).where(ReportJob.id == job_id).values(progress=70))
            db.session().commit()
        expect(page.locator("#pack-progress")).to_have_attribute("value", "70", timeout=15_000)  # no eval: the CSP
        with demo.app_context():
            db.session().execute(update(ReportJob).where(ReportJob.id == job_id).values(state="failed", error="x"))
            db.session().commit()
        page.get_by_role("alert").wait_for(timeout=15_000)  # the page reloaded itself into its new state
        assert "/dashboard/report/jobs/" in page.url
