"""Fixtures of the reporting tests: a database with three months of demo responses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from survey import db
from survey.transfer.demo import seed_demo

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def demo(app):
    """Three months of demo responses (including token responses and several questionnaires)."""
    with app.app_context():
        seed_demo(db.session(), months=3, per_month=120, seed=3, now=NOW)
        db.session().commit()
    return app
