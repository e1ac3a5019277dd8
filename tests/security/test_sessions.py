"""Staff sessions under attack: open redirects after login, replayed cookies, idle and old sessions.

Each test tries the attack again: a ``next`` that leaves the site, a session cookie copied before the
session should have ended (logout, new password, disabled account, new role or agency), a session
idle or open too long, a remember cookie. Password changes by anyone are in the audit log.
"""

from __future__ import annotations

import getpass
import json
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from survey import db
from survey.domain import accounts
from survey.models import AuditEntry, User
from survey.web.auth import sessions
from tests.helpers import PASSWORD, hidden_fields, login, post_form

OFFICIAL = "official@hanoi.gov.vn"
ADMIN = "admin@hanoi.gov.vn"
PROBE = "/auth/password"  # a page every signed-in user may open


@pytest.fixture
def users(app, counter):
    """An admin of every agency and an official of the ward P-HK."""
    with app.app_context():
        s = db.session()
        accounts.create_user(s, ADMIN, "admin", PASSWORD)
        accounts.create_user(s, OFFICIAL, "official", PASSWORD, "P-HK")
        s.commit()
    return app


def signed_in(app, email: str):
    client = app.test_client()
    assert login(client, email).status_code == 303
    return client


def replay(app, cookie: str):
    """A new browser holding a copy of a session cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def is_login_page(reply) -> bool:
    return reply.status_code == 302 and urlsplit(reply.headers["Location"]).path == "/auth/login"


def csrf(client, url: str) -> str:
    return hidden_fields(client.get(url).text)["csrf_token"]


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session().scalars(select(AuditEntry).where(AuditEntry.action == action)))


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


# --------------------------------------------------------------------------------------------------
# Finding 9: a copied cookie dies with its session
# --------------------------------------------------------------------------------------------------


def test_cookie_copied_before_logout_is_refused_afterwards(users):
    client = signed_in(users, OFFICIAL)
    cookie = client.get_cookie("session").value
    assert replay(users, cookie).get(PROBE).status_code == 200, "the copy works while the session is open"
    assert client.post("/auth/logout", data={"csrf_token": csrf(client, "/")}).status_code == 303
    assert is_login_page(replay(users, cookie).get(PROBE))
    assert is_login_page(replay(users, cookie).get("/dashboard"))


def test_logout_ends_the_other_sessions_of_the_account(users):
    laptop, phone = signed_in(users, OFFICIAL), signed_in(users, OFFICIAL)
    laptop.post("/auth/logout", data={"csrf_token": csrf(laptop, "/")})
    assert is_login_page(phone.get(PROBE))
    assert signed_in(users, OFFICIAL).get(PROBE).status_code == 200, "logging in again works"


def test_own_password_change_ends_the_other_sessions_but_not_this_one(users):
    client = signed_in(users, OFFICIAL)
    cookie = client.get_cookie("session").value
    new = "a new password 42"
    reply = post_form(client, "/auth/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert reply.status_code == 303
    assert is_login_page(replay(users, cookie).get(PROBE))
    assert client.get(PROBE).status_code == 200, "the browser that changed it stays signed in"


def test_admin_disabling_the_account_ends_its_sessions_even_once_enabled_again(users):
    victim = signed_in(users, OFFICIAL)
    cookie = victim.get_cookie("session").value
    admin = signed_in(users, ADMIN)
    token = csrf(admin, "/admin/users")
    assert admin.post(f"/admin/users/{OFFICIAL}/deactivate", data={"csrf_token": token}).status_code == 303
    assert is_login_page(replay(users, cookie).get(PROBE))
    enabled = post_form(
        admin, f"/admin/users/{OFFICIAL}/edit", {"role": "official", "agency_code": "P-HK", "active": "y"}
    )
    assert enabled.status_code == 303
    assert is_login_page(replay(users, cookie).get(PROBE)), "enabling the account again does not revive it"


@pytest.mark.parametrize(
    "change", [{"role": "analyst", "agency_code": "P-HK"}, {"role": "official", "agency_code": "HN"}]
)
def test_admin_changing_role_or_agency_ends_the_sessions(users, change):
    victim = signed_in(users, OFFICIAL)
    cookie = victim.get_cookie("session").value
    admin = signed_in(users, ADMIN)
    assert post_form(admin, f"/admin/users/{OFFICIAL}/edit", {**change, "active": "y"}).status_code == 303
    assert is_login_page(replay(users, cookie).get(PROBE))
    assert is_login_page(victim.get(PROBE))


def test_admin_saving_an_unchanged_account_keeps_its_sessions(users):
    victim = signed_in(users, OFFICIAL)
    admin = signed_in(users, ADMIN)
    form = {"role": "official", "agency_code": "P-HK", "active": "y"}
    assert post_form(admin, f"/admin/users/{OFFICIAL}/edit", form).status_code == 303
    assert victim.get(PROBE).status_code == 200


def test_admin_password_change_ends_the_sessions_and_is_audited(users):
    victim = signed_in(users, OFFICIAL)
    admin = signed_in(users, ADMIN)
    new = "set by the admin 7"
    form = {"role": "official", "agency_code": "P-HK", "active": "y", "password": new}
    assert post_form(admin, f"/admin/users/{OFFICIAL}/edit", form).status_code == 303
    assert is_login_page(victim.get(PROBE))
    [entry] = audit_entries(users, "password")
    assert (entry.actor, entry.kind, entry.key) == (ADMIN, "user", OFFICIAL)
    assert_no_secret(users, entry, new)


def test_cli_password_and_disable_end_the_sessions_and_are_audited(users):
    victim = signed_in(users, OFFICIAL)
    cookie = victim.get_cookie("session").value
    runner = users.test_cli_runner()
    new = "set on the command line"
    result = runner.invoke(args=["user", "password", "--email", OFFICIAL, "--password-stdin"], input=new + "\n")
    assert result.exit_code == 0, result.output
    assert is_login_page(replay(users, cookie).get(PROBE))
    [entry] = audit_entries(users, "password")
    assert (entry.actor, entry.key) == (f"cli:{getpass.getuser()}", OFFICIAL)
    assert_no_secret(users, entry, new)
    victim = users.test_client()
    assert login(victim, OFFICIAL, new).status_code == 303
    assert runner.invoke(args=["user", "disable", "--email", OFFICIAL]).exit_code == 0
    assert is_login_page(victim.get(PROBE))
    [disabled] = audit_entries(users, "deactivate")
    assert disabled.actor == f"cli:{getpass.getuser()}" and json.loads(disabled.after)["active"] is False


def test_cli_password_refuses_a_short_one_and_an_unknown_account(users):
    runner = users.test_cli_runner()
    short = runner.invoke(args=["user", "password", "--email", OFFICIAL, "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    nobody = runner.invoke(args=["user", "password", "--email", "x@y.vn", "--password-stdin"], input=PASSWORD + "\n")
    assert nobody.exit_code == 1 and "no user with e-mail x@y.vn" in nobody.output
    assert audit_entries(users, "password") == []


def test_cli_account_and_key_changes_are_audited(users):
    runner = users.test_cli_runner()
    actor = f"cli:{getpass.getuser()}"
    runner.invoke(args=["user", "create", "--email", "n@x.vn", "--role", "admin", "--password-stdin"], input=PASSWORD)
    runner.invoke(args=["apikey", "create", "--name", "one-stop"])
    runner.invoke(args=["apikey", "revoke", "--name", "one-stop"])
    with users.app_context():
        logged = [(e.actor, e.action, e.kind, e.key) for e in db.session().scalars(select(AuditEntry))]
    assert logged == [
        (actor, "create", "user", "n@x.vn"),
        (actor, "create", "api_key", "one-stop"),
        (actor, "revoke", "api_key", "one-stop"),
    ]


def test_own_password_change_is_audited_without_the_password(users):
    client = signed_in(users, OFFICIAL)
    new = "a new password 42"
    post_form(client, "/auth/password", {"current": PASSWORD, "new": new, "confirm": new})
    [entry] = audit_entries(users, "password")
    assert (entry.actor, entry.kind, entry.key, entry.before) == (OFFICIAL, "user", OFFICIAL, None)
    assert json.loads(entry.after)["agency_code"] == "P-HK", "scoped administrators see it"
    assert_no_secret(users, entry, new)


def assert_no_secret(app, entry: AuditEntry, password: str) -> None:
    with app.app_context():
        user = db.session().scalar(select(User).where(User.email == entry.key))
        logged = f"{entry.before} {entry.after}"
        assert password not in logged and PASSWORD not in logged and user.password_hash not in logged


# --------------------------------------------------------------------------------------------------
# Finding 9: idle and absolute limits; remember cookies; old cookies
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved on by hand: clock.advance(minutes=31)."""
    state = SimpleNamespace(now=time.time())

    def advance(minutes: float = 0, hours: float = 0) -> None:
        state.now += minutes * 60 + hours * 3600

    monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: state.now))
    return SimpleNamespace(advance=advance)


