"""The wide file layout of responses, shared by imports and exports: one row per response, one column per item.

An export re-imports cleanly: both sides use these columns, in this order, with the item columns
between ``channel`` and ``comment``. ``RowChecker`` says whether a row of the layout can be stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires import Definition, Item, Scale
from survey.domain import catalog
from survey.domain.reference import RowError
from survey.domain.responses import CONTROL_CHARACTERS, SUBMISSION_KEY, Submission
from survey.models import Agency, Counter, Service, utcnow

LEADING = ("submitted_at", "agency_code", "service_code", "counter_code", "questionnaire", "version", "channel")
COMMENT = "comment"
# The response's own key, carried by exports: a file imported twice, or an export imported back, adds nothing.
KEY = "submission_key"
FORMATS = ("csv", "xlsx", "parquet")  # the files an export writes (survey.transfer.exports.SINKS)
REQUIRED = ("submitted_at", "agency_code", "questionnaire", "version")
DEFAULT_CHANNEL = "paper"
CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
WHOLE = re.compile(r"^-?[0-9]+$")
MAX_REPORTED = 200  # a file of a million bad rows must not hold a million messages in memory
TIME_EXAMPLE = "e.g. 2026-01-31T23:30 (Hà Nội time) or 2026-01-31T16:30:00+00:00"


def local_zone() -> ZoneInfo:
    """The time zone of naive timestamps and of reporting months."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def item_columns(definitions: Iterable[Definition]) -> list[str]:
    """The union of the definitions' item codes, each definition's in form order, definitions by (id, version)."""
    codes: dict[str, None] = {}
    for definition in sorted(definitions, key=lambda d: d.key):
        codes.update(dict.fromkeys(item.code for item in definition.items))
    return list(codes)


def columns(items: Iterable[str]) -> list[str]:
    """Every column of a file holding these item columns."""
    return [*LEADING, *items, COMMENT, KEY]


def submission_key(digest: str, line: int) -> str:
    """The key of a file's row: the same file imported again gives the same keys, so nothing twice."""
    return "imp-" + hashlib.sha256(f"{digest}:{line}".encode()).hexdigest()[:40]


class Problems:
    """The bad rows found so far: every one counted, the first MAX_REPORTED kept."""

    def __init__(self) -> None:
        self.shown: list[RowError] = []
        self.total = 0

    def add(self, line: int, column: str, reason: str) -> None:
        self.total += 1
        if len(self.shown) < MAX_REPORTED:
            self.shown.append(RowError(line, column, reason))


def describe_scale(scale: Scale) -> str:
    """A scale's values as a reader expects them: 1–5, or 0, 2, 4 when not consecutive."""
    values = sorted(scale.values)
    if values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}–{values[-1]}"
    return ", ".join(map(str, values))


