"""The citizen's page: open from the QR code, answer, counted once."""

from __future__ import annotations

import gzip
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from survey import db
from survey.models import Answer, Interaction, Response, utcnow
from tests.helpers import count, hidden_fields, make_interaction, send

SIPAS_CODES = (
    [f"TC{i}" for i in range(1, 5)]
    + [f"TT{i}" for i in range(1, 5)]
    + [f"CC{i}" for i in range(1, 6)]
    + [f"KQ{i}" for i in range(1, 4)]
    + [f"PA{i}" for i in range(1, 4)]
)


def test_counter_page_shows_the_questionnaire(client, counter_path):
    page = client.get(counter_path)
    html = page.text
    assert page.status_code == 200
    assert '<html lang="vi">' in html
    assert "UBND Phường Hoàn Kiếm" in html and "Quầy số 1 – Tư pháp, hộ tịch" in html
    assert "Khảo sát tại quầy" in html
    assert "Tiếp cận dịch vụ" in html and "Công chức có thái độ giao tiếp lịch sự, tôn trọng đối với người dân." in html
    for code in SIPAS_CODES:
        values = re.findall(rf'name="{code}" value="([^"]+)"', html)
        assert values == ["1", "2", "3", "4", "5", "na"], code
    assert html.count("<fieldset") == 19 + 9 and html.count("<legend>") == 19 + 9
    assert "Không có ý kiến" in html and "Rất không hài lòng" in html
    assert set(hidden_fields(html)) == {"csrf_token", "submission_key"}


def test_counter_page_is_small_self_contained_and_scriptless(client, counter_path):
    page = client.get(counter_path)
    assert len(gzip.compress(page.data)) <= 14 * 1024
    assert "<script" not in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text), "loads nothing from other hosts"
    assert 'name="viewport" content="width=device-width' in page.text


def test_each_render_has_its_own_submission_key(client, counter_path):
    keys = {hidden_fields(client.get(counter_path).text)["submission_key"] for _ in range(3)}
    assert len(keys) == 3


def test_cached_page_gives_each_citizen_their_own_tokens_and_follows_renames(app, counter_path):
    """The fresh page is kept per counter; tokens, keys and the counter's current name are never stale."""
    from survey.models import Counter

    citizens = [app.test_client() for _ in range(3)]
    pages = [hidden_fields(c.get(counter_path).text) for c in citizens]
    assert len({p["csrf_token"] for p in pages}) == 3 and len({p["submission_key"] for p in pages}) == 3
    for citizen, hidden in zip(citizens, pages, strict=True):
        assert citizen.post(counter_path, data={**hidden, "TC1": "4"}).status_code == 303
    assert count(app, Response) == 3
    with app.app_context():
        db.session().scalar(select(Counter)).name = "Quầy số 1 (đổi tên)"
        db.session().commit()
    assert "Quầy số 1 (đổi tên)" in citizens[0].get(counter_path).text


def test_english_on_request(client, counter_path):
    page = client.get(counter_path + "&lang=en")
    assert '<html lang="en">' in page.text
    assert "Officials are polite and respectful" in page.text or "polite" in page.text
    assert "No opinion" in page.text
    assert client.get(counter_path).text.count('lang="en"') >= 1  # remembered: link back to Vietnamese


@pytest.mark.parametrize("mangle", ["missing", "wrong", "other-counter"])
def test_bad_signature_is_not_found(client, counter_path, mangle):
    path, signature = counter_path.split("?s=")
    url = {"missing": path, "wrong": f"{path}?s={signature[:-2]}xx", "other-counter": f"/q/HK-02?s={signature}"}[mangle]
    assert client.get(url).status_code == 404
    assert client.post(url, data={}).status_code == 404


def test_inactive_counter_is_not_found(app, client, counter_path):
    from survey.models import Counter

    with app.app_context():
        db.session().scalar(select(Counter)).active = False
        db.session().commit()
    page = client.get(counter_path)
    assert page.status_code == 404
    assert "Vui lòng quét lại mã QR" in page.text


