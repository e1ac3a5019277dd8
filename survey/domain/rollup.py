"""Monthly rollups (answer_counts, score_sums): what a month's report reads instead of every answer.

Every path that writes responses adds to them in the same transaction (``accumulate`` then ``write``:
per call of ``store``, or once for a whole import), so the rollups can never disagree with the
responses they summarise; ``rebuild`` recomputes them from the responses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import NamedTuple
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


class Entry(NamedTuple):
    """One response as the rollups see it (a tuple: an import makes one per row)."""

    definition: Definition
    version_id: int
    agency_id: int
    service_id: int | None
    submitted_at: datetime
    answers: Mapping[str, int]


def local_period(moment: datetime, zone: ZoneInfo | None = None) -> date:
    """The first day of the local calendar month a moment belongs to (zone: the app's, looked up once)."""
    return moment.astimezone(zone or ZoneInfo(current_app.config["TIMEZONE"])).date().replace(day=1)


class Totals:
    """Rollup increments of responses, summed in memory before any write.

    Their size is bounded by months × agencies × services × versions × items, not by the number of
    responses: an import keeps one Totals and writes it at the end, or whenever it holds more than
    GROUPS_KEPT groups (a country's month has hundreds of thousands), so memory stays bounded.
    """

    GROUPS_KEPT = 20_000

    def __init__(self) -> None:
        self.counts: dict[tuple, Counter] = defaultdict(Counter)  # group → (item, value) → answers
        self.scores: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0.0])  # (*group, scope) → n, Σy, Σy²
        self._zone = ZoneInfo(current_app.config["TIMEZONE"])

    def add(self, entries: Iterable[Entry]) -> Totals:
        """Add responses; answers off their questionnaire version (item or scale) are not counted."""
        zone, counts, scores = self._zone, self.counts, self.scores
        for e in entries:
            group = (local_period(e.submitted_at, zone), e.agency_id, e.service_id or 0, e.version_id)
            answers, valid = e.answers.items(), e.definition.answer_values
            counts[group].update(answers if valid.issuperset(answers) else [a for a in answers if a in valid])
            for scope, y in respondent_scores(e.definition, e.answers).items():
                total = scores[(*group, scope)]
                total[0], total[1], total[2] = total[0] + 1, total[1] + y, total[2] + y * y
        return self

    def full(self) -> bool:
        """Whether the totals should be written now (and a new Totals started) to bound memory."""
        return len(self.counts) > self.GROUPS_KEPT

    def rows(self) -> tuple[dict[tuple, int], dict[tuple, list]]:
        """The answer counts and score sums, keyed by their tables' primary keys."""
        counts = {(*group, *answer): n for group, found in self.counts.items() for answer, n in found.items()}
        return counts, self.scores


def accumulate(entries: Iterable[Entry], into: Totals | None = None) -> Totals:
    """The rollup totals of responses (added to into, if given), computed before any write."""
    return (into if into is not None else Totals()).add(entries)


def write(session: Session, totals: Totals) -> None:
    """Add totals computed by accumulate() to the rollups."""
    counts, scores = totals.rows()
    _upsert(session, AnswerCount, {k: (v,) for k, v in counts.items()})
    _upsert(session, ScoreSum, {k: tuple(v) for k, v in scores.items()})


# The columns of the keys Totals builds, in its order; a table's primary key may be in another order
# (answer_counts is keyed in the order a report groups it).
_KEYS = {
    AnswerCount: ("period", "agency_id", "service_id", "questionnaire_version_id", "item_code", "value"),
    ScoreSum: ("period", "agency_id", "service_id", "questionnaire_version_id", "scope"),
}


def _upsert(session: Session, model, rows: dict[tuple, tuple]) -> None:
    """Insert rows, or add their numbers to the rows already there; keys in order, so locks are too."""
    if not rows:
        return
    table = model.__table__
    keys = list(_KEYS[model])
    assert set(keys) == {c.name for c in table.primary_key.columns}, f"{table.name}: key columns changed"
    measures = [c.name for c in table.columns if c.name not in keys]
    ordered = ((*k, *rows[k]) for k in sorted(rows))
    db.insert_rows(session, table, [*keys, *measures], ordered, add_on_conflict=measures)


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
    write(session, accumulate(_entries(rows, definitions, progress)))
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
