"""The API: issuing one-time survey links, with keys, scope, idempotency and problem details.

Every API response these tests receive goes through ``call`` (tests.helpers), which also checks it
against the OpenAPI document: a declared status, the declared media type, a body matching the
declared schema.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, Text, inspect, select, text, update

from survey import db
from survey.domain import signing
from survey.models import ApiKey, Interaction, Response
from tests.helpers import add_ward, count, create, make_key, send

DOSSIER = "000.00.27.H26-241123-0042"


def test_create_interaction_issues_a_working_one_time_link(app, client, key):
    reply = create(client, key, {"counter_code": "HK-01", "service_code": "KS", "channel": "kiosk"})
    assert reply.status_code == 201 and "Idempotent-Replayed" not in reply.headers
    body = reply.get_json()
    token = body["token"]
    assert body["url"] == f"http://survey.test/t/{token}"
    assert body["qr_svg_url"] == f"http://survey.test/t/{token}/qr.svg"
    assert len(token) == 22  # 16 random bytes, URL-safe base64
    expires = datetime.fromisoformat(body["expires_at"])
    assert body["expires_at"].endswith("Z") and expires.tzinfo is not None
    assert timedelta(days=7) - timedelta(seconds=5) < expires - datetime.now(UTC) <= timedelta(days=7)
    with app.app_context():
        row = db.session().scalar(select(Interaction))
        assert (row.counter.code, row.service.code, row.agency.code, row.channel) == ("HK-01", "KS", "P-HK", "kiosk")
        assert row.expires_at == expires and row.dossier_hash is None and row.idempotency_hash is None
    path = body["url"].removeprefix("http://survey.test")
    assert client.get(path).status_code == 200
    assert send(client, path, {"CC1": "5"}).status_code == 303
    assert send(client, path, {"CC1": "4"}).status_code == 410, "answered once only"
    with app.app_context():
        response = db.session().scalar(select(Response))
        assert response.channel == "token" and response.service_id is not None
    assert count(app, Response) == 1


def test_defaults_and_token_lifetime_from_configuration(make_app, counter):
    app = make_app(TOKEN_LIFETIME_DAYS=2)
    reply = create(app.test_client(), make_key(app))
    expires = datetime.fromisoformat(reply.get_json()["expires_at"])
    assert timedelta(days=2) - timedelta(seconds=5) < expires - datetime.now(UTC) <= timedelta(days=2)
    with app.app_context():
        row = db.session().scalar(select(Interaction))
        assert row.channel == "counter" and row.service_id is None


def test_expired_link_is_gone(app, client, key):
    url = create(client, key).get_json()["url"].removeprefix("http://survey.test")
    with app.app_context():
        db.session().execute(update(Interaction).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session().commit()
    assert client.get(url).status_code == 410
    assert client.get(url + "/qr.svg").status_code == 410


def test_same_idempotency_key_returns_the_same_token(app, client, key):
    body = {"counter_code": "HK-01", "dossier_code": DOSSIER}
    first = create(client, key, body, headers={"Idempotency-Key": "retry-1"})
    again = create(client, key, body, headers={"Idempotency-Key": '"retry-1"'})  # the draft's quoted form
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = create(client, key, {"counter_code": "HK-01"}, headers={"Idempotency-Key": "retry-2"})
    assert other.status_code == 201 and other.get_json()["token"] != first.get_json()["token"]
    assert count(app, Interaction) == 2


def test_idempotency_keys_belong_to_their_api_key(app, client, key):
    second = make_key(app, "other system")
    tokens = {create(client, k, headers={"Idempotency-Key": "same"}).get_json()["token"] for k in (key, second)}
    assert len(tokens) == 2


def test_idempotency_key_reused_with_another_request(app, client, key):
    assert create(client, key, headers={"Idempotency-Key": "k1"}).status_code == 201
    reused = create(client, key, {"counter_code": "HK-01", "channel": "kiosk"}, headers={"Idempotency-Key": "k1"})
    assert reused.status_code == 422 and "different request" in reused.get_json()["detail"]
    assert count(app, Interaction) == 1


def test_racing_retries_store_one_interaction(app, key):
    barrier, replies = threading.Barrier(4), []

    def post(client):
        barrier.wait()
        replies.append(create(client, key, {"counter_code": "HK-01"}, headers={"Idempotency-Key": "race"}))

    threads = [threading.Thread(target=post, args=(app.test_client(),)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in replies] == [201] * 4
    assert len({r.get_json()["token"] for r in replies}) == 1
    assert count(app, Interaction) == 1


def test_one_link_per_dossier_and_event(app, client, key):
    assert create(client, key, {"counter_code": "HK-01", "dossier_code": DOSSIER}).status_code == 201
    again = create(client, key, {"counter_code": "HK-01", "dossier_code": DOSSIER, "event": "result"})
    assert again.status_code == 409 and DOSSIER not in again.text
    receipt = create(client, key, {"counter_code": "HK-01", "dossier_code": DOSSIER, "event": "receipt"})
    assert receipt.status_code == 201
    assert create(client, key, {"counter_code": "HK-01", "dossier_code": DOSSIER + "1"}).status_code == 201
    assert count(app, Interaction) == 3


def test_dossier_code_is_never_stored_in_clear(app, client, key):
    assert create(client, key, {"counter_code": "HK-01", "dossier_code": DOSSIER}).status_code == 201
    engine = app.extensions["survey.db"]["engine"]
    columns = [c["name"] for c in inspect(engine).get_columns("interactions") if isinstance(c["type"], String | Text)]
    assert "dossier_hash" in columns and "token_hash" in columns
    with engine.connect() as conn:
        for column in columns:
            values = conn.execute(text(f"SELECT {column} FROM interactions")).scalars().all()
            assert all(DOSSIER not in (v or "") for v in values), column
            assert all("H26-241123" not in (v or "") for v in values), column
        stored, agency_id = conn.execute(text("SELECT dossier_hash, agency_id FROM interactions")).one()
    with app.app_context():
        assert stored == signing.keyed_hash("dossier", f"{agency_id}:result:{DOSSIER}")


def test_scoped_key_issues_links_only_inside_its_subtree(app, client, counter):
    add_ward(app)
    ward_key, city_key = make_key(app, "ward", "P-HK"), make_key(app, "city", "HN")
    assert create(client, ward_key, {"counter_code": "HK-01"}).status_code == 201
    outside = create(client, ward_key, {"counter_code": "BD-01"})
    assert outside.status_code == 403 and "outside" in outside.get_json()["detail"]
    for code in ("HK-01", "BD-01"):
        assert create(client, city_key, {"counter_code": code}).status_code == 201
    assert count(app, Interaction) == 3


def test_key_use_is_recorded(app, client, key):
    with app.app_context():
        assert db.session().scalar(select(ApiKey.last_used_at)) is None
    create(client, key)
    with app.app_context():
        used = db.session().scalar(select(ApiKey.last_used_at))
    assert used is not None and datetime.now(UTC) - used < timedelta(minutes=1)
