"""Responses: the one writer (store), and what a citizen's page reads to offer its questionnaire.

A response is counted once, whatever the network or the citizen does."""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session, joinedload

from questionnaires import Definition
from survey import db
from survey.domain import catalog, rollup, signing
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
    interaction_id: int | None = None  # marked used when stored; never stored with the response
    submitted_at: datetime = field(default_factory=utcnow)


TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # the shape of signing.new_token()
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")  # \Z: "$" would also match before a final newline
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in a comment
COMMENT_ITEM = "COMMENT"  # a comment is stored as an answer under this code, with its text and no value


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
    """The interaction of a one-time token (looked up by its hash: the database keeps no token)."""
    if not TOKEN.fullmatch(token):  # not a token we issue (and PostgreSQL refuses NUL in text)
        return None
    return session.scalar(
        select(Interaction)
        .options(joinedload(Interaction.agency), joinedload(Interaction.counter))
        .where(Interaction.token_hash == signing.token_hash(token))
    )


def is_open(interaction: Interaction, now: datetime | None = None) -> bool:
    """Whether a token can still serve a response."""
    return interaction.used_at is None and (now or utcnow()) < interaction.expires_at


def answered_with(session: Session, interaction: Interaction, submission_key: str | None) -> bool:
    """Whether a response was stored with this submission key at the interaction's agency and counter: a
    retry of the answer that used the token (no response names its interaction, so this is what is known).
    """
    if not submission_key or not SUBMISSION_KEY.match(submission_key):
        return False
    found = session.execute(
        select(Response.agency_id, Response.counter_id).where(Response.submission_key == submission_key)
    ).first()
    return found is not None and tuple(found) == (interaction.agency_id, interaction.counter_id)


def to_the_hour(moment: datetime, zone: ZoneInfo) -> datetime:
    """A moment cut to the start of its local hour: the finest time kept of an answer (or a token's use)."""
    return moment.astimezone(zone).replace(minute=0, second=0, microsecond=0).astimezone(UTC)


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


def quick_questionnaire() -> Definition | None:
    """The short questionnaire a citizen in a hurry may answer instead (QUICK_QUESTIONNAIRE), if any."""
    qid = current_app.config.get("QUICK_QUESTIONNAIRE")
    return catalog.current().get(qid) if qid else None


class InvalidSubmission(ValueError):
    """A submission its questionnaire version cannot hold: a caller let through what it should have refused."""


def problems(sub: Submission) -> list[str]:
    """What makes a submission unfit for its questionnaire version (nothing: it can be stored)."""
    d, found = sub.definition, []
    if not d.answer_values.issuperset(sub.answers.items()):  # one set operation for the usual, valid answers
        for code, value in sub.answers.items():
            item = d.item(code)
            if item is None:
                found.append(f"{code} is not an item of {d.id} v{d.version}")
            elif value not in item.scale.values:
                found.append(f"{code}: {value!r} is not a value of the {item.scale.id} scale")
    if not any(c.code in sub.answers for c in d.criteria):
        found.append(f"no criterion of {d.id} v{d.version} is answered")
    if sub.comment and d.comment is None:
        found.append(f"{d.id} v{d.version} asks no comment")
    elif sub.comment and (len(sub.comment) > d.comment_max_length or CONTROL_CHARACTERS.search(sub.comment)):
        found.append("the comment is too long or holds control characters")
    if not SUBMISSION_KEY.match(sub.submission_key or ""):
        found.append("the submission key is malformed")
    return found


_RESPONSE_COLUMNS = ("questionnaire_version_id", "agency_id", "counter_id", "service_id", "channel", "submitted_at",
                     "submission_key")  # fmt: skip
_ANSWER_COLUMNS = ("response_id", "item_code", "value", "text")

_MARK_USED = (
    update(Interaction.__table__)
    .where(Interaction.__table__.c.id == bindparam("interaction"), Interaction.__table__.c.used_at.is_(None))
    .values(used_at=bindparam("at"))
)


def store(session: Session, submissions: Sequence[Submission], totals: rollup.Totals | None = None) -> list[Outcome]:
    """Write responses: THE one way into the database (web, API, import and demo data); the caller commits.

    Each submission is checked against its questionnaire version (InvalidSubmission otherwise), then
    stored with its answers, its interaction marked used and the rollups updated, all in the caller's
    transaction. A response keeps its time to the local hour and nothing of its interaction. The database
    decides, not a read-then-write check: a submission_key seen before is a retry (DUPLICATE, by its
    unique constraint), an interaction already marked used a spent token (TOKEN_USED: the response is taken
    back). Given totals, the rollup increments of the stored responses are added to them instead, for the
    caller to write once (rollup.write) before it commits: an import of many batches.
    """
    if not submissions:
        return []
    keys = [sub.submission_key for sub in submissions]
    if len(set(keys)) < len(keys):
        raise InvalidSubmission("the same submission key twice in one call")
    for sub in submissions:
        if found := problems(sub):
            raise InvalidSubmission(f"{sub.submission_key}: {'; '.join(found)}")
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    hours = [to_the_hour(s.submitted_at, zone) for s in submissions]
    version_ids = {sub.definition.key: catalog.version_id(sub.definition) for sub in submissions}
    versions = [version_ids[sub.definition.key] for sub in submissions]
    entries = [rollup.Entry(s.definition, v, s.agency_id, s.service_id, h, s.answers)
               for s, v, h in zip(submissions, versions, hours, strict=True)]  # fmt: skip
    # Everything computed before the first write: on SQLite the write lock is held from the INSERT on.
    pending = rollup.accumulate(entries) if totals is None else None  # else summed up by the caller
    rows = [(v, s.agency_id, s.counter_id, s.service_id, s.channel, h, s.submission_key)
            for s, v, h in zip(submissions, versions, hours, strict=True)]  # fmt: skip
    table = Response.__table__
    ids = dict(db.insert_rows(session, table, _RESPONSE_COLUMNS, rows, skip_conflicts=True,
                              returning=("submission_key", "id")))  # fmt: skip
    outcomes = [Outcome.STORED if k in ids else Outcome.DUPLICATE for k in keys]
    spent = [i for i, (s, h) in enumerate(zip(submissions, hours, strict=True))
             if s.submission_key in ids and s.interaction_id is not None
             and session.execute(_MARK_USED, {"interaction": s.interaction_id, "at": h}).rowcount != 1]  # fmt: skip
    if spent:  # one response per interaction: the token served another one first
        session.execute(delete(table).where(table.c.id.in_([ids.pop(keys[i]) for i in spent])))
        for i in spent:
            outcomes[i] = Outcome.TOKEN_USED
    if len(ids) < len(submissions):
        entries = [e for e, o in zip(entries, outcomes, strict=True) if o is Outcome.STORED]
        pending = rollup.accumulate(entries) if totals is None else None
    if totals is not None:
        totals.add(entries)
    stored = [s for s in submissions if s.submission_key in ids]
    if stored:
        db.insert_rows(session, Answer.__table__, _ANSWER_COLUMNS, _answer_rows(stored, ids))
    if pending is not None:
        rollup.write(session, pending)
    return outcomes


def _answer_rows(stored: list[Submission], ids: dict[str, int]) -> Iterator[tuple]:
    for s in stored:
        response_id = ids[s.submission_key]
        for code, value in s.answers.items():
            yield response_id, code, value, None
        if s.comment:
            yield response_id, COMMENT_ITEM, None, s.comment


def record_response(session: Session, sub: Submission) -> Outcome:
    """Store one response (see store); the caller commits, or rolls back on TOKEN_USED."""
    return store(session, [sub])[0]
