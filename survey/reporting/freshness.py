"""When the month's figures must be taken again: the epoch that admin changes bump, and the watcher's pulse.

Light on purpose (no pandas): create_app binds it, and every command starts with it.
survey.reporting.snapshot builds and reads the figures themselves.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from survey.models import Agency, QuestionnaireVersion, Service, Target
from survey.reporting import store

CHANGES = (Agency, Service, Target, QuestionnaireVersion)  # what every month's figures are drawn with


def key(*parts: str) -> str:
    return "fig:" + ":".join(parts)


EPOCH = key("epoch")
HEARTBEAT = key("heartbeat")  # written by the background worker's checks
CHECKED = key("checked")  # written by every check, the background worker's or a request's


def epoch() -> str:
    raw = store.current().get(EPOCH)
    return raw.decode() if raw else "0"


def changed() -> None:
    """Say that the figures of every month may differ (agencies, services, targets, an import): rebuilt at
    the next check, whatever their age."""
    store.current().put(EPOCH, secrets.token_hex(6).encode())


def recent(raw: bytes | None, seconds: float) -> bool:
    """Whether a stored time (ISO text) lies within the last seconds."""
    if raw is None:
        return False
    return (datetime.now(UTC) - datetime.fromisoformat(raw.decode())).total_seconds() < seconds


def check_due(stored: dict[str, bytes]) -> bool:
    """Whether a request must look for changed months itself (stored: HEARTBEAT and CHECKED as read):
    always with FIGURES_MAX_AGE = 0; else only when no background worker has checked within a few of
    its intervals and nobody has checked within one."""
    config = current_app.config
    if config["FIGURES_MAX_AGE"] == 0:
        return True
    interval = config["FIGURES_CHECK_SECONDS"]
    return not recent(stored.get(HEARTBEAT), 3 * interval) and not recent(stored.get(CHECKED), interval)


def _noted(session: Session, _context) -> None:
    if any(isinstance(o, CHANGES) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["figures_changed"] = True


def _committed(session: Session) -> None:
    if session.info.pop("figures_changed", False):
        try:
            changed()
        except RuntimeError:  # outside an app context: a script working on the database directly
            pass


def _rolled_back(session: Session) -> None:
    session.info.pop("figures_changed", None)


def init_app(app: Flask) -> None:
    """A commit that changed agencies, services, targets or questionnaire versions bumps the epoch."""
    for name, listener in (("after_flush", _noted), ("after_commit", _committed), ("after_rollback", _rolled_back)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
