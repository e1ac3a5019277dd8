"""Staff sessions under attack: open redirects after login.

Each test tries the attack again: a ``next`` that leaves the site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from survey import db
from survey.domain import accounts
from tests.helpers import PASSWORD, hidden_fields

OFFICIAL = "official@hanoi.gov.vn"
ADMIN = "admin@hanoi.gov.vn"


@pytest.fixture
def users(app, counter):
    """An admin of every agency and an official of the ward P-HK."""
    with app.app_context():
        s = db.session()
        accounts.create_user(s, ADMIN, "admin", PASSWORD)
        accounts.create_user(s, OFFICIAL, "official", PASSWORD, "P-HK")
        s.commit()
    return app


# --------------------------------------------------------------------------------------------------
# Finding 1: only same-site paths after login
# --------------------------------------------------------------------------------------------------

ELSEWHERE = [
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "%09//evil.example",
    "/%00/evil.example",
    "/%7f/evil.example",
    "/%0aSet-Cookie:%20x=y",
    "//evil.example",
    "///evil.example",
    "//evil.example/x",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "/%252F/evil.example",
    "/%5Cevil.example",
    "%5C%5Cevil.example",
    "/%5C/evil.example",
    "/%255C/evil.example",
    "/%250a/evil.example",
    "/.//evil.example",
    "/..//evil.example",
    "%20//evil.example",
    "/%E2%80%A8/evil.example",
    "/%E2%80%8B/evil.example",
    "%EF%BC%8F%EF%BC%8Fevil.example",
    "https://evil.example",
    "https:/evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "evil.example",
    "//survey.test@evil.example",
    "/" + "a" * 5000,
]


def same_site(location: str) -> bool:
    parts = urlsplit(location)
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
        and location.isprintable()
    )


@pytest.mark.parametrize("payload", ELSEWHERE)
def test_next_never_leaves_the_site(users, payload):
    client = users.test_client()
    page = client.get("/auth/login", query_string=f"next={payload}")
    assert page.status_code == 200
    data = {**hidden_fields(page.text), "email": OFFICIAL, "password": PASSWORD}
    reply = client.post("/auth/login", query_string=f"next={payload}", data=data)
    assert reply.status_code == 303, "never a 500"
    assert reply.headers["Location"] == "/" and same_site(reply.headers["Location"])


@pytest.mark.parametrize("target", ["/auth/password", "/dashboard?month=2026-11", "/admin/users/a%40b.vn/edit", "/"])
def test_next_follows_a_path_of_this_site(users, target):
    client = users.test_client()
    data = {**hidden_fields(client.get("/auth/login").text), "email": OFFICIAL, "password": PASSWORD}
    reply = client.post("/auth/login", query_string={"next": target}, data=data)
    assert reply.status_code == 303 and reply.headers["Location"] == target
