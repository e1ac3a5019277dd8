"""Demo data: a believable Hà Nội, deterministic under a seed, safe to run on a filled database."""

from __future__ import annotations

import hashlib
import re
from collections import Counter as Tally
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, inspect, select

from survey import db
from survey.models import Agency, Answer, Counter, Interaction, QuestionnaireVersion, Response, Service
from survey.transfer.demo import seed_demo
from tests.helpers import count

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 18, 3, 0, tzinfo=UTC)  # Wednesday 18 March 2026, 10:00 in Hà Nội
SIPAS_CRITERIA = re.compile(r"^(TC|TT|CC|KQ|PA)\d$")
SMALL = ["seed-demo", "--months", "2", "--responses-per-month", "30"]


def fingerprint(app) -> str:
    """A hash of every response and answer by codes and values, not by database ids."""
    with app.app_context():
        s = db.session()
        rows = s.execute(
            select(Agency.code, Counter.code, Service.code, Response.channel, Response.submitted_at,
                   Response.submission_key, Answer.item_code, Answer.value, Answer.text)
            .join(Response.agency).join(Counter, Counter.id == Response.counter_id)
            .join(Service, Service.id == Response.service_id).join(Answer, Answer.response_id == Response.id)
        ).all()  # fmt: skip
        interactions = s.execute(select(Interaction.created_at, Interaction.used_at)).all()
    return hashlib.sha256(repr((sorted(rows), sorted(interactions, key=repr))).encode()).hexdigest()


def wipe(app) -> None:
    with app.app_context():
        s = db.session()
        for model in (Answer, Response, Interaction, Counter, Service, Agency):
            s.execute(delete(model))
        s.commit()


