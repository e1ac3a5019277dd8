"""The one writer of responses (domain.responses.store), the response's own key in exports, and the subtree rule."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from survey import db
from survey.domain import agencies, catalog, responses
from survey.models import Agency, Answer, AnswerCount, Interaction, Response, ScoreSum, utcnow

AT = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)


def table_counts(app) -> dict[str, int]:
    with app.extensions["survey.db"]["engine"].connect() as conn:
        return {m.__tablename__: conn.scalar(select(func.count()).select_from(m))
                for m in (Response, Answer, AnswerCount, ScoreSum)}  # fmt: skip


def rollup_totals(app) -> tuple:
    with app.extensions["survey.db"]["engine"].connect() as conn:
        counts = conn.execute(select(func.sum(AnswerCount.count))).scalar_one()
        scores = conn.execute(select(func.sum(ScoreSum.n), func.sum(ScoreSum.sum_y))).one()
        return counts, tuple(scores)


def submission(ward_id: int, key: str, **changes) -> responses.Submission:
    values = {"answers": {"TC1": 5, "CC1": 2}, "comment": "Nhanh gọn", "submitted_at": AT, **changes}
    return responses.Submission(catalog.current().get("sipas", 1), ward_id, "qr", key, **values)


def ward_id() -> int:
    return db.session().scalar(select(Agency.id).where(Agency.code == "P-HK"))


def test_store_writes_responses_answers_and_rollups_and_counts_each_key_once(app, counter):
    with app.app_context():
        s = db.session()
        first = [submission(ward_id(), f"key-{n:016d}") for n in range(3)]
        assert responses.store(s, first) == [responses.Outcome.STORED] * 3
        s.commit()
        again = [submission(ward_id(), "key-0000000000000001"), submission(ward_id(), "key-0000000000000009")]
        assert responses.store(s, again) == [responses.Outcome.DUPLICATE, responses.Outcome.STORED]
        s.commit()
    assert table_counts(app)["responses"] == 4
    assert table_counts(app)["answers"] == 4 * 3  # two answers and the comment each
    assert rollup_totals(app)[0] == 4 * 2  # a duplicate adds nothing to the rollups


def test_store_marks_the_interaction_used_and_a_spent_token_is_refused(app, counter):
    with app.app_context():
        s = db.session()
        interaction = Interaction(agency_id=ward_id(), channel="counter", token="t" * 20, created_at=utcnow(),
                                  expires_at=utcnow().replace(year=2099))  # fmt: skip
        s.add(interaction)
        s.flush()
        stored = responses.store(s, [submission(ward_id(), "key-a" * 4, interaction_id=interaction.id)])
        assert stored == [responses.Outcome.STORED]
        s.refresh(interaction)
        assert interaction.used_at is not None
        s.commit()
        spent = responses.store(s, [submission(ward_id(), "key-b" * 4, interaction_id=interaction.id)])
        assert spent == [responses.Outcome.TOKEN_USED]
        s.rollback()
    assert table_counts(app)["responses"] == 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"answers": {"XX9": 5}}, "not an item"),
        ({"answers": {"TC1": 9}}, "not a value"),
        ({"answers": {"UT1": 3}}, "no criterion"),
        ({"comment": "a\x00b"}, "control characters"),
        ({"comment": "x" * 5000}, "too long"),
    ],
)
def test_store_refuses_what_its_questionnaire_version_cannot_hold(app, counter, changes, reason):
    with app.app_context():
        s = db.session()
        with pytest.raises(responses.InvalidSubmission, match=reason):
            responses.store(
                s, [submission(ward_id(), "key-ok-000000000001"), submission(ward_id(), "k" * 16, **changes)]
            )
        s.rollback()
    assert table_counts(app)["responses"] == 0  # nothing of the call was written, the valid one neither


def test_store_refuses_a_malformed_key_and_a_key_twice_in_one_call(app, counter):
    with app.app_context():
        s = db.session()
        with pytest.raises(responses.InvalidSubmission, match="malformed"):
            responses.store(s, [submission(ward_id(), "short")])
        with pytest.raises(responses.InvalidSubmission, match="twice"):
            responses.store(s, [submission(ward_id(), "k" * 16), submission(ward_id(), "k" * 16)])


def test_an_export_imported_again_adds_nothing(app, runner, tmp_path):
    assert runner.invoke(args=["seed-demo", "--months", "2", "--responses-per-month", "40"]).exit_code == 0
    before, totals = table_counts(app), rollup_totals(app)
    with app.app_context():
        month = db.session().scalar(select(func.min(Response.submitted_at))).astimezone(UTC).strftime("%Y-%m")
    out = tmp_path / "export.csv"
    result = runner.invoke(args=["export-responses", "--month", month, "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    keys_read = {r["submission_key"].removeprefix("'") for r in rows}  # a key starting with '-' is neutralised
    assert rows and all(responses.SUBMISSION_KEY.match(k) for k in keys_read)
    with app.app_context():
        keys = set(db.session().scalars(select(Response.submission_key)))
    assert keys_read <= keys  # each response's own key, not a new one
    result = runner.invoke(args=["import-responses", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Imported 0 responses ({len(rows):,} already imported)" in result.output
    assert table_counts(app) == before and rollup_totals(app) == totals


def test_a_file_that_repeats_a_key_imports_it_once_and_a_bad_key_is_a_row_error(app, runner, tmp_path, counter):
    header = "submitted_at,agency_code,questionnaire,version,TC1,submission_key\n"
    same = "2026-01-15T09:00,P-HK,sipas,1,5,paper-form-000000000001\n"
    path = tmp_path / "twice.csv"
    path.write_text(header + same + same, encoding="utf-8")
    result = runner.invoke(args=["import-responses", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 responses (1 already imported)" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "2026-01-15T09:00,P-HK,sipas,1,5,not a key!\n", encoding="utf-8")
    result = runner.invoke(args=["import-responses", str(bad)])
    assert result.exit_code != 0
    assert "line 2: submission_key: 'not a key!' is not a submission key" in result.output
    assert table_counts(app)["responses"] == 1


def test_the_subtree_rule_follows_the_hierarchy_and_ends_on_a_cycle(app, counter):
    with app.app_context():
        s = db.session()
        city = s.scalar(select(Agency).where(Agency.code == "HN"))
        ward = s.scalar(select(Agency).where(Agency.code == "P-HK"))
        unit = Agency(code="T-1", name="Tổ 1", level="to", parent=ward)
        s.add(unit)
        s.flush()
        assert agencies.subtree_codes(s, city.id) == {"HN", "P-HK", "T-1"}
        assert agencies.subtree_codes(s, ward.id) == {"P-HK", "T-1"}
        assert agencies.visible_codes(s, None) is None
        assert agencies.contains(s, city.id, unit.id) and not agencies.contains(s, unit.id, city.id)
        city.parent_id = unit.id  # a cycle (the reference import refuses one; the query must still end)
        s.flush()
        assert agencies.subtree_codes(s, ward.id) == {"HN", "P-HK", "T-1"}
        s.rollback()