def test_valid_answers_are_stored_once_and_acknowledged(app, client, counter_path):
    answers = {"TC1": "5", "TC2": "4", "TT1": "2", "PA3": "na", "UT1": "3", "BG_AGE": "2", "comment": " Rất tốt "}
    reply = send(client, counter_path, answers)
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/thanks")
    with app.app_context():
        response = db.session().scalar(select(Response))
        stored = {a.item_code: (a.value, a.text) for a in response.answers}
        assert response.channel == "qr"
        assert response.counter.code if hasattr(response, "counter") else True
        assert response.agency.code == "P-HK"
        assert response.submitted_at.tzinfo is not None
        now = utcnow()  # kept to the hour: the answer cannot be told from others of that hour by its time
        assert response.submitted_at == now.replace(minute=0, second=0, microsecond=0) or now.minute == 0
    assert stored == {
        "TC1": (5, None),
        "TC2": (4, None),
        "TT1": (2, None),
        "UT1": (3, None),
        "BG_AGE": (2, None),
        "COMMENT": (None, "Rất tốt"),
    }
    thanks = client.get("/thanks")
    assert "Cảm ơn" in thanks.text


def test_same_submission_key_is_counted_once(app, client, counter_path):
    data = {**hidden_fields(client.get(counter_path).text), "TC1": "4"}
    replies = [client.post(counter_path, data=data) for _ in range(3)]
    assert [r.status_code for r in replies] == [303, 303, 303]
    assert count(app, Response) == 1 and count(app, Answer) == 1


@pytest.mark.parametrize(
    ("answers", "overrides", "message"),
    [
        ({}, {}, "Vui lòng đánh giá ít nhất một nội dung"),
        ({"TC1": "na", "TC2": "na"}, {}, "Vui lòng đánh giá ít nhất một nội dung"),
        ({"TC1": "7", "TC2": "4"}, {}, "Vui lòng chọn một trong các mức"),
        ({"TC1": "abc"}, {}, "Vui lòng chọn một trong các mức"),
        ({"TC1": "4", "XX9": "1"}, {}, "Biểu mẫu được gửi kèm nội dung không hợp lệ"),
        ({"TC1": "4", "comment": "x" * 1001}, {}, "1000 ký tự"),
        ({"TC1": "4", "comment": "a\x00b"}, {}, "ký tự đặc biệt"),
        ({"TC1": "4"}, {"csrf_token": "forged"}, "Trang này đã mở quá lâu"),
        ({"TC1": "4", "website": "http://spam"}, {}, "Trường này phải để trống"),
        ({"TC1": "4", "BG_AGE": "9"}, {}, "Vui lòng chọn một trong các mức"),
        ({"TC1": "4"}, {"submission_key": "short"}, "Biểu mẫu bị lỗi"),
    ],
)
def test_invalid_answers_are_refused_and_kept(app, client, counter_path, answers, overrides, message):
    reply = send(client, counter_path, {"UT2": "2", **answers}, **overrides)
    assert reply.status_code == 422
    assert message in reply.text
    assert re.search(r'name="UT2" value="2" checked', reply.text), "the citizen's answers are kept"
    assert count(app, Response) == 0 and count(app, Answer) == 0


def test_repeated_field_is_refused(app, client, counter_path):
    data = {**hidden_fields(client.get(counter_path).text), "TC1": ["4", "5"]}
    assert client.post(counter_path, data=data).status_code == 422
    assert count(app, Response) == 0


def test_error_message_is_beside_the_field(client, counter_path):
    reply = send(client, counter_path, {"TC1": "4", "TC3": "9"})
    fieldset = re.search(r'<fieldset[^>]*aria-describedby="TC3-err".*?</fieldset>', reply.text, re.S)
    assert fieldset and 'id="TC3-err"' in fieldset.group(0)


def test_csrf_failure_keeps_answers_and_a_fresh_token_works(app, client, counter_path):
    reply = send(client, counter_path, {"TC1": "5"}, csrf_token="forged")
    assert reply.status_code == 422 and 'name="TC1" value="5" checked' in reply.text
    retry = client.post(counter_path, data={**hidden_fields(reply.text), "TC1": "5"})
    assert retry.status_code == 303 and count(app, Response) == 1


