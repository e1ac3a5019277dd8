"""Questionnaire versions in the database: registered once, immutable once answered."""

from __future__ import annotations

import shutil

import pytest
import yaml
from sqlalchemy import select

from questionnaires import DEFAULT_DIR
from survey import db
from survey.domain.catalog import ImmutableVersionError
from survey.models import QuestionnaireVersion
from tests.helpers import send


@pytest.fixture
def qdir(tmp_path):
    """A private copy of the shipped questionnaires that a test may edit."""
    target = tmp_path / "questionnaires"
    shutil.copytree(DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit_sipas(qdir, version=1, text="Văn bản đã sửa."):
    raw = yaml.safe_load((qdir / "sipas.yaml").read_text(encoding="utf-8"))
    raw["version"] = version
    raw["elements"][0]["criteria"][0]["text"]["vi"] = text
    name = "sipas.yaml" if version == 1 else f"sipas-v{version}.yaml"
    (qdir / name).write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def versions(app):
    with app.app_context():
        return {(v.questionnaire, v.version): v.fingerprint for v in db.session().scalars(select(QuestionnaireVersion))}


def test_versions_are_registered_at_start(app):
    registered = versions(app)
    assert set(registered) == {("sipas", 1), ("quay-nhanh", 1), ("tt01", 1)}
    assert all(len(fp) == 64 for fp in registered.values())


def test_unanswered_version_may_still_be_edited(make_app, qdir):
    before = versions(make_app(QUESTIONNAIRE_DIR=qdir))
    edit_sipas(qdir)
    after = versions(make_app(QUESTIONNAIRE_DIR=qdir))
    assert after[("sipas", 1)] != before[("sipas", 1)]


def test_answered_version_cannot_be_edited(make_app, qdir, counter_path):
    app = make_app(QUESTIONNAIRE_DIR=qdir)
    assert send(app.test_client(), counter_path, {"TC1": "4"}).status_code == 303
    edit_sipas(qdir)
    with pytest.raises(ImmutableVersionError, match=r"sipas.yaml: sipas version 1 was edited but already has 1 resp"):
        make_app(QUESTIONNAIRE_DIR=qdir)


def test_a_new_version_is_served_beside_the_old(make_app, qdir, counter_path):
    app = make_app(QUESTIONNAIRE_DIR=qdir)
    assert send(app.test_client(), counter_path, {"TC1": "4"}).status_code == 303
    edit_sipas(qdir, version=2, text="Phiên bản hai của tiêu chí TC1.")
    app2 = make_app(QUESTIONNAIRE_DIR=qdir)
    assert ("sipas", 2) in versions(app2)
    page = app2.test_client().get(counter_path)
    assert "Phiên bản hai của tiêu chí TC1." in page.text, "counters without a pinned version get the latest"


def test_unknown_default_questionnaire_stops_the_app(make_app):
    with pytest.raises(RuntimeError, match="DEFAULT_QUESTIONNAIRE 'nothing' is not in the catalog"):
        make_app(DEFAULT_QUESTIONNAIRE="nothing")


def test_seeded_targets_leave_room_for_new_ones(app):
    from datetime import date

    from survey.models import Target

    with app.app_context():
        s = db.session()
        assert sorted(t.code for t in s.scalars(select(Target))) == ["86", "90"]
        s.add(Target(code="95", value=95, metric="overall", period_start=date(2026, 1, 1), source="test"))
        s.commit()
