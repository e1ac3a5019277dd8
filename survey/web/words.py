"""The words staff pages show for stored codes: roles, record states, audit actions, kinds and fields.

One wording per code, here only; templates use the filters ``role_name``, ``state_name``,
``action_name``, ``kind_name``, ``field_name`` and ``actor_name``. An unknown code is shown as it is.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

ROLES = {
    "admin": _l("administrator"),
    "analyst": _l("analyst"),
    "official": _l("leader"),
    "officer": _l("counter officer"),
}

STATES = {True: _l("active"), False: _l("inactive")}

# Past tense, to read "<who> <did> <a kind of record> <key>".
ACTIONS = {
    "create": _l("created"),
    "update": _l("changed"),
    "deactivate": _l("deactivated"),
    "reactivate": _l("reactivated"),
    "revoke": _l("revoked"),
    "password": _l("set a new password for"),
    "import": _l("imported"),
    "restore": _l("restored"),
    "rebuild": _l("rebuilt"),
}

KINDS = {
    "agency": _l("agency"),
    "service": _l("service"),
    "counter": _l("counter"),
    "target": _l("target"),
    "user": _l("account"),
    "api_key": _l("API key"),
    "reference:agencies": _l("agencies from the file"),
    "reference:services": _l("services from the file"),
    "reference:counters": _l("counters from the file"),
    "responses": _l("responses from the file"),
    "database": _l("the database from the backup"),
    "rollups": _l("the figures of every month"),
}

FIELDS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "level": _l("Level"),
    "parent_code": _l("Parent agency"),
    "agency_code": _l("Agency"),
    "questionnaire": _l("Questionnaire"),
    "questionnaire_version": _l("Questionnaire version"),
    "active": _l("Active"),
    "field": _l("Field"),
    "processing_days": _l("Days"),
    "value": _l("Value (%)"),
    "metric": _l("Metric"),
    "description": _l("Description"),
    "period_start": _l("From"),
    "period_end": _l("Until"),
    "source": _l("Source document"),
    "email": _l("E-mail"),
    "role": _l("Role"),
    "prefix": _l("Prefix"),
    "revoked_at": _l("Revoked at"),
    "responses": _l("Responses"),
}


def role_name(code: str) -> str:
    return str(ROLES.get(code, code))


def state_name(active: bool) -> str:
    return str(STATES.get(bool(active)))


def action_name(code: str) -> str:
    return str(ACTIONS.get(code, code))


def kind_name(code: str) -> str:
    return str(KINDS.get(code, code))


def field_name(code: str) -> str:
    return str(FIELDS.get(code, code))


def actor_name(actor: str) -> str:
    """A person's e-mail as it is; a command-line user as "command line (user)"."""
    if actor.startswith("cli:"):
        return str(_l("command line (%(user)s)", user=actor.removeprefix("cli:")))
    return actor


def init_app(app: Flask) -> None:
    for function in (role_name, state_name, action_name, kind_name, field_name, actor_name):
        app.add_template_filter(function)
