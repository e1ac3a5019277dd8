"""The database side of the monthly aggregation: the frames that analysis.indices works on.

Counting happens in the database: a month's report reads the monthly rollups (survey.rollup),
grouped and filtered in SQL, so pandas only ever sees counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from analysis.counting import normalize_counts, normalize_scores
from analysis.periods import month_bounds
from analysis.reading import TIDY_COLUMNS
from survey.domain import agencies
from survey.models import (
    Agency,
    Answer,
    AnswerCount,
    Counter,
    Interaction,
    QuestionnaireVersion,
    Response,
    ScoreSum,
    Service,
    Target,
)

# The key and measure columns of each rollup table, and how analysis.counting normalises its frame.
_ROLLUPS = {
    AnswerCount: ([AnswerCount.item_code, AnswerCount.value], [AnswerCount.count], normalize_counts),
    ScoreSum: ([ScoreSum.scope], [ScoreSum.n, ScoreSum.sum_y, ScoreSum.sum_y2], normalize_scores),
}


def _first_day(month: str) -> date:
    year, number = map(int, month.split("-"))
    return date(year, number, 1)


@dataclass(frozen=True)
class Codes:
    """What ids in the rollups stand for: versions, agency codes and service codes (read once per report)."""

    versions: dict[int, tuple[str, int]]
    agencies: dict[int, str]
    services: dict[int, str]

    @classmethod
    def read(cls, session: Session) -> Codes:
        versions = {v.id: (v.questionnaire, v.version) for v in session.execute(select(QuestionnaireVersion)).scalars()}
        agencies = dict(session.execute(select(Agency.id, Agency.code)).all())
        return cls(versions, agencies, {0: "", **dict(session.execute(select(Service.id, Service.code)).all())})


@dataclass(frozen=True)
class Inputs:
    """Everything analysis.indices and analysis.trend need for some months: read in one go, eight queries."""

    counts: pd.DataFrame
    scores: pd.DataFrame
    agencies: pd.DataFrame
    targets: pd.DataFrame
    interactions: pd.DataFrame

    @classmethod
    def read(
        cls,
        session: Session,
        months: list[str],
        tz: str,
        questionnaire: str | None = None,
        by_service: bool = False,
        agency: str | None = None,
    ) -> Inputs:
        """Read the months; with an agency, only the rollups and interactions of its subtree (the rule of
        survey.domain.agencies, in SQL), which is all its report shows."""
        codes = Codes.read(session)
        within = agencies.subtree(agencies.named(session, agency).id) if agency else None
        return cls(
            month_counts(session, months, questionnaire, by_service, codes, within),
            month_scores(session, months, questionnaire, by_service, codes, within),
            agencies_frame(session),
            targets_frame(session),
            interactions_frame(session, months, tz, within),
        )


def _rollup_frame(
    session: Session,
    model,
    months: list[str],
    questionnaire: str | None,
    by_service: bool,
    codes: Codes | None,
    within: Select | None = None,
) -> pd.DataFrame:
    """Sum a rollup table over the months in SQL (over services too unless by_service); codes for ids."""
    keys, measures, normalize = _ROLLUPS[model]
    group = [model.period, model.questionnaire_version_id, model.agency_id]
    group += [model.service_id] if by_service else []
    stmt = (
        select(*group, *keys, *(func.sum(m) for m in measures))
        .where(model.period.in_([_first_day(m) for m in months]))
        .group_by(*group, *keys)
    )
    if within is not None:
        stmt = stmt.where(model.agency_id.in_(within))
    if questionnaire:
        versions = select(QuestionnaireVersion.id).where(QuestionnaireVersion.questionnaire == questionnaire)
        stmt = stmt.where(model.questionnaire_version_id.in_(versions))
    names = [
        "period",
        "version_id",
        "agency_id",
        *(["service_id"] if by_service else []),
        *(k.key for k in keys),
        *(m.key for m in measures),
    ]
    # Core rows, not ORM ones, made into columns first: pandas takes a list of row tuples several times
    # more slowly, and a month summed over services is some 15,000 rows at every size.
    rows = session.connection().execute(stmt).all()
    frame = pd.DataFrame(dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {}, columns=names)
    codes = codes or Codes.read(session)
    versions, agencies, services = codes.versions, codes.agencies, codes.services
    periods = {p: f"{p.year:04d}-{p.month:02d}" for p in frame["period"].unique()}
    return normalize(
        frame.assign(
            period=frame["period"].map(periods),
            questionnaire=frame["version_id"].map({i: q for i, (q, _) in versions.items()}),
            version=frame["version_id"].map({i: v for i, (_, v) in versions.items()}),
            agency_code=frame["agency_id"].map(agencies),
            service_code=frame["service_id"].map(services) if by_service else "",
        )
    )


def month_counts(session: Session, months: list[str], questionnaire: str | None = None, by_service: bool = True,
                 codes: Codes | None = None, within: Select | None = None) -> pd.DataFrame:  # fmt: skip
    """Answers per value and item, per agency, version (and service) for the given months (counts frame)."""
    return _rollup_frame(session, AnswerCount, months, questionnaire, by_service, codes, within)


def month_scores(session: Session, months: list[str], questionnaire: str | None = None, by_service: bool = True,
                 codes: Codes | None = None, within: Select | None = None) -> pd.DataFrame:  # fmt: skip
    """Sums of respondent scores per element and overall for the given months (scores frame)."""
    return _rollup_frame(session, ScoreSum, months, questionnaire, by_service, codes, within)


def agencies_frame(session: Session) -> pd.DataFrame:
    """Every agency with its parent's code."""
    parent = Agency.__table__.alias("parent")
    stmt = select(Agency.code, Agency.name, parent.c.code).outerjoin(parent, parent.c.id == Agency.parent_id)
    frame = pd.DataFrame(session.execute(stmt.order_by(Agency.code)).all(), columns=["code", "name", "parent_code"])
    return frame.astype(object).where(frame.notna(), None)