def answers_by(session, questionnaire: str) -> list[tuple]:
    """(agency code, month, item code, value) of every answer to a questionnaire."""
    rows = session.execute(
        select(Agency.code, Response.submitted_at, Answer.item_code, Answer.value)
        .join(Response.agency).join(Answer, Answer.response_id == Response.id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .where(QuestionnaireVersion.questionnaire == questionnaire)
    ).all()  # fmt: skip
    return [(a, at.astimezone(HANOI).strftime("%Y-%m"), code, value) for a, at, code, value in rows]


def satisfied_share(rows) -> float:
    return 100 * sum(v in (4, 5) for v in rows) / len(rows)


def test_seed_demo_command_creates_a_believable_hanoi(app, runner):
    result = runner.invoke(args=SMALL)
    assert result.exit_code == 0, result.output
    assert "Seeded 13 agencies, 10 services, 22 counters, " in result.output
    responses = count(app, Response)
    # At least the previous full month; the current month adds its share up to yesterday.
    assert f"{responses:,} responses" in result.output and responses >= 30
    with app.app_context():
        s = db.session()
        agencies = {a.code: a for a in s.scalars(select(Agency))}
        counters = s.scalars(select(Counter)).all()
    assert agencies["HN"].name == "UBND Thành phố Hà Nội" and agencies["HN"].parent_id is None
    assert {a.level for a in agencies.values()} == {"thanh_pho", "so", "trung_tam", "phuong", "xa"}
    assert all(a.parent_id == agencies["HN"].id for code, a in agencies.items() if code != "HN")
    assert "UBND Phường Hoàn Kiếm" in {a.name for a in agencies.values()}
    per_agency = Tally(c.agency_id for c in counters)
    assert all(1 <= per_agency[a.id] <= 3 for code, a in agencies.items() if code != "HN")
    forms = Tally(c.questionnaire for c in counters)
    assert forms == {None: 19, "quay-nhanh": 2, "tt01": 1}
    assert {c.code: c.name for c in counters}["HK-01"] == "Quầy số 1 – Tư pháp, hộ tịch"


def test_seed_demo_is_deterministic_under_its_seed(app, runner):
    assert runner.invoke(args=[*SMALL, "--seed", "5"]).exit_code == 0
    first = fingerprint(app)
    wipe(app)
    assert runner.invoke(args=[*SMALL, "--seed", "5"]).exit_code == 0
    assert fingerprint(app) == first
    wipe(app)
    assert runner.invoke(args=[*SMALL, "--seed", "6"]).exit_code == 0
    assert fingerprint(app) != first


def test_seed_demo_refuses_a_database_with_responses(app, runner):
    assert runner.invoke(args=SMALL).exit_code == 0
    before = (count(app, Response), count(app, Answer), count(app, Interaction))
    result = runner.invoke(args=SMALL)
    assert result.exit_code == 1
    assert "already has responses" in result.output
    assert (count(app, Response), count(app, Answer), count(app, Interaction)) == before


def test_if_empty_seeds_an_empty_database_and_skips_a_filled_one(app, runner):
    result = runner.invoke(args=[*SMALL, "--if-empty"])
    assert result.exit_code == 0 and "Seeded 13 agencies" in result.output
    before = (count(app, Agency), count(app, Response))
    result = runner.invoke(args=[*SMALL, "--if-empty"])
    assert result.exit_code == 0
    assert "Demo data not loaded: the database already has agencies." in result.output
    assert (count(app, Agency), count(app, Response)) == before


def test_if_empty_skips_when_only_reference_data_exists(app, runner, session):
    session.add(Agency(code="HN", name="UBND Thành phố Hà Nội", level="thanh_pho"))
    session.commit()
    result = runner.invoke(args=[*SMALL, "--if-empty"])
    assert result.exit_code == 0 and "already has agencies" in result.output
    assert count(app, Response) == 0


def test_months_end_with_the_current_month_in_office_hours(session):
    result = seed_demo(session, months=3, per_month=60, seed=2, now=NOW)
    session.commit()
    times = [t.astimezone(HANOI) for t in session.scalars(select(Response.submitted_at))]
    assert len(times) == result.responses
    per_month = Tally(t.strftime("%Y-%m") for t in times)
    # Full months have their count; the current month its share of the working days before today.
    assert per_month["2026-01"] == 60 and per_month["2026-02"] == 60
    assert 20 <= per_month["2026-03"] <= 40 and set(per_month) == {"2026-01", "2026-02", "2026-03"}
    assert max(times).date() < date(2026, 3, 18)
    for t in times:  # office hours, kept to the hour
        assert t.weekday() < 6 and t.minute == t.second == t.microsecond == 0
        assert time(8) <= t.time() <= time(11) or (t.weekday() < 5 and time(13) <= t.time() <= time(16))
    keys = session.scalars(select(Response.submission_key)).all()
    assert len(set(keys)) == len(keys) and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", k) for k in keys)
    assert set(session.scalars(select(Response.channel).distinct())) == {"qr", "token"}


def test_answers_follow_each_scale(session):
    seed_demo(session, months=2, per_month=200, seed=3, now=NOW)
    session.commit()
    sipas = answers_by(session, "sipas")
    values = defaultdict(set)
    for _, _, code, value in sipas + answers_by(session, "quay-nhanh") + answers_by(session, "tt01"):
        values[code if code.startswith(("BG", "QN", "COMMENT")) else code[:2]].add(value)
    assert all(values[e] == {1, 2, 3, 4, 5} for e in ("TC", "TT", "CC", "KQ", "PA"))
    assert values["UT"] == {1, 2, 3}  # priorities
    assert values["DG"] == {0, 1, 2}  # Thông tư 01/2018 indicators
    assert values["BG_AGE"] == {1, 2, 3, 4, 5} and values["BG_TYPE"] == {1, 2}
    assert values["COMMENT"] == {None}
    assert all(values[f"QN_{e}"] <= {1, 2, 3, 4, 5} for e in ("TC", "TT", "CC", "KQ", "PA"))
    # "No opinion" is no answer: PA items are skipped far more often than the others.
    sipas_responses = session.scalar(
        select(func.count()).select_from(Response).join(QuestionnaireVersion)
        .where(QuestionnaireVersion.questionnaire == "sipas")
    )  # fmt: skip
    answered = Tally(code for _, _, code, _ in sipas)
    assert answered["PA1"] < 0.8 * sipas_responses < 0.9 * sipas_responses < answered["CC1"] <= sipas_responses
    comments = session.scalars(select(Answer.text).where(Answer.item_code == "COMMENT")).all()
    assert comments and all(c.endswith(".") and not re.search(r"\d{6,}|@", c) for c in comments)


def test_agencies_differ_with_a_weak_element_and_an_upward_trend(session):
    seed_demo(session, months=12, per_month=150, seed=1, now=NOW)
    session.commit()
    rows = [r for r in answers_by(session, "sipas") if SIPAS_CRITERIA.match(r[2])]
    by_agency = defaultdict(list)
    for agency, _, _, value in rows:
        by_agency[agency].append(value)
    shares = {a: satisfied_share(v) for a, v in by_agency.items()}
    assert any(s < 86 for s in shares.values()) and any(s > 90 for s in shares.values()), shares
    by_element = {
        e: satisfied_share([v for _, _, c, v in rows if c.startswith(e)]) for e in ("TC", "TT", "CC", "KQ", "PA")
    }
    assert min(by_element, key=by_element.get) == "PA", by_element
    months = sorted({m for _, m, _, _ in rows})
    early = satisfied_share([v for _, m, _, v in rows if m in months[:4]])
    late = satisfied_share([v for _, m, _, v in rows if m in months[-4:]])
    assert late > early + 1, (early, late)


def test_interactions_of_the_last_month(session):
    seed_demo(session, months=2, per_month=300, seed=4, now=NOW)
    session.commit()
    interactions = session.scalars(select(Interaction)).all()
    start = datetime.combine(date(2026, 2, 16), time(), tzinfo=HANOI)
    assert interactions and all(start <= i.created_at < NOW for i in interactions)
    assert all(i.expires_at - i.created_at == timedelta(days=7) for i in interactions)
    assert len({i.token_hash for i in interactions}) == len(interactions)
    used = [i for i in interactions if i.used_at is not None]
    assert len(interactions) / 2 < len(used) < len(interactions)  # most tokens answered, not all
    # No response names its interaction: they meet only in what both hold (place, service, hour).
    token_responses = session.scalars(select(Response).where(Response.channel == "token")).all()
    assert len(token_responses) == len(used)
    answered = Tally((r.agency_id, r.counter_id, r.service_id, r.submitted_at) for r in token_responses)
    assert answered == Tally((i.agency_id, i.counter_id, i.service_id, i.used_at) for i in used)
    assert all(i.used_at.minute == i.used_at.second == 0 for i in used)
    assert all(timedelta(hours=-1) < i.used_at - i.created_at <= timedelta(minutes=30) for i in used)


def test_no_personal_data_is_stored(app, runner):
    assert runner.invoke(args=SMALL).exit_code == 0
    columns = {t: {c["name"] for c in inspect(db_engine(app)).get_columns(t)}
               for t in ("responses", "answers", "interactions")}  # fmt: skip
    assert columns == {
        "responses": {"id", "questionnaire_version_id", "agency_id", "counter_id", "service_id", "channel",
                      "submitted_at", "submission_key"},
        "answers": {"response_id", "item_code", "value", "text"},
        "interactions": {"id", "token_hash", "agency_id", "counter_id", "service_id", "channel", "dossier_hash",
                         "created_at", "expires_at", "used_at", "idempotency_hash"},
    }  # fmt: skip
    with app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).where(Interaction.dossier_hash.is_not(None))) == 0
        texts = s.scalars(select(Answer.item_code).where(Answer.text.is_not(None)).distinct()).all()
    assert texts == ["COMMENT"]


def db_engine(app):
    return app.extensions["survey.db"]["engine"]


@pytest.mark.parametrize("months", [1, 13])
def test_month_starts_cross_years(session, months):
    result = seed_demo(session, months=months, per_month=20, seed=1, now=NOW)
    session.commit()
    first = min(t.astimezone(HANOI) for t in session.scalars(select(Response.submitted_at)))
    expected = (2026, 3) if months == 1 else (2025, 3)
    assert (first.year, first.month) == expected and result.responses > 0


def test_existing_reference_data_is_kept_and_demo_codes_are_upserted(app, runner, session):
    session.add_all([Agency(code="HN", name="Thành phố Hà Nội (cũ)", level="thanh_pho"),
                     Agency(code="P-XYZ", name="UBND Phường XYZ", level="phuong")])  # fmt: skip
    session.commit()
    result = runner.invoke(args=SMALL)
    assert result.exit_code == 0, result.output
    names = dict(session.execute(select(Agency.code, Agency.name)).all())
    assert names["HN"] == "UBND Thành phố Hà Nội" and names["P-XYZ"] == "UBND Phường XYZ"
    assert len(names) == 14