class RowChecker:
    """Turns the cells of a row into a Submission, or reports on Problems why it cannot be stored.

    Built once per file: the header's columns become positions, and each questionnaire version's items
    a plan over the item columns, so that a row costs dictionary lookups. A value's reading on its scale
    (``scale_value``, the one rule) is remembered per scale for the few texts a column holds.
    """

    def __init__(self, session: Session, digest: str):
        self.agencies = dict(session.execute(select(Agency.code, Agency.id)).all())
        self.agency_codes = {agency_id: code for code, agency_id in self.agencies.items()}
        self.services = dict(session.execute(select(Service.code, Service.id)).all())
        self.counters = {c: (i, a) for c, i, a in session.execute(select(Counter.code, Counter.id, Counter.agency_id))}
        self.catalog = catalog.current()
        self.item_codes = {item.code for d in self.catalog for item in d.items}
        self.items: list[tuple[str, int]] = []
        self.position: dict[str, int] = {}
        self.width = 0
        self.zone, self.now, self.digest = local_zone(), utcnow(), digest
        self._definitions: dict[tuple[str, str], Definition] = {}  # (questionnaire, version) as written
        self._plans: dict[tuple[str, int], _Plan] = {}

    def use_columns(self, names: list[str]) -> None:
        """Read the item columns that the header names, in its order; a column it lacks reads as blank."""
        self.items = [(n, i) for i, n in enumerate(names) if n in self.item_codes]
        self.width = len(names)
        self.position = {n: i for i, n in enumerate(names)}
        for name in (*LEADING, COMMENT, KEY):
            self.position.setdefault(name, self.width)  # the blank cell padded after the last column

    def cells(self, cells: list[str]) -> list[str]:
        """A row's cells padded to the header's width, and the blank cell of absent columns after them."""
        return cells + [""] * (self.width + 1 - len(cells))

    def check(self, line: int, cells: list[str], problems: Problems) -> Submission | None:
        """The row (padded by ``cells``) as a Submission, or None when anything is wrong with it (each reported)."""
        before, at = problems.total, self.position

        def fail(column: str, reason: str) -> None:
            problems.add(line, column, reason)

        moment = self._moment(cells[at["submitted_at"]], fail)
        agency_id, service_id, counter_id = self._places(
            cells[at["agency_code"]], cells[at["service_code"]], cells[at["counter_code"]], fail
        )
        definition = self._definition(cells[at["questionnaire"]], cells[at["version"]], fail)
        channel = cells[at["channel"]] or DEFAULT_CHANNEL
        if not CHANNEL.match(channel):
            fail("channel", f"{channel!r} is not a short lowercase word (a-z, digits and _, at most 32)")
        answers = self._answers(cells, definition, fail) if definition else {}
        comment = self._comment(cells[at[COMMENT]], definition, fail) if definition else None
        key = cells[at[KEY]].removeprefix("'") or submission_key(self.digest, line)  # exports write '-… for '-…
        if not SUBMISSION_KEY.match(key):
            fail(KEY, f"{key!r} is not a submission key (16 to 64 letters, digits, - and _); leave it blank")
        if problems.total > before:
            return None
        return Submission(definition, agency_id, channel, key, answers, comment, counter_id, service_id,
                          submitted_at=moment)  # fmt: skip

    def _moment(self, text: str, fail) -> datetime | None:
        if not text:
            fail("submitted_at", "is empty")
            return None
        try:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:  # a paper form's date and time were written in local time
                moment = moment.replace(tzinfo=self.zone)
            moment = moment.astimezone(UTC)
        except (ValueError, OverflowError):
            fail("submitted_at", f"{text!r} is not an ISO 8601 date and time ({TIME_EXAMPLE})")
            return None
        if moment > self.now:
            fail("submitted_at", f"{text} is in the future")
        return moment

    def _places(self, agency: str, service: str, counter: str, fail) -> tuple[int | None, int | None, int | None]:
        agency_id = self.agencies.get(agency)
        if not agency:
            fail("agency_code", "is empty")
        elif agency_id is None:
            fail("agency_code", f"no agency {agency!r} in the database")
        service_id = self.services.get(service) if service else None
        if service and service_id is None:
            fail("service_code", f"no service {service!r} in the database")
        counter_id, owner = self.counters.get(counter, (None, None)) if counter else (None, None)
        if counter and counter_id is None:
            fail("counter_code", f"no counter {counter!r} in the database")
        elif counter and agency_id is not None and owner != agency_id:
            fail("counter_code", f"counter {counter!r} belongs to agency {self.agency_codes[owner]!r}, not {agency!r}")
        return agency_id, service_id, counter_id

    def _definition(self, questionnaire: str, version: str, fail) -> Definition | None:
        if (found := self._definitions.get((questionnaire, version))) is not None:
            return found
        if not questionnaire:
            fail("questionnaire", "is empty")
        elif self.catalog.get(questionnaire) is None:
            fail("questionnaire", f"unknown questionnaire {questionnaire!r} ({', '.join(self.catalog.ids())})")
        elif not WHOLE.match(version):
            fail("version", f"{version!r} is not a version number" if version else "is empty")
        elif (definition := self.catalog.get(questionnaire, int(version))) is None:
            known = ", ".join(str(d.version) for d in self.catalog if d.id == questionnaire)
            fail("version", f"{questionnaire} has no version {version} (versions: {known})")
        else:
            self._definitions[(questionnaire, version)] = definition
            return definition
        return None

    def _plan(self, definition: Definition) -> _Plan:
        if (plan := self._plans.get(definition.key)) is None:
            readings: dict[str, dict] = {}
            columns = [(code, i, item, readings.setdefault(item.scale.id, {}) if item else {})
                       for code, i in self.items for item in [definition.item(code)]]  # fmt: skip
            plan = _Plan(
                columns=[(code, item, found) for code, _, item, found in columns],
                cells=_cells([i for _, i, _, _ in columns]),
                own=[(code, found) for code, _, item, found in columns if item],
                own_cells=_cells([i for _, i, item, _ in columns if item]),
                foreign_cells=_cells([i for _, i, item, _ in columns if item is None]),
                criteria=frozenset(c.code for c in definition.criteria),
            )
            self._plans[definition.key] = plan
        return plan

    def _answers(self, cells: list[str], definition: Definition, fail) -> dict[str, int]:
        plan = self._plan(definition)
        if (answers := _plain_answers(plan, cells)) is not None:
            return answers
        answers, bad = {}, False
        for (code, item, readings), text in zip(plan.columns, plan.cells(cells), strict=True):
            if not text:
                continue
            if item is None:
                fail(code, f"not an item of {definition.id} v{definition.version}; leave it blank")
                bad = True
                continue
            value = readings.get(text, _UNREAD)
            if value is _UNREAD:
                value = scale_value(item.scale, text)
                if len(readings) < MAX_READINGS:  # a column of a million different texts is not remembered
                    readings[text] = value
            if value is None:
                fail(code, f"{text} is not a value of the {item.scale.id} scale ({describe_scale(item.scale)})")
                bad = True
            else:
                answers[code] = value
        if not bad and plan.criteria.isdisjoint(answers):
            fail("answers", f"no criterion of {definition.id} v{definition.version} is answered; one at least")
        return answers

    def _comment(self, text: str, definition: Definition, fail) -> str | None:
        if not text:
            return None
        if definition.comment is None:
            fail(COMMENT, f"{definition.id} v{definition.version} asks no comment; leave it blank")
        elif len(text) > definition.comment_max_length:
            fail(COMMENT, f"longer than {definition.comment_max_length} characters")
        elif CONTROL_CHARACTERS.search(text):
            fail(COMMENT, "contains control characters")
        return text