def targets_frame(session: Session) -> pd.DataFrame:
    """The active targets."""
    columns = ["code", "value", "metric", "period_start", "period_end", "source", "description"]
    stmt = select(*(getattr(Target, c) for c in columns)).where(Target.active.is_(True)).order_by(Target.value)
    return pd.DataFrame(session.execute(stmt).all(), columns=columns)


def interactions_frame(session: Session, months: list[str], tz: str, within: Select | None = None) -> pd.DataFrame:
    """One-time tokens issued in each month, and how many served a response (one query for every month)."""
    columns = ["period", "agency_code", "service_code", "issued", "used"]
    if not months:
        return pd.DataFrame(columns=columns)
    bounds = {month: month_bounds(month, tz) for month in months}
    created = Interaction.created_at
    period = case(*((created < end, literal(m)) for m, (_, end) in sorted(bounds.items())))
    ranges = or_(*(and_(created >= start, created < end) for start, end in bounds.values()))
    stmt = (
        select(period, Agency.code, func.coalesce(Service.code, literal("")), func.count(Interaction.id),
               func.count(Interaction.used_at))
        .join(Agency, Agency.id == Interaction.agency_id)
        .outerjoin(Service, Service.id == Interaction.service_id)
        .where(ranges, *([Interaction.agency_id.in_(within)] if within is not None else []))
        .group_by(period, Agency.code, Service.code)
    )  # fmt: skip
    frame = pd.DataFrame(session.execute(stmt).all(), columns=columns)
    return frame.sort_values(["period", "agency_code", "service_code"], ignore_index=True)


def months_with_responses(session: Session) -> list[str]:
    """The months (local) that have rollups, newest first."""
    periods = session.scalars(select(AnswerCount.period).distinct().order_by(AnswerCount.period.desc())).all()
    return [f"{p.year:04d}-{p.month:02d}" for p in periods]


def answers_frame(session: Session, month: str, tz: str) -> pd.DataFrame:
    """The month's answers one per row (the tidy frame): for notebooks, checks and small exports."""
    start, end = month_bounds(month, tz)
    counter = Counter.__table__.alias("counter")
    stmt = (
        select(
            Response.id,
            Response.submitted_at,
            Agency.code,
            Service.code,
            counter.c.code,
            QuestionnaireVersion.questionnaire,
            QuestionnaireVersion.version,
            Answer.item_code,
            Answer.value,
        )
        .join(Answer, Answer.response_id == Response.id)
        .join(Agency, Agency.id == Response.agency_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .outerjoin(Service, Service.id == Response.service_id)
        .outerjoin(counter, counter.c.id == Response.counter_id)
        .where(Response.submitted_at >= start, Response.submitted_at < end, Answer.value.is_not(None))
        .order_by(Response.id, Answer.item_code)
    )
    frame = pd.DataFrame(session.execute(stmt).all(), columns=TIDY_COLUMNS)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    return frame
