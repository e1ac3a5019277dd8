"""Recording a citizen's response: counted once, whatever the network or the citizen does."""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from questionnaires import Definition
from survey import db
from survey.domain import catalog, rollup
from survey.models import Agency, Answer, Counter, Interaction, Response, utcnow


class Outcome(enum.Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same submission_key was stored before: acknowledge again
    TOKEN_USED = "token_used"  # the one-time token already served another response


@dataclass
class Submission:
    definition: Definition
    agency_id: int
    channel: str
    submission_key: str
    answers: dict[str, int]
    comment: str | None = None
    counter_id: int | None = None
    service_id: int | None = None
    interaction_id: int | None = None
    submitted_at: datetime = field(default_factory=utcnow)


TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # the shape of signing.new_token()
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")  # \Z: "$" would also match before a final newline
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in a comment


def new_submission_key() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Place:
    """What a citizen's page needs of an agency or a counter (read without the ORM: every page asks)."""

    id: int
    code: str
    name: str
    questionnaire: str | None
    questionnaire_version: int | None
    agency: Place | None = None


_PLACE_COLUMNS = ["id", "code", "name", "questionnaire", "questionnaire_version"]
_COUNTERS, _AGENCIES = Counter.__table__, Agency.__table__  # tables, not entities: no ORM step per page
_ACTIVE_COUNTER = (
    select(*(_COUNTERS.c[n] for n in _PLACE_COLUMNS), *(_AGENCIES.c[n] for n in _PLACE_COLUMNS))
    .join(_AGENCIES, _AGENCIES.c.id == _COUNTERS.c.agency_id)
    .where(_COUNTERS.c.code == bindparam("code"), _COUNTERS.c.active.is_(True))
)


def active_counter(session: Session, code: str) -> Place | None:
    """The active counter of that code, with its agency."""
    row = session.execute(_ACTIVE_COUNTER, {"code": code}).first()
    if row is None:
        return None
    n = len(_PLACE_COLUMNS)
    return Place(*row[:n], agency=Place(*row[n:]))


def interaction_by_token(session: Session, token: str) -> Interaction | None:
    if not TOKEN.fullmatch(token):  # not a token we issue (and PostgreSQL refuses NUL in text)
        return None
    return session.scalar(
        select(Interaction)
        .options(joinedload(Interaction.agency), joinedload(Interaction.counter))
        .where(Interaction.token == token)
    )


def is_open(interaction: Interaction, now: datetime | None = None) -> bool:
    """Whether a token can still serve a response."""
    return interaction.used_at is None and (now or utcnow()) < interaction.expires_at


def answered_with(session: Session, interaction: Interaction, submission_key: str | None) -> bool:
    """Whether the interaction's response was the one sent with this submission key."""
    if not submission_key or not SUBMISSION_KEY.match(submission_key):
        return False
    found = session.scalar(select(Response.interaction_id).where(Response.submission_key == submission_key))
    return found == interaction.id


def questionnaire_for(agency: Agency | Place, counter: Counter | Place | None = None) -> Definition:
    """The questionnaire a counter uses: its own, else its agency's, else the default."""
    known_questionnaires = catalog.current()
    for holder in (counter, agency):
        if holder is not None and holder.questionnaire:
            definition = known_questionnaires.get(holder.questionnaire, holder.questionnaire_version)
            if definition is not None:
                return definition
            current_app.logger.warning(
                "%s %s names unknown questionnaire %s v%s",
                "Counter" if holder is counter else "Agency",
                holder.code,
                holder.questionnaire,
                holder.questionnaire_version,
            )
    return known_questionnaires.get(current_app.config["DEFAULT_QUESTIONNAIRE"])


@cache
def _insert_response(dialect: str):
    """INSERT a response unless its submission key or interaction is taken, RETURNING its id (built once)."""
    table = Response.__table__
    return db.insert_ignoring_conflicts(table, dialect).returning(table.c.id)


def record_response(session: Session, sub: Submission) -> Outcome:
    """Write a response and its answers; the caller commits (or rolls back on TOKEN_USED).

    Unique constraints decide, not a read-then-write check: a submission_key seen before means the
    same citizen retried, an interaction already answered means the token is spent.
    """
    version_id = catalog.version_id(sub.definition)
    # Everything computed before the first write: on SQLite the write lock is held from the INSERT on.
    totals = rollup.accumulate(
        [rollup.Entry(sub.definition, version_id, sub.agency_id, sub.service_id, sub.submitted_at, sub.answers)]
    )
    rows = [
        {"response_id": None, "item_code": code, "value": value, "text": None} for code, value in sub.answers.items()
    ]
    if sub.comment:
        rows.append({"response_id": None, "item_code": "COMMENT", "value": None, "text": sub.comment})
    response = {
        "questionnaire_version_id": version_id,
        "agency_id": sub.agency_id,
        "counter_id": sub.counter_id,
        "service_id": sub.service_id,
        "interaction_id": sub.interaction_id,
        "channel": sub.channel,
        "submitted_at": sub.submitted_at,
        "submission_key": sub.submission_key,
    }
    response_id = session.execute(_insert_response(session.get_bind().dialect.name), response).scalar_one_or_none()
    if response_id is None:
        seen = session.scalar(select(Response.id).where(Response.submission_key == sub.submission_key))
        return Outcome.DUPLICATE if seen is not None else Outcome.TOKEN_USED
    if sub.interaction_id is not None:
        session.execute(
            update(Interaction).where(Interaction.id == sub.interaction_id).values(used_at=sub.submitted_at)
        )
    for row in rows:
        row["response_id"] = response_id
    session.execute(Answer.__table__.insert(), rows)  # Core executemany: no ORM bookkeeping per row
    rollup.write(session, totals)
    return Outcome.STORED
