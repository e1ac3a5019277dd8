"""Creating and changing reference records within an administrator's scope, each change audited.

One ``Kind`` per record type says how to find, list, fill and check its records; the views are the
same for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.domain import accounts, audit, catalog
from survey.models import Agency, Counter, Response, Service, Target, User
from survey.web.admin import forms


class RecordError(ValueError):
    """A change that cannot be made: which field, and why (shown beside the field)."""

    def __init__(self, field_name: str, message):
        self.field_name, self.message = field_name, message
        super().__init__(f"{field_name}: {message}")


@dataclass(frozen=True)
class Scope:
    """Who is acting and which agencies they manage (None: every agency)."""

    actor: str
    agencies: set[str] | None

    @property
    def is_global(self) -> bool:
        return self.agencies is None

    def allows(self, agency_code: str | None) -> bool:
        return self.agencies is None or agency_code in self.agencies


@dataclass(frozen=True)
class Kind:
    name: str  # URL segment: agencies, services, counters, targets, users
    audit_kind: str
    model: type
    form: type
    key: str  # the attribute that names a record in URLs
    columns: tuple[tuple[str, object], ...]  # (attribute, header) in the list
    global_only: bool = False  # only administrators of every agency may change these
    scope_of: Callable[[object], str | None] = field(default=lambda record: None)
    title: object = ""


def responses_per_version(session: Session, scope: Scope) -> dict[int, int]:
    """How many responses each questionnaire version holds, counted in the agencies of the scope only."""
    stmt = select(Response.questionnaire_version_id, func.count()).group_by(Response.questionnaire_version_id)
    if not scope.is_global:
        stmt = stmt.join(Agency, Agency.id == Response.agency_id).where(Agency.code.in_(sorted(scope.agencies)))
    return dict(session.execute(stmt).all())


def _agency(session: Session, code: str | None) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code)) if code else None


def load(session: Session, kind: Kind, key: str):
    return session.scalar(select(kind.model).where(getattr(kind.model, kind.key) == key))


def listing(session: Session, kind: Kind, scope: Scope) -> list:
    records = session.scalars(select(kind.model).order_by(getattr(kind.model, kind.key))).all()
    if kind.global_only or scope.is_global:
        return list(records)
    return [r for r in records if scope.allows(kind.scope_of(r))]


def may_change(kind: Kind, record, scope: Scope) -> bool:
    if kind.global_only:
        return scope.is_global
    return record is None or scope.allows(kind.scope_of(record))


def _questionnaire(data: dict) -> tuple[str | None, int | None]:
    qid = data.get("questionnaire") or None
    version = data.get("questionnaire_version")
    if qid is None and version:
        raise RecordError("questionnaire_version", _l("Choose a questionnaire to pin a version of it."))
    if qid and catalog.current().get(qid, version) is None:
        raise RecordError("questionnaire_version", _l("This questionnaire has no such version."))
    return qid, version


def _fill_agency(session: Session, record: Agency, data: dict, scope: Scope) -> None:
    parent = _agency(session, data.get("parent_code"))
    unchanged = record.id is not None and parent is record.parent  # e.g. the root of a scoped admin
    if not unchanged and parent is None and not scope.is_global:
        raise RecordError("parent_code", _l("Choose the parent agency within your agencies."))
    if not unchanged and parent is not None and not scope.allows(parent.code):
        raise RecordError("parent_code", _l("This agency is outside your agencies."))
    ancestor = parent
    while ancestor is not None:
        if ancestor is record:
            raise RecordError("parent_code", _l("An agency cannot be placed under itself."))
        ancestor = ancestor.parent
    record.parent = parent
    record.name, record.level, record.active = data["name"].strip(), (data.get("level") or "").strip(), data["active"]
    record.questionnaire, record.questionnaire_version = _questionnaire(data)


def _fill_service(session: Session, record: Service, data: dict, scope: Scope) -> None:
    record.name, record.field = data["name"].strip(), (data.get("field") or "").strip()
    record.processing_days, record.active = data.get("processing_days"), data["active"]


def _fill_counter(session: Session, record: Counter, data: dict, scope: Scope) -> None:
    agency = _agency(session, data.get("agency_code"))
    if agency is None or not scope.allows(agency.code):
        raise RecordError("agency_code", _l("Choose an agency within your agencies."))
    record.agency, record.name, record.active = agency, data["name"].strip(), data["active"]
    record.questionnaire, record.questionnaire_version = _questionnaire(data)


def _fill_target(session: Session, record: Target, data: dict, scope: Scope) -> None:
    for name in ("metric", "period_start", "period_end", "active"):
        setattr(record, name, data.get(name))
    record.value = float(data["value"]) if isinstance(data["value"], Decimal) else data["value"]
    record.description, record.source = (data.get("description") or "").strip(), data["source"].strip()


def _fill_user(session: Session, record: User, data: dict, scope: Scope) -> None:
    agency = _agency(session, data.get("agency_code"))
    if agency is None and not scope.is_global:
        raise RecordError("agency_code", _l("Choose an agency within your agencies."))
    if agency is not None and not scope.allows(agency.code):
        raise RecordError("agency_code", _l("This agency is outside your agencies."))
    if data["role"] == "officer" and agency is None:
        raise RecordError("agency_code", _l("An officer belongs to an agency."))
    if record.id is None and not data.get("password"):
        raise RecordError("password", _l("A new user needs a password."))
    if data.get("password") and record.id is None:
        accounts.set_password(record, data["password"])
    elif data.get("password"):
        accounts.change_password(session, record, data["password"], scope.actor)
    accounts.update_account(record, data["role"], agency, data["active"])


FILL = {
    "agencies": _fill_agency,
    "services": _fill_service,
    "counters": _fill_counter,
    "targets": _fill_target,
    "users": _fill_user,
}


def save(session: Session, kind: Kind, record, data: dict, scope: Scope):
    """Create (record None) or change a record from validated form data; audited; the caller commits."""
    creating = record is None
    before = None if creating else audit.snapshot(kind.audit_kind, record)
    if creating:
        key = data[kind.key].strip().lower() if kind.key == "email" else data[kind.key].strip()
        if load(session, kind, key) is not None:
            raise RecordError(kind.key, _l("This code is already used."))
        record = kind.model(**{kind.key: key})
    if not may_change(kind, record if not creating else None, scope) or (kind.global_only and not scope.is_global):
        raise RecordError(kind.key, _l("You cannot change this record."))
    FILL[kind.name](session, record, data, scope)
    if creating:
        session.add(record)
    session.flush()
    after = audit.snapshot(kind.audit_kind, record)
    if before != after:
        audit.record(
            session,
            scope.actor,
            "create" if creating else "update",
            kind.audit_kind,
            str(getattr(record, kind.key)),
            before,
            after,
        )
    return record


def deactivate(session: Session, kind: Kind, record, scope: Scope) -> None:
    """Switch a record off (records are never deleted: responses refer to them); audited."""
    _switch(session, kind, record, scope, False)


def reactivate(session: Session, kind: Kind, record, scope: Scope) -> None:
    """Switch a record back on (the undo of ``deactivate``); audited."""
    _switch(session, kind, record, scope, True)


def _switch(session: Session, kind: Kind, record, scope: Scope, active: bool) -> None:
    if not may_change(kind, record, scope):
        raise RecordError(kind.key, _l("You cannot change this record."))
    if record.active is active:
        return  # already so: nothing changes, nothing to log
    before = audit.snapshot(kind.audit_kind, record)
    if isinstance(record, User):
        accounts.update_account(record, record.role, record.agency, active)  # its sessions end either way
    else:
        record.active = active
    audit.record(
        session,
        scope.actor,
        "reactivate" if active else "deactivate",
        kind.audit_kind,
        str(getattr(record, kind.key)),
        before,
        audit.snapshot(kind.audit_kind, record),
    )


# What stops working when a record of each kind is switched off, shown before it is.
CONSEQUENCES = {
    "counters": _l(
        "Its QR posters and links stop answering (citizens who scan them see “page not found”), its counter "
        "screen closes and the API refuses new transactions for it."
    ),
    "agencies": _l(
        "The agency is shown as inactive in the lists. Its counters keep their own state: deactivate them too "
        "if their posters must stop answering."
    ),
    "services": _l("The service is shown as inactive in the reference lists."),
    "targets": _l("The dashboard and the report pack no longer compare the figures with this target."),
    "users": _l("The account can no longer log in, and its open sessions end at once."),
}


KINDS = {
    k.name: k
    for k in (
        Kind(
            "agencies",
            "agency",
            Agency,
            forms.AgencyForm,
            "code",
            (
                ("code", _l("Code")),
                ("name", _l("Name")),
                ("level", _l("Level")),
                ("parent", _l("Parent agency")),
                ("questionnaire", _l("Questionnaire")),
                ("active", _l("Active")),
            ),
            scope_of=lambda r: r.code,
            title=_l("Agencies"),
        ),
        Kind(
            "services",
            "service",
            Service,
            forms.ServiceForm,
            "code",
            (
                ("code", _l("Code")),
                ("name", _l("Name")),
                ("field", _l("Field")),
                ("processing_days", _l("Days")),
                ("active", _l("Active")),
            ),
            global_only=True,
            title=_l("Services"),
        ),
        Kind(
            "counters",
            "counter",
            Counter,
            forms.CounterForm,
            "code",
            (
                ("code", _l("Code")),
                ("name", _l("Name")),
                ("agency", _l("Agency")),
                ("questionnaire", _l("Questionnaire")),
                ("active", _l("Active")),
            ),
            scope_of=lambda r: r.agency.code,
            title=_l("Counters"),
        ),
        Kind(
            "targets",
            "target",
            Target,
            forms.TargetForm,
            "code",
            (
                ("code", _l("Code")),
                ("value", _l("Value (%)")),
                ("period_start", _l("From")),
                ("period_end", _l("Until")),
                ("source", _l("Source document")),
                ("active", _l("Active")),
            ),
            global_only=True,
            title=_l("Targets"),
        ),
        Kind(
            "users",
            "user",
            User,
            forms.UserForm,
            "email",
            (("email", _l("E-mail")), ("role", _l("Role")), ("agency", _l("Agency")), ("active", _l("Active"))),
            scope_of=lambda r: r.agency.code if r.agency else None,
            title=_l("Users"),
        ),
    )
}
