"""Time the citizen's form on a slow phone network: first contentful paint, and submit to thank-you.

Usage: .venv/bin/python bench/first_render.py [--runs 5] [--questionnaire sipas]
Serves the app on a temporary SQLite database with one counter, opens its signed link in headless
Chromium at a phone's viewport, and throttles the page through the Chrome DevTools Protocol to the
DevTools "Slow 4G" preset (150 ms latency, 1.6 Mbit/s down, 750 kbit/s up) with the cache disabled.
Each run uses a fresh browser context, so every load is cold, and measures:

- first contentful paint of the form: the 'first-contentful-paint' entry of the Performance API
  (milliseconds from navigation start), read after the load event;
- submit to thank-you: the form is answered (one option in every radio group), then wall-clock time
  from the click on the send button until /thanks has loaded and its first contentful paint exists
  (also shown: that paint as the new page's navigation timing gives it, which starts at the POST).

The server is warmed once before the runs (templates compiled), as a production server would be.
Target: median under 1.5 s for each figure.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from questionnaires import load_catalog  # noqa: E402
from survey import create_app, db
from survey.domain import signing  # noqa: E402
from survey.models import Agency, Counter, Response  # noqa: E402
from tests.browser import chromium, live_server  # noqa: E402

TARGET_MS = 1500
PHONE = {"width": 360, "height": 740}
SLOW_4G = {
    "offline": False,
    "latency": 150,  # ms
    "downloadThroughput": 1_600_000 / 8,  # bytes per second
    "uploadThroughput": 750_000 / 8,
}
NETWORK = "Slow 4G (150 ms, 1.6 Mbit/s down, 750 kbit/s up, no cache)"
TIMEOUT_MS = 60_000
FCP = "performance.getEntriesByName('first-contentful-paint').length > 0"
READ_FCP = """() => new Promise((resolve) => {
  const seen = performance.getEntriesByName('first-contentful-paint');
  if (seen.length) return resolve(seen[0].startTime);
  new PerformanceObserver((list, observer) => {
    const entry = list.getEntriesByName('first-contentful-paint')[0];
    if (entry) { observer.disconnect(); resolve(entry.startTime); }
  }).observe({type: 'paint', buffered: true});
})"""
logging.getLogger("werkzeug").setLevel(logging.ERROR)


def build_app(folder: str, questionnaire: str):
    url = f"sqlite:///{folder}/bench.sqlite3"
    db.upgrade(url)
    config = {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"}
    app = create_app(config)  # request lines off: they would interleave with the figures
    with app.app_context():
        s = db.session()
        agency = Agency(code="P-HK", name="UBND Phường Hoàn Kiếm", level="phuong")
        s.add(agency)
        s.add(Counter(code="Q-1", agency=agency, name="Quầy số 1 – Tư pháp, hộ tịch", questionnaire=questionnaire))
        s.commit()
    return app


def one_run(browser, url: str) -> tuple[float, float, float]:
    """(form FCP, click to thank-you painted by the wall clock, thank-you FCP by navigation timing), in ms."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)

        page.goto(url, wait_until="load")
        form_fcp = page.evaluate(READ_FCP)

        groups = page.locator("form fieldset")
        count = groups.count()
        for i in range(count):
            # The radio itself is transparent under its label's span: click the label, as a thumb does.
            groups.nth(i).locator("label").first.click()
        checked = page.locator("form fieldset input[type=radio]:checked").count()
        if count == 0 or checked != count:
            raise RuntimeError(f"answered {checked} of {count} radio groups")

        start = time.perf_counter()
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/thanks", wait_until="load")
        page.wait_for_function(FCP, polling=10)
        wall = (time.perf_counter() - start) * 1000
        thanks_fcp = page.evaluate(READ_FCP)
        cdp.detach()
        return form_fcp, wall, thanks_fcp
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads and submissions (default 5)")
    parser.add_argument("--questionnaire", default="sipas", help="questionnaire of the counter (default sipas)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.questionnaire not in (ids := load_catalog().ids()):
        parser.error(f"unknown questionnaire {args.questionnaire!r}; choose from {', '.join(ids)}")

    rows: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(folder, args.questionnaire)
        try:
            with app.app_context():
                path = urlsplit(signing.counter_url("Q-1"))
            target = f"{path.path}?{path.query}"
            warm = app.test_client()
            if warm.get(target).status_code != 200 or warm.get("/thanks").status_code != 200:
                raise RuntimeError("the counter link or /thanks does not answer 200")
            with live_server(app) as base, chromium() as browser:
                url = base + target
                print(f"{args.questionnaire} form, {args.runs} cold runs, {NETWORK}")
                print(f"{'run':>4}{'form FCP':>11}{'submit→thanks':>16}{'thanks FCP (nav)':>19}")
                for run in range(1, args.runs + 1):
                    form_fcp, wall, thanks_fcp = one_run(browser, url)
                    rows.append((form_fcp, wall, thanks_fcp))
                    print(f"{run:>4}{form_fcp:>9.0f}ms{wall:>14.0f}ms{thanks_fcp:>17.0f}ms", flush=True)
            with app.app_context():
                stored = db.session().scalar(select(func.count()).select_from(Response))
            if stored != args.runs:
                raise RuntimeError(f"{stored} responses stored for {args.runs} submissions")
        finally:
            app.extensions["survey.db"]["engine"].dispose()

    form_median = statistics.median(r[0] for r in rows)
    wall_median = statistics.median(r[1] for r in rows)
    nav_median = statistics.median(r[2] for r in rows)
    ok = form_median < TARGET_MS and wall_median < TARGET_MS
    print(f"{'med':>4}{form_median:>9.0f}ms{wall_median:>14.0f}ms{nav_median:>17.0f}ms")
    for name, value in (("form first contentful paint", form_median), ("submit to thank-you painted", wall_median)):
        verdict = "met" if value < TARGET_MS else "NOT MET"
        print(f"{name}: median {value / 1000:.3f} s, target under {TARGET_MS / 1000:.1f} s -> {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
