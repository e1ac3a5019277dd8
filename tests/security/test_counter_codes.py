"""The counter screen shows only the codes it issued itself; other ids are a 404, never a 500."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey import db
from survey.domain import accounts
from survey.models import Interaction
from tests.helpers import PASSWORD, create, hidden_fields, login, make_key


@pytest.fixture
def officer(app, counter):
    with app.app_context():
        accounts.create_user(db.session(), "officer@hanoi.gov.vn", "officer", PASSWORD, "P-HK")
        db.session().commit()
    client = app.test_client()
    assert login(client, "officer@hanoi.gov.vn").status_code == 303
    return client


def issue_on_screen(client) -> str:
    idle = client.get("/counter/HK-01")
    return client.post("/counter/HK-01", data=hidden_fields(idle.text)).headers["Location"]


def test_codes_issued_through_the_api_are_not_shown_on_a_counter_screen(app, client, officer):
    token = create(client, make_key(app), {"counter_code": "HK-01"}).get_json()["token"]
    with app.app_context():
        api_id = db.session().scalar(select(Interaction.id))
    page = officer.get(f"/counter/HK-01/qr/{api_id}")
    assert page.status_code == 404 and token not in page.text


def test_a_screen_shows_its_own_code_and_no_other_screens(app, officer):
    own = issue_on_screen(officer)
    page = officer.get(own)
    assert page.status_code == 200 and re.search(r"/t/[A-Za-z0-9_-]{16,}", page.text)
    second = app.test_client()
    assert login(second, "officer@hanoi.gov.vn").status_code == 303
    assert second.get(own).status_code == 404, "the same officer on another screen"


@pytest.mark.parametrize("interaction_id", ["0", "99999", "9" * 40, "-1"])
def test_unknown_and_huge_ids_are_a_404(officer, interaction_id):
    issue_on_screen(officer)
    assert officer.get(f"/counter/HK-01/qr/{interaction_id}").status_code == 404
