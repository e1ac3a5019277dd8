"""Monthly rollups (answer_counts, score_sums): what a month's report reads instead of every answer.

Every path that writes responses calls ``add`` in the same transaction, so the rollups can never
disagree with the responses they summarise; ``rebuild`` recomputes them from the responses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import click
from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from analysis.scores import respondent_scores
from questionnaires import Definition
from survey import db
from survey.domain import catalog
from survey.models import Answer, AnswerCount, QuestionnaireVersion, Response, ScoreSum

CHUNK = 500  # parameter sets per executemany of an upsert: a rebuild streams in bounded batches


@dataclass(frozen=True)
class Entry:
    """One response as the rollups see it."""

    definition: Definition
    version_id: int
    agency_id: int
    service_id: int | None
    submitted_at: datetime
    answers: Mapping[str, int]


def local_period(moment: datetime) -> date:
    """The first day of the local calendar month a moment belongs to."""
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date().replace(day=1)


def add(session: Session, entries: Iterable[Entry]) -> None:
    """Add responses to the rollups (the caller's transaction commits them with the responses)."""
    write(session, accumulate(entries))


def write(session: Session, totals: tuple[Counter, dict]) -> None:
    """Add totals computed by accumulate() to the rollups."""
    _write(session, *totals)


def _write(session: Session, counts: Counter, scores: dict) -> None:
    _upsert(session, AnswerCount, {k: {"count": v} for k, v in counts.items()})
    _upsert(session, ScoreSum, {k: {"n": v[0], "sum_y": v[1], "sum_y2": v[2]} for k, v in scores.items()})


def accumulate(entries: Iterable[Entry]) -> tuple[Counter, dict]:
    """The rollup totals of responses, computed before any write (so locks are held for less time)."""
    counts: Counter = Counter()
    scores: dict = defaultdict(lambda: [0, 0.0, 0.0])
    for e in entries:
        key = (local_period(e.submitted_at), e.agency_id, e.service_id or 0, e.version_id)
        for code, value in e.answers.items():
            item = e.definition.item(code)
            if item is not None and value in item.scale.values:
                counts[(*key, code, value)] += 1
        for scope, y in respondent_scores(e.definition, e.answers).items():
            total = scores[(*key, scope)]
            total[0], total[1], total[2] = total[0] + 1, total[1] + y, total[2] + y * y
    return counts, scores


def _upsert(session: Session, model, rows: dict[tuple, dict]) -> None:
    """Insert rows, or add their numbers to the rows already there; keys in order, so locks are too.

    One statement executed for many parameter sets: it is compiled once per process and cached,
    where a multi-row VALUES would be compiled again for every new number of rows.
    """
    if not rows:
        return
    stmt, keys = _upsert_statement(model, session.get_bind().dialect.name)
    ordered = [{**dict(zip(keys, k, strict=True)), **rows[k]} for k in sorted(rows)]
    for start in range(0, len(ordered), CHUNK):
        session.execute(stmt, ordered[start : start + CHUNK])


# The columns of the keys accumulate() builds, in its order; a table's primary key may be in another
# order (answer_counts is keyed in the order a report groups it).
_KEYS = {
    AnswerCount: ("period", "agency_id", "service_id", "questionnaire_version_id", "item_code", "value"),
    ScoreSum: ("period", "agency_id", "service_id", "questionnaire_version_id", "scope"),
}


@cache
def _upsert_statement(model, dialect: str):
    """INSERT … ON CONFLICT (key) DO UPDATE SET measure = measure + excluded.measure, and the key columns."""
    table = model.__table__
    keys = _KEYS[model]
    assert set(keys) == {c.name for c in table.primary_key.columns}, f"{table.name}: key columns changed"
    measures = [c.name for c in table.columns if c.name not in keys]
    stmt = db.insert_dialect(table, dialect)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={m: table.c[m] + stmt.excluded[m] for m in measures})
    return stmt, keys


def missing(session: Session) -> bool:
    """Whether responses exist but the rollups are empty (a database from before them)."""
    has_responses = session.scalar(select(Response.id).limit(1)) is not None
    return has_responses and session.scalar(select(AnswerCount.count).limit(1)) is None


def rebuild(session: Session, progress=None) -> int:
    """Recompute every rollup from the stored responses; returns the number of responses read."""
    session.execute(delete(AnswerCount))
    session.execute(delete(ScoreSum))
    definitions = {
        v.id: catalog.current().get(v.questionnaire, v.version) for v in session.scalars(select(QuestionnaireVersion))
    }
    rows = session.execute(
        select(
            Response.id,
            Response.questionnaire_version_id,
            Response.agency_id,
            Response.service_id,
            Response.submitted_at,
            Answer.item_code,
            Answer.value,
        )
        .join(Answer, Answer.response_id == Response.id)
        .where(Answer.value.is_not(None))
        .order_by(Response.id)
        .execution_options(yield_per=20_000)
    )
    _write(session, *accumulate(_entries(rows, definitions, progress)))
    return session.scalar(select(func.count()).select_from(Response))


def _entries(rows, definitions, progress):
    current, answers = None, {}
    for row in rows:
        if current is not None and row.id != current.id:
            yield _entry(current, answers, definitions)
            answers = {}
            if progress:
                progress(1)
        current = row
        answers[row.item_code] = row.value
    if current is not None:
        yield _entry(current, answers, definitions)


def _entry(row, answers, definitions) -> Entry:
    definition = definitions[row.questionnaire_version_id]
    if definition is None:
        raise click.ClickException(f"questionnaire version {row.questionnaire_version_id} has no definition file")
    return Entry(definition, row.questionnaire_version_id, row.agency_id, row.service_id, row.submitted_at, answers)
