"""A live server and a real Chromium for browser tests (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server
from werkzeug.wsgi import ClosingIterator

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)


class _InFlight:
    """WSGI middleware counting the requests still being answered (the server's threads are not joined)."""

    def __init__(self, app):
        self.app, self.active, self.idle = app, 0, threading.Condition()

    def _done(self) -> None:
        with self.idle:
            self.active -= 1
            self.idle.notify_all()

    def __call__(self, environ, start_response):
        with self.idle:
            self.active += 1
        try:
            return ClosingIterator(self.app(environ, start_response), [self._done])
        except BaseException:
            self._done()
            raise

    def wait(self, seconds: float) -> None:
        with self.idle:
            self.idle.wait_for(lambda: self.active == 0, timeout=seconds)


@contextmanager
def live_server(app):
    """Serve app on a free local port in a background thread; yields the base URL.

    On the way out it waits for requests still being answered (a page's script may be polling), so that
    their database connections are back in the pool before the test's engine is disposed."""
    counted = _InFlight(app)
    server = make_server("127.0.0.1", 0, counted, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        counted.wait(10)


@contextmanager
def chromium():
    """A headless Chromium browser."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[str]:
    """The WCAG 2.1 A and AA rules axe-core finds broken on the page as shown: 'rule: target …' lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    return [f"{v['id']}: {', '.join(str(n['target']) for n in v['nodes'][:5])}" for v in results.response["violations"]]


def log_in(page, base: str, email: str, password: str | None = None) -> None:
    """Sign a staff account in through the login page (in Vietnamese, the default language)."""
    from tests.helpers import PASSWORD

    page.goto(base + "/auth/login")
    page.get_by_label("Thư điện tử").fill(email)
    page.get_by_label("Mật khẩu").fill(password or PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
