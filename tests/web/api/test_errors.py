"""The API's error paths: each status code with an RFC 9457 problem, checked against the document."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from survey import db
from survey.models import Counter, Interaction
from tests.helpers import call, count, create, make_key


@pytest.mark.parametrize(
    "authorization, detail",
    [(None, "Send an API key"), ("Bearer ", "Send an API key"), ("Basic dXNlcjpwYXNz", "Send an API key"),
     ("Bearer ksq_00000000_not-a-key", "unknown")],
)  # fmt: skip
def test_missing_or_unknown_key_is_401(client, key, authorization, detail):
    headers = {"Authorization": authorization} if authorization else {}
    reply = call(client, "POST", "/api/v1/interactions", json={"counter_code": "HK-01"}, headers=headers)
    assert reply.status_code == 401 and detail in reply.get_json()["detail"]
    assert reply.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_revoked_key_is_401(app, client, key, runner):
    assert create(client, key).status_code == 201
    assert runner.invoke(args=["apikey", "revoke", "--name", "one-stop"]).exit_code == 0
    reply = create(client, key)
    assert reply.status_code == 401 and "revoked" in reply.get_json()["detail"]
    assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "kwargs, status, pointer",
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, None),
        ({"json": ["HK-01"]}, 400, ""),
        ({"json": {"counter_code": 5}}, 400, "/counter_code"),
        ({"json": {"counter_code": "HK-01", "dossier_code": None}}, 400, "/dossier_code"),
        ({"data": "counter_code=HK-01", "content_type": "application/x-www-form-urlencoded"}, 415, None),
        ({"data": '{"counter_code": "HK-01"}', "content_type": "text/plain"}, 415, None),
        ({"json": {}}, 422, "/counter_code"),
        ({"json": {"counter_code": "NOPE"}}, 422, "/counter_code"),
        ({"json": {"counter_code": "HK-01", "service_code": "NOPE"}}, 422, "/service_code"),
        ({"json": {"counter_code": "HK-01", "channel": "Kiosk!"}}, 422, "/channel"),
        ({"json": {"counter_code": "HK-01", "channel": "x" * 33}}, 422, "/channel"),
        ({"json": {"counter_code": "HK-01", "event": "Result"}}, 422, "/event"),
        ({"json": {"counter_code": "HK-01", "dossier_code": " padded "}}, 422, "/dossier_code"),
        ({"json": {"counter_code": "HK-01", "dosier_code": "typo"}}, 422, "/dosier_code"),
    ],
)
def test_bad_requests_are_problems(app, client, key, kwargs, status, pointer):
    reply = call(client, "POST", "/api/v1/interactions", key, **kwargs)
    assert reply.status_code == status, reply.get_json()
    if pointer is not None:
        assert pointer in [e["pointer"] for e in reply.get_json()["errors"]]
    assert " padded " not in reply.text
    assert count(app, Interaction) == 0


def test_inactive_counter_is_422(app, client, key):
    with app.app_context():
        db.session().execute(update(Counter).values(active=False))
        db.session().commit()
    assert create(client, key).status_code == 422


@pytest.mark.parametrize("value", ["", "x" * 256, "two words", "ünïcode"])
def test_malformed_idempotency_key_is_400(client, key, value):
    reply = create(client, key, headers={"Idempotency-Key": value.encode().decode("latin-1")})
    assert reply.status_code == 400 and reply.get_json()["errors"][0]["header"] == "Idempotency-Key"


def test_body_too_large_is_413(client, key):
    body = {"counter_code": "HK-01", "dossier_code": "x" * (70 * 1024)}
    assert create(client, key, body).status_code == 413


def test_unknown_path_and_wrong_method_are_problems_only_under_api(client, key):
    assert call(client, "GET", "/api/v1/nothing-here", key).status_code == 404
    assert call(client, "GET", "/api/v2/interactions").status_code == 404
    wrong = call(client, "DELETE", "/api/v1/interactions", key)
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert client.get("/t/no-such-token").mimetype == "text/html"


def test_rate_limit_is_per_key(make_app, counter):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    client, first, second = app.test_client(), make_key(app, "a"), make_key(app, "b")
    statuses = [create(client, first).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    limited = create(client, first)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert create(client, second).status_code == 201, "another key has its own allowance"


def test_server_error_is_a_problem(app, client, key, monkeypatch):
    from survey.web.api import views as api

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api, "issue_interaction", broken)
    reply = create(client, key)
    assert reply.status_code == 500 and "disk on fire" not in reply.text
