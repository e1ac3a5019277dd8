"""The officials' dashboard: access matrix, charts, cache and the report pack."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from survey import db
from survey.domain import accounts
from survey.transfer.demo import seed_demo
from tests.helpers import PASSWORD, login, post_form

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MONTH = "2026-10"
ACCOUNTS = {
    "admin": ("admin", None),
    "analyst-HN": ("analyst", "HN"),
    "official-P-HK": ("official", "P-HK"),
    "officer-P-HK": ("officer", "P-HK"),
}


@pytest.fixture(scope="module")
def chart_formats():
    from analysis import charts

    return charts.CHART_NAMES, charts.FORMATS


@pytest.fixture
def demo(app):
    with app.app_context():
        s = db.session()
        seed_demo(s, months=3, per_month=150, seed=5, now=NOW)
        for name, (role, agency) in ACCOUNTS.items():
            accounts.create_user(s, f"{name}@hanoi.gov.vn", role, PASSWORD, agency)
        s.commit()
    return app


def as_user(app, name):
    client = app.test_client()
    if name is not None:
        assert login(client, f"{name}@hanoi.gov.vn").status_code == 303
    return client


def urls(agency: str, status: int) -> list[str]:
    query = f"?month={MONTH}&questionnaire=sipas&agency={agency}"
    found = [
        f"/dashboard{query}",
        f"/dashboard/charts/trend.png{query}",
        f"/dashboard/charts/heatmap.svg{query}",
        f"/dashboard/report/{MONTH}.xlsx{query}",
    ]
    # Building the PDF takes seconds: its access is checked where it is refused, its content below.
    return found if status == 200 else [*found, f"/dashboard/report/{MONTH}.pdf{query}"]


# (account, agency asked for) -> expected status of every page, chart and download
MATRIX = [
    (None, "ALL", 302),
    (None, "P-HK", 302),
    ("officer-P-HK", "P-HK", 403),
    ("officer-P-HK", "ALL", 403),
    ("admin", "ALL", 200),
    ("admin", "P-HK", 200),
    ("analyst-HN", "HN", 200),
    ("analyst-HN", "P-HK", 200),
    ("analyst-HN", "ALL", 404),
    ("official-P-HK", "P-HK", 200),
    ("official-P-HK", "P-BD", 404),
    ("official-P-HK", "HN", 404),
    ("official-P-HK", "ALL", 404),
]


@pytest.mark.parametrize(("account", "agency", "status"), MATRIX)
def test_access_matrix(demo, account, agency, status):
    client = as_user(demo, account)
    for url in urls(agency, status):
        reply = client.get(url)
        assert reply.status_code == status, url
        if status == 302:
            assert "/auth/login" in reply.headers["Location"]
        if status != 200:
            assert b"%PDF" not in reply.data and b"<svg" not in reply.data


def test_scoped_user_lands_on_their_agency(demo):
    page = as_user(demo, "official-P-HK").get("/dashboard")
    assert page.status_code == 200
    assert "UBND Phường Hoàn Kiếm" in page.text and "UBND Phường Ba Đình" not in page.text


def test_dashboard_page_says_where_figures_come_from(demo):
    page = as_user(demo, "admin").get(f"/dashboard?month={MONTH}&questionnaire=sipas")
    html = page.text
    assert "Khảo sát tại quầy" in html and "không phải Chỉ số SIPAS chính thức" in html
    assert html.count("<details>") >= 5 and html.count('alt="') >= 5
    assert "Mục tiêu 86 %" in html or "86" in html
    assert 'href="/dashboard?month=2026-10&amp;questionnaire=sipas&amp;agency=P-HK"' in html


def test_unknown_selection_is_not_found(demo):
    client = as_user(demo, "admin")
    assert client.get("/dashboard?month=2026-13").status_code == 404
    assert client.get("/dashboard?questionnaire=nope").status_code == 404
    assert client.get("/dashboard?agency=NOPE").status_code == 404
    assert client.get(f"/dashboard/charts/nope.png?month={MONTH}").status_code == 404
    assert client.get(f"/dashboard/charts/trend.gif?month={MONTH}").status_code == 404
    assert client.get(f"/dashboard/report/{MONTH}.doc").status_code == 404


def test_every_chart_decodes_in_every_format(demo, chart_formats):
    from PIL import Image

    names, formats = chart_formats
    assert {"trend", "ranking", "elements", "heatmap", "priorities"} <= set(names)
    client = as_user(demo, "admin")
    for name in names:
        for fmt in formats:
            reply = client.get(f"/dashboard/charts/{name}.{fmt}?month={MONTH}&questionnaire=sipas&agency=HN")
            assert reply.status_code == 200, (name, fmt)
            if fmt == "png":
                image = Image.open(io.BytesIO(reply.data))
                assert image.format == "PNG" and image.width > 300
            elif fmt == "svg":
                root = ET.fromstring(reply.data)
                assert root.tag.endswith("svg")
                assert "Khảo sát tại quầy" in reply.data.decode()
            else:
                assert reply.data.startswith(b"%PDF")


def test_report_pack_pdf_and_xlsx(demo):
    client = as_user(demo, "analyst-HN")
    for fmt in ("pdf", "xlsx"):  # prepared by the task queue: at once in tests (tests/web/test_packs.py)
        prepared = post_form(client, f"/dashboard/report/{MONTH}.{fmt}?questionnaire=sipas&agency=HN", {})
        assert prepared.status_code == 303
        assert "Số liệu cập nhật lúc" in client.get(prepared.headers["Location"]).text
        download = client.get(prepared.headers["Location"] + "/download")
        assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
        if fmt == "pdf":
            pdf = download.data
            assert pdf.startswith(b"%PDF")
            assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type/Page") >= 6
        else:
            book = load_workbook(io.BytesIO(download.data), read_only=True)
            assert {"overall", "criterion"} <= set(book.sheetnames)
            book.close()


def test_report_pack_command(demo, tmp_path):
    result = demo.test_cli_runner().invoke(
        args=["report", "pack", "--month", MONTH, "--out", str(tmp_path), "--agency", "P-HK"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"bao-cao-P-HK-sipas-{MONTH}.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / f"bao-cao-P-HK-sipas-{MONTH}.xlsx").exists()
    bad = demo.test_cli_runner().invoke(
        args=["report", "pack", "--month", MONTH, "--out", str(tmp_path), "--agency", "NOPE"]
    )
    assert bad.exit_code == 2 and "no agency 'NOPE'" in bad.output


def test_charts_looked_at_are_drawn_ahead_of_new_figures(demo, monkeypatch):
    from survey.reporting import freshness, snapshot
    from survey.web import dashboard

    client = as_user(demo, "official-P-HK")
    url = "/dashboard/charts/trend.png?month=2026-11&questionnaire=sipas&agency=P-HK&lang=en"  # the newest month
    page = "/dashboard?month=2026-11&questionnaire=sipas&agency=P-HK&lang=en"
    first = client.get(url)
    assert first.status_code == 200 and client.get(page).status_code == 200
    with demo.app_context():
        freshness.changed()  # new figures are due, as after an import
        assert snapshot.refresh(db.session(), heartbeat=True) >= snapshot.KEPT_MONTHS  # as the watcher does

    def not_here(*args):
        raise AssertionError("drawn in the request")

    monkeypatch.setattr(dashboard, "_render_chart", not_here)  # the requests find them drawn
    monkeypatch.setattr(dashboard, "_render_figures", not_here)
    shown = client.get(page)
    assert shown.status_code == 200 and b"Figures as of" in shown.data and b"Log out" in shown.data
    again = client.get(url, headers={"If-None-Match": first.get_etag()[0]})
    assert again.status_code == 200 and again.get_etag()[0] != first.get_etag()[0]
    assert again.data.startswith(b"\x89PNG")
