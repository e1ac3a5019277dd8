"""Anonymity against someone holding the database: no answer leads to its interaction, token or dossier."""

from __future__ import annotations

import re

from sqlalchemy import String, Text, inspect, select, text

from survey import db
from survey.models import Interaction, Response
from tests.helpers import create, make_key, send

DOSSIER = "H26.99.1-241123-0042"


def every_text_value(app) -> list[str]:
    """Every text value of every table: what someone holding the database can read."""
    engine = app.extensions["survey.db"]["engine"]
    found = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for column in inspect(engine).get_columns(table):
                if isinstance(column["type"], String | Text):
                    found += [v for v in conn.execute(text(f'SELECT "{column["name"]}" FROM "{table}"')).scalars() if v]
    return found


def test_a_response_holds_nothing_of_its_interaction(app, client, counter):
    key = make_key(app)
    issued = create(client, key, {"counter_code": "HK-01", "dossier_code": DOSSIER}, headers={"Idempotency-Key": "k1"})
    assert issued.status_code == 201
    token = issued.get_json()["token"]
    assert send(client, f"/t/{token}", {"CC1": "5", "TC1": "4"}).status_code == 303
    engine = app.extensions["survey.db"]["engine"]
    columns = {c["name"] for c in inspect(engine).get_columns("responses")}
    assert not columns & {"interaction_id", "token", "token_hash", "dossier_hash", "idempotency_hash"}
    values = every_text_value(app)
    assert not [v for v in values if token in v], "the token is stored nowhere, only its hash"
    assert not [v for v in values if DOSSIER in v or "241123" in v], "nor the dossier code"
    with app.app_context():
        interaction = db.session().scalar(select(Interaction))
        response = db.session().scalar(select(Response))
    assert interaction.used_at is not None and response.channel == "token"
    for moment in (interaction.used_at, response.submitted_at):  # nothing finer than the hour to match them by
        assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)


def test_a_retried_api_request_gets_the_same_token_although_only_its_hash_is_kept(app, client, counter):
    key = make_key(app)
    body = {"counter_code": "HK-01"}
    first = create(client, key, body, headers={"Idempotency-Key": "same-key"})
    again = create(client, key, body, headers={"Idempotency-Key": "same-key"})
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.get_json()["token"] == again.get_json()["token"]
    other = create(client, key, body, headers={"Idempotency-Key": "another-key"})
    assert other.get_json()["token"] != first.get_json()["token"]
    assert client.get(f"/t/{first.get_json()['token']}").status_code == 200


def test_one_response_per_interaction_without_a_link_between_them(app, client, counter):
    token = create(client, make_key(app), {"counter_code": "HK-01"}).get_json()["token"]
    assert send(client, f"/t/{token}", {"CC1": "5"}).status_code == 303
    other = app.test_client()  # another phone with the same link
    assert send(other, f"/t/{token}", {"CC1": "1"}).status_code == 410
    with app.app_context():
        assert len(db.session().scalars(select(Response)).all()) == 1


def test_counter_form_times_are_kept_to_the_hour(app, client, counter_path):
    assert send(client, counter_path, {"CC1": "5"}).status_code == 303
    with app.app_context():
        stored = db.session().scalar(select(Response.submitted_at))
    assert (stored.minute, stored.second, stored.microsecond) == (0, 0, 0)


def test_the_readme_says_what_can_and_cannot_be_linked():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Security and privacy", 1)[1]
    assert re.search(r"\*\*What can be linked", section)