def test_an_idle_session_ends_after_30_minutes(users, clock):
    client = signed_in(users, OFFICIAL)
    cookie = client.get_cookie("session").value
    clock.advance(minutes=29)
    assert client.get(PROBE).status_code == 200
    clock.advance(minutes=29)
    assert client.get(PROBE).status_code == 200, "each request starts the idle time again"
    clock.advance(minutes=31)
    assert is_login_page(client.get(PROBE))
    assert is_login_page(replay(users, cookie).get(PROBE))


def test_a_busy_session_ends_after_12_hours(users, clock):
    client = signed_in(users, OFFICIAL)
    for _ in range(35):  # a request every 20 minutes: 11 h 40 min
        clock.advance(minutes=20)
        assert client.get(PROBE).status_code == 200
    clock.advance(minutes=21)
    assert is_login_page(client.get(PROBE))


def test_the_limits_are_settings(make_app, counter, clock):
    app = make_app(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    with app.app_context():
        accounts.create_user(db.session(), OFFICIAL, "official", PASSWORD, "P-HK")
        db.session().commit()
    idle, busy = signed_in(app, OFFICIAL), signed_in(app, OFFICIAL)
    for _ in range(15):
        clock.advance(minutes=4)
        assert busy.get(PROBE).status_code == 200
    assert is_login_page(idle.get(PROBE))
    clock.advance(minutes=1)
    assert is_login_page(busy.get(PROBE))


def remember_cookie(app, email: str) -> str:
    """A remember cookie as Flask-Login would sign it, with the real secret key (the app never sets one)."""
    with app.test_request_context():
        return encode_cookie(db.session().scalar(select(User).where(User.email == email)).get_id())


def test_a_remember_cookie_opens_no_session(users):
    client = users.test_client()
    client.set_cookie("remember_token", remember_cookie(users, OFFICIAL))
    assert is_login_page(client.get(PROBE))
    client = signed_in(users, OFFICIAL)
    client.post("/auth/logout", data={"csrf_token": csrf(client, "/")})
    client.set_cookie("remember_token", remember_cookie(users, OFFICIAL))  # of the new session version
    assert is_login_page(client.get(PROBE)), "nor reopens a session after logout"


def test_a_remember_cookie_cannot_swap_the_account_of_a_session(users):
    client = signed_in(users, OFFICIAL)
    client.set_cookie("remember_token", remember_cookie(users, ADMIN))
    with client.session_transaction() as s:
        s.pop("_user_id")
    assert is_login_page(client.get(PROBE))
    assert is_login_page(client.get("/admin"))


def test_a_cookie_without_session_version_or_times_is_refused(users):
    client = signed_in(users, OFFICIAL)
    with client.session_transaction() as s:
        s["_user_id"] = s["_user_id"].partition(":")[0]  # a cookie issued before session versions
    assert is_login_page(client.get(PROBE))
    client = signed_in(users, OFFICIAL)
    with client.session_transaction() as s:
        del s[sessions.LOGIN_AT]
    assert is_login_page(client.get(PROBE))


def test_citizen_pages_never_load_the_staff_user(users, counter_path, monkeypatch):
    client = signed_in(users, OFFICIAL)

    def refuse(*args):
        raise AssertionError("a citizen page loaded the staff user")

    monkeypatch.setattr(sessions.accounts, "load_session_user", refuse)
    assert client.get(counter_path).status_code == 200
    anonymous = users.test_client()
    reply = anonymous.get(counter_path)
    assert reply.status_code == 200
    with anonymous.session_transaction() as s:
        assert sessions.LOGIN_AT not in s and "_user_id" not in s