_UNREAD = object()
MAX_READINGS = 64  # remembered texts per scale and file


class _Plan(NamedTuple):
    """A questionnaire version's view of a file's item columns."""

    columns: list[tuple[str, Item | None, dict]]  # each item column: code, the version's item (or None), readings
    cells: Callable[[list[str]], tuple[str, ...]]  # a row's item cells, in the same order
    own: list[tuple[str, dict]]  # the columns of the version's items: code, readings of its scale so far
    own_cells: Callable[[list[str]], tuple[str, ...]]
    foreign_cells: Callable[[list[str]], tuple[str, ...]]  # the columns of other versions' items
    criteria: frozenset[str]


def _cells(positions: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """The cells at these positions of a row, as a tuple (itemgetter gives a bare value for one position)."""
    if len(positions) > 1:
        return itemgetter(*positions)
    return lambda cells: tuple(cells[i] for i in positions)


def _plain_answers(plan: _Plan, cells: list[str]) -> dict[str, int] | None:
    """A row's answers when each is a value read before and valid, other versions' columns blank and a
    criterion answered (most rows, in one pass); None when the whole check must judge the row."""
    if any(plan.foreign_cells(cells)):
        return None
    answers = {}
    for (code, readings), text in zip(plan.own, plan.own_cells(cells), strict=True):
        if text:
            if (value := readings.get(text)) is None:
                return None
            answers[code] = value
    return None if plan.criteria.isdisjoint(answers) else answers


def scale_value(scale: Scale, text: str) -> int | None:
    """A cell's value on a scale: a whole number among its values, else None."""
    return int(text) if WHOLE.match(text) and int(text) in scale.values else None