def test_one_time_link_serves_one_response(app, client, counter):
    token = make_interaction(app)
    page = client.get(f"/t/{token}")
    assert page.status_code == 200 and "Quầy số 1" in page.text
    first = hidden_fields(page.text)
    assert client.post(f"/t/{token}", data={**first, "CC1": "5"}).status_code == 303
    assert client.post(f"/t/{token}", data={**first, "CC1": "5"}).status_code == 303, "a retry is acknowledged"
    second = client.post(f"/t/{token}", data={**hidden_fields(client.get("/q/x?s=y").text), "CC1": "1"})
    assert second.status_code == 410
    gone = client.get(f"/t/{token}")
    assert gone.status_code == 410 and "Đường dẫn khảo sát này không còn sử dụng được" in gone.text
    with app.app_context():
        response = db.session().scalar(select(Response))
        interaction = db.session().scalar(select(Interaction))
        assert response.channel == "token" and interaction.used_at is not None
        assert interaction.used_at == response.submitted_at and response.submitted_at.minute == 0  # to the hour
    assert count(app, Response) == 1


def test_expired_and_unknown_tokens(app, client, counter):
    expired = make_interaction(app, expires_in=timedelta(seconds=-1))
    assert client.get(f"/t/{expired}").status_code == 410
    assert client.post(f"/t/{expired}", data={"CC1": "5"}).status_code == 410
    assert client.get("/t/no-such-token").status_code == 404
    assert count(app, Response) == 0


def test_racing_submissions_on_one_token_store_one_response(app, counter):
    token = make_interaction(app)
    clients = [app.test_client() for _ in range(2)]
    forms = [hidden_fields(c.get(f"/t/{token}").text) for c in clients]
    barrier = threading.Barrier(2)
    statuses = []

    def submit(c, form):
        barrier.wait()
        statuses.append(c.post(f"/t/{token}", data={**form, "KQ1": "4"}).status_code)

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(clients, forms, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [303, 410]
    assert count(app, Response) == 1 and count(app, Answer) == 1


def test_rate_limit_gives_a_friendly_page(make_app, counter):
    app = make_app(RATELIMIT_ENABLED=True, CITIZEN_POST_RATE_LIMIT="2 per minute")
    client = app.test_client()
    from survey.domain import signing

    with app.app_context():
        path = signing.counter_url("HK-01").removeprefix(app.config["BASE_URL"])
    statuses = [send(client, path, {"TC1": "4"}).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    assert "Vui lòng chờ một phút" in send(client, path, {"TC1": "4"}).text
    assert client.get(path).status_code == 200, "reading the page is not limited"


def test_no_personal_data_is_stored(app):
    engine = app.extensions["survey.db"]["engine"]
    columns = {c["name"] for table in ("responses", "answers") for c in inspect(engine).get_columns(table)}
    for forbidden in ("ip", "ip_address", "user_agent", "name", "phone", "email", "id_number"):
        assert forbidden not in columns


def test_counter_with_its_own_questionnaire(app, client, counter_path):
    from survey.models import Counter

    with app.app_context():
        db.session().scalar(select(Counter)).questionnaire = "tt01"
        db.session().commit()
    page = client.get(counter_path)
    assert re.findall(r'name="DG1" value="([^"]+)"', page.text) == ["0", "1", "2", "na"]
    assert "Tổng thời gian giải quyết so với quy định" in page.text and "TC1" not in page.text
    assert send(client, counter_path, {"DG1": "0", "DG2": "2"}).status_code == 303
    with app.app_context():
        response = db.session().scalar(select(Response))
        assert response.questionnaire_version.questionnaire == "tt01"
        assert {a.item_code: a.value for a in response.answers} == {"DG1": 0, "DG2": 2}


def test_oversized_body_is_refused(app, client, counter_path):
    reply = send(client, counter_path, {"TC1": "4", "comment": "x" * 70_000})
    assert reply.status_code == 413
    assert "Nội dung gửi quá lớn" in reply.text
    assert count(app, Response) == 0


def test_html_error_pages_keep_their_headers(client):
    reply = client.put("/thanks")
    assert reply.status_code == 405 and "GET" in reply.headers["Allow"]
    assert "text/html" in reply.content_type
