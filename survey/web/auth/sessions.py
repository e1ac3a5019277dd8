"""Staff sessions: which account a session cookie signs in, and whether that session is still open.

A session ends at logout and whenever its account's session version moves on (a new password, role,
agency or state: see survey.domain.accounts), after SESSION_IDLE_MINUTES without a request and
SESSION_MAX_HOURS after logging in. The times live in the signed cookie; only a staff request (one
that loads the user) reads or refreshes them, so citizen pages never pay for any of this.
"""

from __future__ import annotations

import time

from flask import current_app, session
from flask_login import login_user, logout_user

from survey import db
from survey.domain import accounts
from survey.models import User

LOGIN_AT, SEEN_AT = "staff_login_at", "staff_seen_at"  # epoch seconds, in the signed session cookie
SIGNED_IN = "staff_signed_in"  # the id login_user stored: a remember cookie cannot name another one
SEEN_STEP = 60  # refresh the last-seen time at most once a minute, not with every chart request
FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember_seconds")


def start(user: User) -> None:
    """Sign the user in on this browser, starting the idle and absolute clocks."""
    login_user(user)  # never remember=True: a remember cookie would outlive the session's limits
    session[SIGNED_IN] = user.get_id()
    session[LOGIN_AT] = session[SEEN_AT] = int(time.time())


def renew(user: User) -> None:
    """Keep this browser signed in after the account's other sessions ended (its own password change)."""
    login_user(user)  # the session now names the new session version; the clocks run on
    session[SIGNED_IN] = user.get_id()


def end() -> None:
    """Sign this browser out."""
    logout_user()
    for key in (SIGNED_IN, LOGIN_AT, SEEN_AT):
        session.pop(key, None)


def _open(session_id: str, now: int) -> bool:
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if session.get(SIGNED_IN) != session_id or not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False  # e.g. a user id from a remember cookie, which this application never sets
    config = current_app.config
    return now - login_at <= config["SESSION_MAX_HOURS"] * 3600 and now - seen_at <= config["SESSION_IDLE_MINUTES"] * 60


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the account of an open session, else None (and the session is cleared)."""
    now = int(time.time())
    user = accounts.load_session_user(db.session(), session_id) if _open(session_id, now) else None
    if user is None:
        for key in (*FLASK_LOGIN_KEYS, SIGNED_IN, LOGIN_AT, SEEN_AT):
            session.pop(key, None)
        session["_remember"] = "clear"  # and a remember cookie, if one were ever sent, is dropped
        return None
    if now - session[SEEN_AT] >= SEEN_STEP:
        session[SEEN_AT] = now
    return user
