"""The audit log: who changed what, when, with the values before and after. Append-only."""

from __future__ import annotations

import csv
import getpass
import io
import json
from datetime import date, datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from analysis.cells import safe_cell
from survey.models import AuditEntry

# What the log keeps of each kind of record (never a password hash or an API key hash).
FIELDS = {
    "agency": ("code", "name", "level", "parent_code", "questionnaire", "questionnaire_version", "active"),
    "service": ("code", "name", "field", "processing_days", "active"),
    "counter": ("code", "agency_code", "name", "questionnaire", "questionnaire_version", "active"),
    "target": ("code", "value", "metric", "description", "period_start", "period_end", "source", "active"),
    "user": ("email", "role", "agency_code", "active"),
    "api_key": ("name", "prefix", "agency_code", "revoked_at"),
}


def cli_actor() -> str:
    """The actor of a change made from the command line: ``cli:<operating system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in the environment nor in the password database
        return "cli:unknown"


def snapshot(kind: str, record) -> dict:
    """The logged fields of a record, as JSON-friendly values."""
    values = {}
    for name in FIELDS[kind]:
        if name.endswith("_code") and name != "code":
            related = getattr(record, name.removesuffix("_code"), None)
            values[name] = related.code if related is not None else None
        else:
            value = getattr(record, name, None)
            values[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return values


def record(
    session: Session, actor: str, action: str, kind: str, key: str, before: dict | None, after: dict | None
) -> AuditEntry:
    """Add an entry to the log (the caller's transaction commits it with the change itself)."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        kind=kind,
        key=key,
        before=json.dumps(before, ensure_ascii=False, sort_keys=True) if before is not None else None,
        after=json.dumps(after, ensure_ascii=False, sort_keys=True) if after is not None else None,
    )
    session.add(entry)
    return entry


def concerns(entry: AuditEntry, agencies: set[str]) -> bool:
    """Whether an entry is about a record of one of these agencies."""
    for side in (entry.before, entry.after):
        values = json.loads(side) if side else {}
        codes = {values.get("agency_code"), values.get("parent_code")}
        if entry.kind == "agency":
            codes.add(values.get("code"))
        if codes & agencies:
            return True
    return False


def entries(
    session: Session, kind: str | None = None, limit: int | None = 500, scope: set[str] | None = None
) -> list[AuditEntry]:
    """The newest entries first; with a scope, only those about its agencies."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if kind:
        stmt = stmt.where(AuditEntry.kind == kind)
    found = session.scalars(stmt if scope is not None else stmt.limit(limit))
    if scope is None:
        return list(found)
    return [e for e in found if concerns(e, scope)][:limit]


def export_csv(session: Session, kind: str | None = None, scope: set[str] | None = None) -> bytes:
    """The whole log as CSV (UTF-8 with BOM), formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "actor", "action", "kind", "key", "before", "after"])
    for e in entries(session, kind, limit=None, scope=scope):
        writer.writerow(
            [
                safe_cell(v)
                for v in (e.id, e.at.isoformat(), e.actor, e.action, e.kind, e.key, e.before or "", e.after or "")
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(_mapper, _connection, target) -> None:
    raise PermissionError(f"audit entry {target.id} cannot be changed or deleted")
