"""Fixtures of the fuzz: SQLite unless a test asks for both backends, and the one-time links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from survey import db
from survey.domain import signing
from survey.models import Agency, Counter, Interaction, utcnow
from tests.helpers import fresh_database_url


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path, sqlite_template):
    """SQLite unless a test parametrises it (see tests/fuzz/__init__.py); same databases as the root conftest's."""
    return fresh_database_url(request, tmp_path, sqlite_template)


@pytest.fixture
def tokens(app, counter) -> dict[str, str]:
    """A second counter, on the tt01 questionnaire (a 0–2 scale), with an open, an expired and a used link."""
    with app.app_context():
        s = db.session()
        ward = s.scalar(select(Agency).where(Agency.code == "P-HK"))
        other = Counter(code="HK-02", agency=ward, name="Quầy số 2", questionnaire="tt01")
        s.add(other)
        s.flush()
        now, found = utcnow(), {}
        for state, expires, used in (
            ("open", now + timedelta(days=7), None),
            ("expired", now - timedelta(seconds=1), None),
            ("used", now + timedelta(days=7), now),
        ):
            found[state] = signing.new_token()
            s.add(
                Interaction(
                    token_hash=signing.token_hash(found[state]),
                    agency_id=ward.id,
                    counter_id=other.id,
                    expires_at=expires,
                    used_at=used,
                )
            )
        s.commit()
    return found
