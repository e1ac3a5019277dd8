"""Staff accounts: the user commands, logging in and out, passwords, roles and scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import db
from survey.domain import accounts, agencies
from survey.models import User
from tests.helpers import PASSWORD, hidden_fields, login


@pytest.fixture
def users(app, counter):
    """An admin for everything, an official of the ward P-HK, an analyst of the city HN."""
    with app.app_context():
        s = db.session()
        accounts.create_user(s, "admin@hanoi.gov.vn", "admin", PASSWORD)
        accounts.create_user(s, "Official@HoanKiem.gov.vn", "official", PASSWORD, "P-HK")
        accounts.create_user(s, "analyst@hanoi.gov.vn", "analyst", PASSWORD, "HN")
        s.commit()


def test_user_create_list_disable(runner, counter):
    result = runner.invoke(
        args=["user", "create", "--email", "A@x.vn", "--role", "official", "--agency", "P-HK", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created official a@x.vn (agency P-HK and below)." in result.output
    listing = runner.invoke(args=["user", "list"])
    assert "a@x.vn" in listing.output and "P-HK" in listing.output and "active" in listing.output
    assert runner.invoke(args=["user", "disable", "--email", "a@x.vn"]).exit_code == 0
    assert "disabled" in runner.invoke(args=["user", "list"]).output


def test_user_create_prompts_for_the_password(runner):
    result = runner.invoke(
        args=["user", "create", "--email", "b@x.vn", "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--email", "c@x.vn", "--role", "admin"], "short\n", "at least 10 characters"),
        (
            ["--email", "c@x.vn", "--role", "official", "--agency", "NOPE"],
            PASSWORD + "\n",
            "no agency with code 'NOPE'",
        ),
        (["--email", "c@x.vn", "--role", "officer"], PASSWORD + "\n", "an officer belongs to an agency"),
        (["--email", "not-an-address", "--role", "admin"], PASSWORD + "\n", "not an e-mail address"),
    ],
)
def test_user_create_refuses_bad_input(app, runner, counter, args, stdin, message):
    result = runner.invoke(args=["user", "create", *args, "--password-stdin"], input=stdin)
    assert result.exit_code == 1 and message in result.output
    with app.app_context():
        assert db.session().scalar(select(User)) is None


def test_duplicate_email_is_refused(runner, users):
    result = runner.invoke(
        args=["user", "create", "--email", "ADMIN@hanoi.gov.vn", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 1 and "exists already" in result.output


def test_passwords_are_hashed(app, users):
    with app.app_context():
        user = db.session().scalar(select(User).where(User.email == "admin@hanoi.gov.vn"))
        assert PASSWORD not in user.password_hash and user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_login_and_logout(client, users):
    assert client.get("/").headers["Location"].endswith("/auth/login")
    reply = login(client, "official@hoankiem.gov.vn")
    assert reply.status_code == 303
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
    home = client.get("/")
    assert "official@hoankiem.gov.vn" in home.text and "UBND Phường Hoàn Kiếm" in home.text
    assert client.post("/auth/logout", data={}).status_code == 400, "logout needs the CSRF token"
    token = hidden_fields(home.text)["csrf_token"]
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"), [("admin@hanoi.gov.vn", "wrong password!"), ("nobody@hanoi.gov.vn", PASSWORD)]
)
def test_wrong_credentials(client, users, email, password):
    reply = login(client, email, password)
    assert reply.status_code == 401 and "Sai thư điện tử hoặc mật khẩu" in reply.text


def test_disabled_user_cannot_log_in_and_is_logged_out(app, client, users):
    assert login(client, "admin@hanoi.gov.vn").status_code == 303
    app.test_cli_runner().invoke(args=["user", "disable", "--email", "admin@hanoi.gov.vn"])
    assert client.get("/").status_code == 302, "the open session ends"
    assert login(client, "admin@hanoi.gov.vn").status_code == 401


def test_login_without_csrf_is_refused(client, users):
    reply = client.post("/auth/login", data={"email": "admin@hanoi.gov.vn", "password": PASSWORD})
    assert reply.status_code == 422


def test_next_only_goes_to_this_site(client, users):
    page = client.get("/auth/login")
    data = {**hidden_fields(page.text), "email": "admin@hanoi.gov.vn", "password": PASSWORD}
    assert client.post("/auth/login?next=//evil.example/x", data=data).headers["Location"] == "/"
    assert client.post("/auth/login?next=/auth/password", data=data).headers["Location"] == "/auth/password"


def test_login_attempts_are_rate_limited(make_app, counter):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        accounts.create_user(db.session(), "admin@hanoi.gov.vn", "admin", PASSWORD)
        db.session().commit()
    client = app.test_client()
    statuses = [login(client, "admin@hanoi.gov.vn", "wrong password!").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


def test_change_password(app, client, users):
    login(client, "analyst@hanoi.gov.vn")
    page = client.get("/auth/password")
    token = hidden_fields(page.text)["csrf_token"]
    bad = client.post(
        "/auth/password", data={"csrf_token": token, "current": "nope", "new": "x" * 12, "confirm": "x" * 12}
    )
    assert bad.status_code == 422 and "không phải mật khẩu hiện tại" in bad.text
    short = client.post(
        "/auth/password", data={"csrf_token": token, "current": PASSWORD, "new": "short", "confirm": "short"}
    )
    assert short.status_code == 422
    ok = client.post(
        "/auth/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "new password 123", "confirm": "new password 123"},
    )
    assert ok.status_code == 303
    with app.app_context():
        assert accounts.authenticate(db.session(), "analyst@hanoi.gov.vn", "new password 123") is not None
        assert accounts.authenticate(db.session(), "analyst@hanoi.gov.vn", PASSWORD) is None


def test_password_page_needs_login(client):
    reply = client.get("/auth/password")
    assert reply.status_code == 302 and "/auth/login?next=" in reply.headers["Location"]


def test_visible_agencies_follow_the_hierarchy(app, users):
    with app.app_context():
        s = db.session()
        by_email = {u.email: u for u in s.scalars(select(User))}
        assert agencies.visible_codes(s, by_email["admin@hanoi.gov.vn"].agency_id) is None
        assert agencies.visible_codes(s, by_email["official@hoankiem.gov.vn"].agency_id) == {"P-HK"}
        assert agencies.visible_codes(s, by_email["analyst@hanoi.gov.vn"].agency_id) == {"HN", "P-HK"}
