"""Weigh the citizen page's full first load in a real Chromium: bytes per resource and hosts contacted.

Usage: .venv/bin/python bench/page_weight.py
Serves the app on a temporary SQLite database, opens a counter link for each shipped questionnaire
in headless Chromium at a phone's viewport, and records every request: its body as the app sends it
(compressed: brotli, which Chromium accepts) and with its response headers, as Chromium counts them.
Target: at most 14 KB on the wire in all, no other host.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import create_app, db
from survey.domain import signing  # noqa: E402
from survey.models import Agency, Counter  # noqa: E402
from tests.browser import chromium, live_server  # noqa: E402

TARGET = 14 * 1024
logging.getLogger("werkzeug").setLevel(logging.ERROR)


def build_app(folder: str):
    url = f"sqlite:///{folder}/bench.sqlite3"
    db.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        s = db.session()
        agency = Agency(code="P-HK", name="UBND Phường Hoàn Kiếm", level="phuong")
        s.add(agency)
        for qid in app.extensions["survey.questionnaires"]["catalog"].ids():
            s.add(Counter(code=f"Q-{qid}", agency=agency, name="Quầy số 1 – Tư pháp, hộ tịch", questionnaire=qid))
        s.commit()
    return app


def weigh(browser, url: str) -> tuple[list[tuple[str, int, int, int, str]], set[str]]:
    page = browser.new_page(viewport={"width": 360, "height": 740})
    loaded = []
    page.on("requestfinished", lambda request: loaded.append(request))
    page.goto(url, wait_until="load")
    rows, hosts = [], set()
    for request in loaded:
        response = request.response()
        body = response.body() if response else b""
        sizes = request.sizes()
        encoding = (response.headers.get("content-encoding") if response else None) or "identity"
        sent = sizes["responseBodySize"]
        rows.append((request.url, len(body), sent, sent + sizes["responseHeadersSize"], encoding))
        hosts.add(urlsplit(request.url).netloc)
    page.close()
    return rows, hosts


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(folder)
        with live_server(app) as base, chromium() as browser:
            with app.app_context():
                counters = [
                    (qid, signing.counter_url(f"Q-{qid}"))
                    for qid in app.extensions["survey.questionnaires"]["catalog"].ids()
                ]
            app.config["BASE_URL"] = base
            print(f"{'questionnaire':<14}{'requests':>9}{'raw bytes':>11}{'body sent':>11}{'with headers':>14}  hosts")
            for qid, link in counters:
                path = urlsplit(link)
                rows, hosts = weigh(browser, f"{base}{path.path}?{path.query}")
                raw, body, wire = (sum(r[i] for r in rows) for i in (1, 2, 3))
                encodings = ", ".join(sorted({r[4] for r in rows}))
                own = {urlsplit(base).netloc}
                ok &= wire <= TARGET and hosts <= own
                print(
                    f"{qid:<14}{len(rows):>9}{raw:>11,}{body:>11,}{wire:>14,}  {', '.join(sorted(hosts))} ({encodings})"
                )
        app.extensions["survey.db"]["engine"].dispose()
    print(f"target: at most {TARGET:,} bytes on the wire in all, no host but the app's -> {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
