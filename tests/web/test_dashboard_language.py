"""The dashboard opens on the last complete month and reads in the user's language, numbers and dates too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from survey import db
from survey.domain import accounts
from survey.transfer.demo import seed_demo
from tests.helpers import PASSWORD, login

VI_STATUS = ("Chưa đủ cơ sở kết luận", "Chưa đạt", "Quá ít phiếu", "Đạt", "chưa kết luận được")
EN_STATUS = ("Not yet conclusive", "Not met", "Too few answers", "Met")


def this_and_last_month() -> tuple[str, str]:
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()  # the office's time zone (TIMEZONE)
    last = today.replace(day=1) - timedelta(days=1)
    return today.strftime("%Y-%m"), last.strftime("%Y-%m")


@pytest.fixture
def client(app):
    """An admin signed in, with the demo's months up to now (this month partial)."""
    with app.app_context():
        s = db.session()
        seed_demo(s, months=3, per_month=150, seed=5, now=datetime.now(UTC))
        accounts.create_user(s, "admin@hanoi.gov.vn", "admin", PASSWORD, None)
        s.commit()
    client = app.test_client()
    assert login(client, "admin@hanoi.gov.vn").status_code == 303
    return client


def selected_month(html: str) -> str:
    return re.search(r'<option value="(\d{4}-\d\d)" selected>', html).group(1)


def test_opens_on_the_last_complete_month(client):
    this, last = this_and_last_month()
    html = client.get("/dashboard").text
    assert selected_month(html) == last
    assert f'<option value="{this}">tháng này, đến ngày ' in html
    assert "tháng này, đến ngày" not in html.split('id="headline-title"')[1].split("</h2>")[0]


def test_a_partial_month_says_so_and_shows_no_change(client):
    this, _ = this_and_last_month()
    html = client.get(f"/dashboard?month={this}").text
    assert selected_month(html) == this
    assert "Tháng này chưa kết thúc" in html and "Không hiển thị mức thay đổi" in html
    assert "Thay đổi so với tháng trước" not in html
    english = client.get(f"/dashboard?month={this}&lang=en").text
    assert "This month is not over" in english and "this month, up to" in english


def test_english_page_has_no_vietnamese_words_of_its_own(client):
    _, last = this_and_last_month()
    html = client.get(f"/dashboard?month={last}&lang=en").text
    for word in VI_STATUS + ("Biểu đồ", "Tỷ lệ hài lòng", "Xu hướng", "Cơ quan", "Số phiếu", "tháng "):
        assert word not in html, word
    assert "Trend of the overall satisfaction index" in html and "Too few answers" in html or "Met" in html
    assert "Quick survey of satisfaction with administrative services" in html  # the questionnaire's title
    assert ">quay-nhanh<" not in html


def test_vietnamese_page_has_no_english_status_words(client):
    _, last = this_and_last_month()
    html = client.get(f"/dashboard?month={last}&lang=vi").text
    for word in EN_STATUS + ("inconclusive", "too few answers", "not met"):
        assert f">{word}<" not in html, word
    assert "Khảo sát nhanh mức độ hài lòng" in html


def test_numbers_and_months_follow_the_locale(client):
    _, last = this_and_last_month()
    year, month = last.split("-")
    vi = client.get(f"/dashboard?month={last}&lang=vi").text
    en = client.get(f"/dashboard?month={last}&lang=en").text
    assert re.search(r'<p class="figure">\d{1,3},\d %</p>', vi)
    assert re.search(r'<p class="figure">\d{1,3}\.\d%</p>', en)
    assert f"Chỉ số hài lòng chung, tháng {month}/{year}" in vi
    english_month = datetime(int(year), int(month), 1).strftime("%B")
    assert f"Overall index, {english_month} {year}" in en
    assert not re.search(r"\d\.\d %", vi) and not re.search(r"\d,\d %", en)


def test_every_alt_text_states_figures_in_the_page_language(client):
    _, last = this_and_last_month()
    for lang, percent in (("vi", r"\d,\d %"), ("en", r"\d\.\d%")):
        html = client.get(f"/dashboard?month={last}&lang={lang}").text
        alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
        assert len(alts) == 7
        assert all(re.search(percent, alt) or re.search(r"\d", alt) for alt in alts), alts
        assert not any(" đến ;" in alt or "from  to" in alt for alt in alts)


def test_heatmap_alt_text_keeps_its_figures_when_no_cell_has_enough_answers():
    import pandas as pd

    from analysis.chart_text import chart_alt

    rows = pd.DataFrame({"agency_name": ["A", "B"], "code": ["C1", "C1"], "pct_satisfied": [80.0, 90.0], "n": [3, 4]})
    text = chart_alt("heatmap", {"criterion_rows": rows, "min_n": 30})
    assert "từ  đến" not in text and "2 cơ quan theo 1 tiêu chí" in text


def test_charts_and_tables_follow_the_language(client):
    _, last = this_and_last_month()
    svg = client.get(f"/dashboard/charts/elements.svg?month={last}&lang=en").data.decode()
    assert "Satisfaction index by element" in svg and "Share satisfied (%)" in svg
    assert "Chỉ số hài lòng" not in svg and "Nguồn" not in svg
    vi_svg = client.get(f"/dashboard/charts/elements.svg?month={last}&lang=vi").data.decode()
    assert "Chỉ số hài lòng theo yếu tố" in vi_svg and "Tỷ lệ hài lòng (%)" in vi_svg
    html = client.get(f"/dashboard?month={last}&lang=en").text
    assert '<th scope="col">Share satisfied (%)</th>' in html and '<th scope="col">Tỷ lệ hài lòng (%)</th>' not in html


def test_tables_scroll_inside_their_card_and_the_skip_link_comes_first(client):
    _, last = this_and_last_month()
    html = client.get(f"/dashboard?month={last}").text
    assert html.count('class="scroll" tabindex="0" role="region" aria-label="') >= 8
    body = html.split("<body>", 1)[1]
    assert body.lstrip().startswith('<a class="skip" href="#main">') and '<main id="main"' in body


def test_report_pack_page_names_the_questionnaire_and_month_in_the_language(client):
    _, last = this_and_last_month()
    year, month = last.split("-")
    html = client.get(f"/dashboard/report/{last}.pdf?questionnaire=sipas&lang=en").text
    assert "Survey of satisfaction with administrative services" in html and ">sipas<" not in html
    assert f"{datetime(int(year), int(month), 1):%B} {year}" in html
    assert f"<strong>{month}/{year}</strong>" in client.get(f"/dashboard/report/{last}.pdf?lang=vi").text
