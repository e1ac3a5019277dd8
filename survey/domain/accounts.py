"""Staff accounts: finding, checking and creating them; passwords are stored only as hashes."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.domain import agencies
from survey.models import ROLES, User

MIN_PASSWORD = 10


@cache
def _dummy_hash() -> str:
    """A hash to check against when the e-mail is unknown, so both answers take as long (made on first use)."""
    return generate_password_hash("not a password of anyone")


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def load_active(session: Session, user_id: str) -> User | None:
    """The active user of a session cookie's id, or None."""
    user = session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with that e-mail and password, or None (in the same time either way)."""
    user = find_user(session, email)
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password)


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
