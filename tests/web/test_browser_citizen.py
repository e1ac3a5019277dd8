"""Every citizen page reflows on a small phone and at 200 % zoom, and passes axe-core's WCAG 2.1 AA rules."""

from __future__ import annotations

import pytest

from tests.browser import axe_violations, chromium, live_server
from tests.helpers import make_interaction

# What a person sees here does not depend on the database: SQLite only (tests/web/test_browser.py runs both).
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# 320 CSS px: WCAG 1.4.10's width. A 360 px phone zoomed to 200 % lays the page out in 180 CSS px,
# each drawn with twice the device pixels: that is what Chromium's own zoom does to the viewport.
SCREENS = {
    "320": {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 2},
    "360 at 200 %": {"viewport": {"width": 180, "height": 370}, "device_scale_factor": 4},
}
LANGUAGES = ["vi", "en"]


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def site(app, counter):
    """The live server's base URL and the paths of every citizen page."""
    from survey.domain import signing

    with app.test_request_context():
        counter_path = signing.counter_url(counter).removeprefix(app.config["BASE_URL"])
    paths = {
        "counter form": counter_path,
        "quick form": counter_path + "&q=quay-nhanh",
        "token form": f"/t/{make_interaction(app)}",
        "thanks": "/thanks",
        "not found": "/q/NOPE?s=x",
        "used link": f"/t/{make_interaction(app, used=True)}",
    }
    with live_server(app) as base:
        yield base, paths


def open_page(browser, screen: str, javascript: bool = False):
    context = browser.new_context(**SCREENS[screen], java_script_enabled=javascript, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    return context.new_page()


def with_lang(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


def overflow(page) -> int:
    """How many CSS px the page is wider than the screen (0: no horizontal scrolling).

    Against the screen's width, not window.innerWidth: a mobile browser zooms out to fit a page wider
    than the screen, and innerWidth grows with it.
    """
    return page.evaluate("document.documentElement.scrollWidth") - page.viewport_size["width"]


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_citizen_page_reflows_without_horizontal_scrolling(browser, site, screen, lang):
    base, paths = site
    page = open_page(browser, screen)
    for name, path in paths.items():
        page.goto(base + with_lang(path, lang))
        assert overflow(page) <= 0, f"{name} ({lang}, {screen}) scrolls sideways"
    page.goto(base + with_lang(paths["counter form"], lang))
    page.get_by_role("button").last.click()  # nothing answered: the form comes back with its messages
    assert page.locator("#errors").is_visible()
    assert overflow(page) <= 0, f"the form with errors ({lang}, {screen}) scrolls sideways"
    page.context.close()


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_option_labels_are_readable(browser, site, screen, lang):
    base, paths = site
    page = open_page(browser, screen)
    page.goto(base + with_lang(paths["counter form"], lang))
    labels = page.locator(".o span")
    sizes = labels.evaluate_all("spans => spans.map(s => parseFloat(getComputedStyle(s).fontSize))")
    assert len(sizes) == 19 * 6 + 9 * 4 and min(sizes) >= 14
    widest = labels.first  # "1 Rất không hài lòng" / "1 Very dissatisfied", the longest label; its text's lines:
    lines = widest.evaluate(
        "s => { const r = document.createRange(); r.selectNode(s.lastChild); "
        "return new Set([...r.getClientRects()].map(c => Math.round(c.top))).size }"
    )
    assert 1 <= lines <= 2, f"the first option wraps onto {lines} lines"
    page.context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_citizen_pages_pass_axe(browser, site, lang):
    base, paths = site
    page = open_page(browser, "320", javascript=True)  # axe-core runs as a script in the page
    found = {}
    page.goto(base + with_lang(paths["counter form"], lang))
    found["form"] = axe_violations(page)
    # A value the page does not offer, as a damaged or forged form would send: an error beside TC1.
    page.evaluate("const i = document.querySelector('input[name=TC1]'); i.value = '9'; i.checked = true")
    page.get_by_role("button").last.click()
    assert page.locator("#errors a[href='#TC1']").is_visible()
    found["form with errors"] = axe_violations(page)
    page.goto(base + with_lang(paths["token form"], lang))
    found["token form"] = axe_violations(page)
    page.goto(base + with_lang("/thanks", lang))
    found["thanks"] = axe_violations(page)
    page.goto(base + with_lang(paths["used link"], lang))
    found["used link"] = axe_violations(page)
    assert found == {name: [] for name in found}
    page.context.close()


def test_a_nearly_empty_form_is_confirmed_in_the_browser(make_app, counter_path, browser):
    app = make_app(CONFIRM_BELOW_SHARE=0.5)  # on the database the counter fixture filled
    with live_server(app) as base:
        page = open_page(browser, "320", javascript=True)
        page.goto(base + counter_path)
        option = page.get_by_role("group", name="Công chức có thái độ giao tiếp lịch sự").get_by_role(
            "radio", name="5 Rất hài lòng"
        )
        option.check()
        option.press("Enter")  # Enter on a focused option sends the form
        notice = page.locator("#confirm")
        assert "mới trả lời 1/28 câu" in notice.text_content()
        assert axe_violations(page) == []
        assert overflow(page) <= 0
        page.get_by_role("link", name="Trả lời tiếp").click()
        assert page.url.endswith("#TC1")
        page.get_by_role("button", name="Gửi luôn").click()
        page.wait_for_url("**/thanks")
        page.context.close()
