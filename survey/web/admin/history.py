"""The audit log in words: who did what to which record, and which fields changed from what to what."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from survey.models import AuditEntry
from survey.web import words


@dataclass(frozen=True)
class Described:
    entry: AuditEntry
    sentence: str
    changes: list[tuple[str, object, object]]  # (field label, before, after); before is None when created


def _values(side: str | None) -> dict:
    return json.loads(side) if side else {}


def _shown(value) -> object:
    """A logged value as a reader sees it: state words for booleans, a dash for nothing."""
    if isinstance(value, bool):
        return words.state_name(value)
    return "–" if value is None or value == "" else value


def describe(entry: AuditEntry) -> Described:
    """One entry in words."""
    key = "" if entry.kind == "rollups" else entry.key  # a rebuild is of every month, not of a record
    sentence = str(
        _l(
            "%(actor)s %(action)s %(kind)s %(key)s",
            actor=words.actor_name(entry.actor),
            action=words.action_name(entry.action),
            kind=words.kind_name(entry.kind),
            key=key,
        )
    ).strip()
    before, after = _values(entry.before), _values(entry.after)
    names = list(after) + [name for name in before if name not in after]
    changes = [
        (words.field_name(name), _shown(before[name]) if entry.before else None, _shown(after.get(name)))
        for name in names
        if not entry.before or before.get(name) != after.get(name)
    ]
    return Described(entry, sentence, changes)


def described(entries: list[AuditEntry]) -> list[Described]:
    return [describe(e) for e in entries]
