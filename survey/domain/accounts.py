"""Staff accounts: finding, checking, creating and changing them; passwords are stored only as hashes.

Every change that must end the account's open sessions (a new password, role, agency or state, and
logging out) goes through ``end_sessions``: a session cookie names the version it was opened under.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.domain import agencies, audit
from survey.models import ROLES, Agency, User

MIN_PASSWORD = 10


@cache
def _dummy_hash() -> str:
    """A hash to check against when the e-mail is unknown, so both answers take as long (made on first use)."""
    return generate_password_hash("not a password of anyone")


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def load_session_user(session: Session, session_id: str) -> User | None:
    """The active user a session names ("<id>:<session version>"), or None once that session has ended."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None  # also a cookie from before session versions: it ends, its user logs in again
    user = session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with that e-mail and password, or None (in the same time either way)."""
    user = find_user(session, email)
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def end_sessions(user: User) -> None:
    """End every open session of the account (the next request of each finds the login page)."""
    user.session_version = (user.session_version or 0) + 1


def set_password(user: User, password: str) -> None:
    """Store the hash of a new password; the sessions opened with the old one end."""
    user.password_hash = generate_password_hash(password)
    end_sessions(user)


def change_password(session: Session, user: User, password: str, actor: str) -> None:
    """Give an existing account a new password, audited (never the password itself); ValueError if too short."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    set_password(user, password)
    audit.record(session, actor, "password", "user", user.email, None, audit.snapshot("user", user))


def update_account(user: User, role: str, agency: Agency | None, active: bool) -> None:
    """Set an account's role, agency and state; any change ends its open sessions."""
    if (user.role, user.agency, user.active) != (role, agency, active):
        end_sessions(user)
    user.role, user.agency, user.active = role, agency, active


def disable(user: User) -> None:
    """Switch an account off: it can no longer log in and its sessions end (also if enabled again later)."""
    update_account(user, user.role, user.agency, False)


def create_user(session: Session, email: str, role: str, password: str, agency_code: str | None = None) -> User:
    """A new staff account; ValueError with a reason when the data are not acceptable."""
    email = email.strip().lower()
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise ValueError("not an e-mail address")
    if find_user(session, email) is not None:
        raise ValueError(f"a user with e-mail {email} exists already")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    agency = agencies.named(session, agency_code)
    if role == "officer" and agency is None:
        raise ValueError("an officer belongs to an agency: give --agency")
    user = User(email=email, role=role, agency=agency)
    set_password(user, password)
    session.add(user)
    session.flush()
    return user
