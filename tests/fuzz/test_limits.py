"""The limits, exactly at and just past them (request handling: SQLite; a comment stored: both backends)."""

from __future__ import annotations

from sqlalchemy import select

from survey import db
from survey.models import Answer
from tests.fuzz.citizen_form import FORM, MULTIPART, PAGES, UNEXPECTED, multipart, too_long, urlencoded
from tests.fuzz.common import API_PATH, BOTH_BACKENDS, CATALOG, rows
from tests.helpers import conforms, hidden_fields, make_key


def citizen_routes(counter_path: str, tokens: dict[str, str]) -> list[tuple[str, str, int]]:
    """(path, a criterion, the comment's limit): the counter's link (SIPAS) and a one-time link (tt01)."""
    return [
        (counter_path, "TC1", CATALOG.get("sipas").comment_max_length),
        (f"/t/{tokens['open']}", "DG1", CATALOG.get("tt01").comment_max_length),
    ]


def test_body_over_max_content_length_is_413_with_a_readable_page(app, client, counter_path, tokens):
    limit = app.config["MAX_CONTENT_LENGTH"]
    before = rows(app)
    for path, criterion, comment_limit in citizen_routes(counter_path, tokens):
        fields = [*hidden_fields(client.get(path).text).items(), ("website", ""), (criterion, "1"), ("comment", "")]
        body = urlencoded(fields)
        body += b"x" * (limit - len(body))  # the comment fills the body up to the limit exactly
        at_limit = client.post(path, data=body, content_type=FORM)
        assert at_limit.status_code == 422 and too_long(comment_limit) in at_limit.text, "read, refused for its comment"
        over = client.post(path, data=body + b"x", content_type=FORM)
        assert over.status_code == 413 and over.mimetype == "text/html"
        assert "Dữ liệu quá lớn" in over.text and PAGES[413] in over.text and '<html lang="vi">' in over.text
        as_multipart = multipart([*fields[:-1], ("comment", "x" * limit)])
        assert client.post(path, data=as_multipart, content_type=MULTIPART).status_code == 413
    assert rows(app) == before


def test_api_body_over_max_content_length_is_413(app, client, counter):
    key, limit = make_key(app), app.config["MAX_CONTENT_LENGTH"]
    head, tail = b'{"counter_code": "HK-01", "dossier_code": "', b'"}'
    headers = {"Authorization": f"Bearer {key}"}
    at_limit = b"".join([head, b"x" * (limit - len(head) - len(tail)), tail])
    reply = client.post(API_PATH, data=at_limit, content_type="application/json", headers=headers)
    assert reply.status_code == 422 and reply.get_json()["errors"][0]["pointer"] == "/dossier_code"
    over = client.post(API_PATH, data=b" " + at_limit, content_type="application/json", headers=headers)
    assert over.status_code == 413 and over.mimetype == "application/problem+json"
    conforms(over, "POST", API_PATH)
    assert rows(app)["interactions"] == 0


def test_more_fields_than_max_form_parts_are_refused(app, client, counter_path):
    limit = app.config["MAX_FORM_PARTS"]
    fields = [*hidden_fields(client.get(counter_path).text).items(), ("TC1", "4")]

    def padded(parts: int) -> list:
        return fields + [(f"extra{i}", "1") for i in range(parts - len(fields))]

    before = rows(app)
    over = client.post(counter_path, data=multipart(padded(limit + 1)), content_type=MULTIPART)
    assert over.status_code == 413 and PAGES[413] in over.text, "werkzeug counts multipart parts and stops"
    at_limit = client.post(counter_path, data=multipart(padded(limit)), content_type=MULTIPART)
    assert at_limit.status_code == 422 and UNEXPECTED in at_limit.text, "read, and refused for its unknown fields"
    # werkzeug applies MAX_FORM_PARTS to multipart bodies only: an urlencoded body is bounded by MAX_CONTENT_LENGTH,
    # and the form refuses every field it does not have, or has twice.
    for data in (padded(5 * limit), fields + [("TC2", "3")] * (limit + 1)):
        reply = client.post(counter_path, data=urlencoded(data), content_type=FORM)
        assert reply.status_code == 422 and UNEXPECTED in reply.text
    assert rows(app) == before


@BOTH_BACKENDS
def test_comment_longer_than_the_questionnaires_limit_is_refused_and_not_stored(app, client, counter_path, tokens):
    for path, criterion, limit in citizen_routes(counter_path, tokens):
        before = rows(app)
        reply = client.post(
            path, data={**hidden_fields(client.get(path).text), criterion: "1", "comment": "ế" * (limit + 1)}
        )
        assert reply.status_code == 422 and too_long(limit) in reply.text
        assert "ế" * (limit + 1) in reply.text, "the comment is kept for the citizen to shorten"
        assert rows(app) == before
        # Exactly at the limit (counted in characters, not bytes) it is stored whole.
        reply = client.post(path, data={**hidden_fields(client.get(path).text), criterion: "1", "comment": "ế" * limit})
        assert reply.status_code == 303
        with app.app_context():
            stored = db.session().scalars(select(Answer.text).where(Answer.item_code == "COMMENT")).all()
        assert stored[-1] == "ế" * limit
