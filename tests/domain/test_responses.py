"""The one writer of responses: domain.responses.store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from survey import db
from survey.domain import catalog, responses
from survey.models import Agency, Interaction, Response, utcnow
from tests.helpers import counts, rollup_totals

AT = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)


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
    assert counts(app)["responses"] == 4
    assert counts(app)["answers"] == 4 * 3  # two answers and the comment each
    assert rollup_totals(app)[0] == 4 * 2  # a duplicate adds nothing to the rollups


def test_store_marks_the_interaction_used_and_a_spent_token_is_refused(app, counter):
    with app.app_context():
        s = db.session()
        interaction = Interaction(agency_id=ward_id(), channel="counter", token_hash="t" * 64, created_at=utcnow(),
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
    assert counts(app)["responses"] == 1


def test_a_batch_with_a_spent_token_keeps_the_others_and_takes_back_only_that_response(app, counter):
    with app.app_context():
        s = db.session()
        interaction = Interaction(agency_id=ward_id(), channel="counter", token_hash="u" * 64, created_at=utcnow(),
                                  expires_at=utcnow().replace(year=2099), used_at=utcnow())  # fmt: skip
        s.add(interaction)
        s.flush()
        batch = [submission(ward_id(), "key-c" * 4), submission(ward_id(), "key-d" * 4, interaction_id=interaction.id)]
        assert responses.store(s, batch) == [responses.Outcome.STORED, responses.Outcome.TOKEN_USED]
        s.commit()
    assert counts(app)["responses"] == 1
    assert counts(app)["answers"] == 3
    assert rollup_totals(app)[0] == 2  # the answers of the response taken back are not counted


def test_a_response_keeps_its_local_hour_only(app, counter):
    with app.app_context():
        s = db.session()
        at = datetime(2026, 1, 31, 16, 59, 58, 123456, tzinfo=UTC)  # 23:59:58 on the 31st in Hà Nội
        assert responses.store(s, [submission(ward_id(), "key-e" * 4, submitted_at=at)]) == [responses.Outcome.STORED]
        s.commit()
        stored = s.scalar(select(Response.submitted_at))
    assert stored == datetime(2026, 1, 31, 16, 0, tzinfo=UTC)  # 23:00 local, still January


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
    assert counts(app)["responses"] == 0  # nothing of the call was written, the valid one neither


def test_store_refuses_a_malformed_key_and_a_key_twice_in_one_call(app, counter):
    with app.app_context():
        s = db.session()
        with pytest.raises(responses.InvalidSubmission, match="malformed"):
            responses.store(s, [submission(ward_id(), "short")])
        with pytest.raises(responses.InvalidSubmission, match="twice"):
            responses.store(s, [submission(ward_id(), "k" * 16), submission(ward_id(), "k" * 16)])


def test_store_writes_values_exactly_as_core_would(app, counter):
    """store() inserts plain tuples with the driver's bulk path; the stored values are Core's own."""
    from sqlalchemy import insert, text

    from survey.models import Response

    moment = datetime(2026, 1, 15, 3, 0, 7, 120, tzinfo=UTC)
    with app.app_context():
        s = db.session()
        assert responses.store(s, [submission(ward_id(), "bulk-key-000000001", submitted_at=moment)])
        version = catalog.version_id(catalog.current().get("sipas", 1))
        s.execute(insert(Response), [{"questionnaire_version_id": version, "agency_id": ward_id(), "channel": "qr",
                                      "submitted_at": moment.replace(second=0, microsecond=0),
                                      "submission_key": "core-key-000000001"}])  # fmt: skip
        raw = s.execute(text("SELECT submission_key, submitted_at FROM responses ORDER BY id")).all()
        s.commit()
    (_, stored), (_, core) = raw
    assert stored == core


def test_store_totals_are_kept_for_the_caller_to_write(app, counter):
    from sqlalchemy import func

    from survey.domain import rollup
    from survey.models import AnswerCount

    with app.app_context():
        s = db.session()
        totals = rollup.Totals()
        subs = [submission(ward_id(), f"later-{n:016d}") for n in range(3)]
        assert responses.store(s, subs[:2], totals) == [responses.Outcome.STORED] * 2
        assert responses.store(s, subs, totals)[2] is responses.Outcome.STORED  # two duplicates, not counted
        assert s.scalar(select(func.count()).select_from(AnswerCount)) == 0, "nothing written to the rollups yet"
        rollup.write(s, totals)
        s.commit()
    assert rollup_totals(app)[0] == 3 * 2
