"""The citizen's page made for the person in front of it: errors where they are, an honest length,
the quick form one tap away, a nearly empty form confirmed once, Vietnamese names marked as such."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey import db
from survey.models import Response
from survey.web.citizen import length
from tests.helpers import count, hidden_fields, make_interaction, send


@pytest.fixture
def confirming(make_app):
    """An app with the default confirmation share (the shared test app turns it off)."""
    from survey.config import DEFAULTS

    return make_app(CONFIRM_BELOW_SHARE=DEFAULTS["CONFIRM_BELOW_SHARE"])


def stored_questionnaires(app) -> list[str]:
    with app.app_context():
        return [r.questionnaire_version.questionnaire for r in db.session().scalars(select(Response))]


# Errors where they are


def test_each_problem_is_listed_at_the_top_as_a_link_and_shown_beside_its_question(client, counter_path):
    reply = send(client, counter_path, {"TC1": "7", "TT2": "4", "BG_AGE": "99", "comment": "a\x00b"})
    html = reply.text
    assert reply.status_code == 422
    summary = html[html.index('id="errors"') : html.index("</ul>")]
    assert "Vui lòng xem các thông báo bên dưới" not in html
    for code in ("TC1", "BG_AGE", "comment"):
        assert f'<a href="#{code}">' in summary, code
        assert f'id="{code}-err"' in html and f'aria-describedby="{code}-err"' in html, code
    assert '<fieldset id="TC1"' in html and 'id="BG_AGE"' in html and 'id="comment"' in html
    assert re.search(r'name="TC1" value="1" aria-invalid="true"', html)
    assert 'name="TT2" value="4" checked>' in html, "answers kept, valid ones not marked invalid"
    assert html.index('id="errors"') < html.index("<fieldset"), "the summary comes first"


# Honest length, parts, the quick form


def test_the_page_says_how_long_it_takes_and_numbers_its_parts(client, counter_path, app):
    html = client.get(counter_path).text
    with app.app_context():
        from survey.domain import catalog

        sipas = catalog.current().get("sipas")
    minutes = length.minutes(sipas, "vi")
    assert minutes >= 4, "28 statements and 5 questions are not a minute's work"
    assert f"Khoảng {minutes} phút: 33 câu hỏi, chia làm 7 phần." in html
    assert "Phần 1/7: Tiếp cận dịch vụ" in html and "Phần 6/7:" in html and "Phần 7/7: Thông tin về Ông/Bà" in html
    english = client.get(counter_path + "&lang=en").text
    assert "Part 2/7: Administrative procedures" in english and "questions in 7 parts" in english


def test_the_quick_form_is_one_tap_away_and_stored_as_its_own_questionnaire(app, client, counter_path):
    html = client.get(counter_path).text
    link = re.search(r'<p class="card quick"><a href="([^"]+)">([^<]+)</a>', html)
    assert link and "Đang vội? Trả lời bản rút gọn: 5 câu hỏi" in link.group(2)
    quick_path = link.group(1).replace("&amp;", "&")
    assert quick_path.startswith(counter_path) and quick_path.endswith("q=quay-nhanh")
    quick = client.get(quick_path).text
    assert "Khảo sát nhanh" in quick and 'class="card quick"' not in quick
    assert quick.count("<fieldset") == 5 and f'action="{link.group(1)}"' in quick
    assert send(client, quick_path, {"QN_CC": "5", "QN_KQ": "4", "QN_TT": "3"}).status_code == 303
    assert send(client, counter_path, {"TC1": "5"}).status_code == 303
    assert sorted(stored_questionnaires(app)) == ["quay-nhanh", "sipas"]


@pytest.mark.parametrize("choice", ["sipas", "tt01", "QUAY-NHANH", ""])
def test_only_the_quick_form_can_be_chosen(client, counter_path, choice):
    assert client.get(f"{counter_path}&q={choice}").status_code == 404


def test_the_quick_form_of_a_one_time_link_uses_the_token(app, client, counter):
    token = make_interaction(app)
    assert "Khảo sát nhanh" in client.get(f"/t/{token}?q=quay-nhanh").text
    assert send(client, f"/t/{token}?q=quay-nhanh", {"QN_CC": "5"}).status_code == 303
    assert client.get(f"/t/{token}").status_code == 410
    assert stored_questionnaires(app) == ["quay-nhanh"]


# A nearly empty form is confirmed once


def test_a_nearly_empty_form_asks_once_before_it_is_stored(confirming, counter_path):
    client = confirming.test_client()
    reply = send(client, counter_path, {"TC1": "5", "PA3": "na"})
    html = reply.text
    assert reply.status_code == 200 and count(confirming, Response) == 0
    assert "Ông/Bà mới trả lời 2/28 câu. Gửi luôn hay trả lời tiếp?" in html
    assert 'name="TC1" value="5" checked' in html and 'name="PA3" value="na" checked' in html, "answers kept"
    assert '<a class="btn" href="#TC2">Trả lời tiếp</a>' in html, "continue goes to the first unanswered question"
    assert html.index('name="confirmed"') < html.index("<form", html.index('name="confirmed"')), (
        "send-as-is is in a form of its own: Enter in the questions never confirms"
    )
    confirm_form = html[html.index('id="confirm"') : html.index("</form>")]
    sent = {**hidden_fields(confirm_form), "confirmed": "1"}
    assert sent["TC1"] == "5" and sent["PA3"] == "na" and "TC2" not in sent
    assert client.post(counter_path, data=sent).status_code == 303
    assert client.post(counter_path, data=sent).status_code == 303, "the same key is acknowledged again"
    assert count(confirming, Response) == 1


def test_a_form_answered_enough_or_confirmed_is_stored_at_once(confirming, counter_path):
    client = confirming.test_client()
    half = {code: "4" for code in ["TC1", "TC2", "TC3", "TC4", "TT1", "TT2", "TT3", "TT4", "CC1", "CC2"]}
    half |= {code: "na" for code in ["CC3", "CC4", "CC5", "KQ1"]}  # 14 of 28: a deliberate "no opinion" counts
    assert send(client, counter_path, half).status_code == 303
    assert send(client, counter_path, {"TC1": "2", "confirmed": "1"}).status_code == 303
    assert count(confirming, Response) == 2


def test_errors_come_before_the_confirmation_and_the_quick_form_is_asked_under_the_share(confirming, counter_path):
    client = confirming.test_client()
    reply = send(client, counter_path, {"TC1": "9"})
    assert reply.status_code == 422 and 'id="confirm"' not in reply.text
    quick = counter_path + "&q=quay-nhanh"
    assert "mới trả lời 2/5 câu" in send(client, quick, {"QN_TC": "4", "QN_TT": "5"}).text
    assert send(client, quick, {"QN_TC": "4", "QN_TT": "5", "QN_CC": "5"}).status_code == 303


# Vietnamese names on English pages


def test_vietnamese_names_are_marked_on_english_pages(client, counter_path):
    english = client.get(counter_path + "&lang=en").text
    assert '<h1 lang="vi">UBND Phường Hoàn Kiếm</h1>' in english
    assert '<p lang="vi">Quầy số 1 – Tư pháp, hộ tịch</p>' in english
    vietnamese = client.get(counter_path + "&lang=vi").text
    assert "<h1>UBND Phường Hoàn Kiếm</h1>" in vietnamese
