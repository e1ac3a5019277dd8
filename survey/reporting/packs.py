"""Report packs built off the request: one job per selection, format and figures' snapshot, run by the queue.

``start`` finds or creates the job of what is asked for (a unique key decides under races, so eight
officials asking for the same pack in the same language get one job) and puts it on the task queue
(survey.queue) once the caller commits. ``build`` is the task: it reads the shared month snapshot, draws
the pack with its progress written as it goes, and stores the file together with the state "done" (or the
state "failed" with the reason): never half a result. Finished jobs are kept PACK_KEEP_SECONDS.

A pack is written in the language of the official who asked: Vietnamese in the house style of
``analysis`` (the same document as the CLI's), another language through the Wording the dashboard
registers as ``app.extensions[WORDING]`` (this package does not import the web).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.orm import Session

from analysis.wording import using
from survey import db, queue
from survey.models import ReportJob, utcnow

if TYPE_CHECKING:
    from survey.reporting.insights import Selection

log = logging.getLogger(__name__)
TASK = "build_report_pack"
MEDIA_TYPES = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LIVE = ("queued", "running")
_PENDING = "report_packs_to_enqueue"  # session.info: jobs to put on the queue once the session commits
LOCALES = ("vi", "en")  # the languages a pack is written in; Vietnamese for anything else
WORDING = "report_pack_wording"  # app.extensions: makes the analysis Wording of the current Babel locale


def pack_locale(locale: str | None) -> str:
    """The language a pack is written in for a requested locale (Vietnamese unless it is one of LOCALES)."""
    language = str(locale or "vi").split("_")[0].split("-")[0].lower()
    return language if language in LOCALES else "vi"


@contextmanager
def in_language(locale: str) -> Iterator[None]:
    """Draw a pack in this language: Vietnamese in analysis' house style, others with the registered Wording."""
    with force_locale(locale):
        make = current_app.extensions.get(WORDING) if locale != "vi" else None
        with using(make() if make else None):
            yield


def job_key(sel: Selection, fmt: str, version: str, locale: str = "vi") -> str:
    """What names a pack: its selection, format, language and the snapshot of the figures it is drawn from."""
    identity = (sel.month, sel.questionnaire, sel.agency, fmt, version, locale)
    return hashlib.sha256(repr(identity).encode()).hexdigest()


def _key_now(session: Session, sel: Selection, fmt: str, locale: str) -> str:
    from survey.reporting import insights, snapshot

    return job_key(sel, fmt, snapshot.version(insights.shared_heads(session, sel)), locale)


def current(session: Session, sel: Selection, fmt: str, locale: str = "vi") -> ReportJob | None:
    """The job of the pack asked for, as the figures stand now, if one was started."""
    key = _key_now(session, sel, fmt, pack_locale(locale))
    return session.scalar(select(ReportJob).where(ReportJob.key == key))


def start(session: Session, sel: Selection, fmt: str, user_id: int | None, locale: str = "vi") -> ReportJob:
    """The job building the pack: the one already made for it, or a new one (queued once the caller commits).

    A failed job, or one silent for PACK_STALE_SECONDS (its worker died), is queued again.
    """
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"unknown pack format {fmt!r}")
    locale = pack_locale(locale)
    key = _key_now(session, sel, fmt, locale)
    now = utcnow()
    prune(session, now)
    row = {
        "key": key,
        "format": fmt,
        "locale": locale,
        "selection": json.dumps({"month": sel.month, "questionnaire": sel.questionnaire, "agency": sel.agency}),
        "state": "queued",
        "progress": 0,
        "requested_by": user_id,
        "created_at": now,
        "updated_at": now,
    }
    insert = db.insert_ignoring_conflicts(ReportJob.__table__, session.get_bind().dialect.name)
    created = session.execute(insert.values(row).returning(ReportJob.id)).scalar()
    job_id = created or session.scalar(select(ReportJob.id).where(ReportJob.key == key))
    if created is None and not _requeued(session, job_id, now):
        return session.get(ReportJob, job_id)
    _enqueue_after_commit(session, job_id)
    job = session.get(ReportJob, job_id)
    session.refresh(job)
    return job


def _requeued(session: Session, job_id: int, now: datetime) -> bool:
    """Queue a failed or abandoned job again; whether this call did (one caller wins under races)."""
    stale = now - timedelta(seconds=current_app.config["PACK_STALE_SECONDS"])
    again = or_(ReportJob.state == "failed", ReportJob.state.in_(LIVE) & (ReportJob.updated_at < stale))
    stmt = (
        update(ReportJob)
        .where(ReportJob.id == job_id, again)
        .values(state="queued", progress=0, error=None, result=None, updated_at=now)
    )
    return session.execute(stmt).rowcount == 1


def prune(session: Session, now: datetime | None = None) -> None:
    """Drop finished jobs (and their files) older than PACK_KEEP_SECONDS."""
    before = (now or utcnow()) - timedelta(seconds=current_app.config["PACK_KEEP_SECONDS"])
    session.execute(delete(ReportJob).where(ReportJob.state.in_(("done", "failed")), ReportJob.updated_at < before))


def _enqueue_after_commit(session: Session, job_id: int) -> None:
    session.info.setdefault(_PENDING, []).append(job_id)
    if not event.contains(session, "after_commit", _enqueue_pending):
        event.listen(session, "after_commit", _enqueue_pending)
        event.listen(session, "after_rollback", _forget_pending)


def _enqueue_pending(session: Session) -> None:
    for job_id in session.info.pop(_PENDING, []):
        queue.enqueue(TASK, job_id)


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def selection_of(job: ReportJob) -> dict:
    """The job's selection as request arguments (agency ALL for every agency)."""
    data = json.loads(job.selection)
    return {**data, "agency": data["agency"] or "ALL"}


def file_name(job: ReportJob) -> str:
    data = json.loads(job.selection)
    return f"bao-cao-khao-sat-tai-quay-{data['agency'] or 'ALL'}-{data['questionnaire']}-{data['month']}.{job.format}"


# --- the task -------------------------------------------------------------------------------------------


def build(job_id: int) -> None:
    """Build a queued job's pack (the queue's task): running, progress, then done with the file, or failed."""
    session = db.session()
    claimed = session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.state == "queued")
        .values(state="running", progress=1, updated_at=utcnow())
    )
    session.commit()
    if claimed.rowcount != 1:
        return  # taken by another worker, already built, or pruned
    job = session.get(ReportJob, job_id)
    try:
        body, taken_at = _draw(session, job, lambda percent: _record(session, job_id, progress=percent))
    except Exception as exc:  # recorded for the official; the details go to the log
        session.rollback()
        log.exception("report pack %s failed", job_id)
        _record(session, job_id, state="failed", error=f"{type(exc).__name__}: {exc}"[:1000])
        return
    _record(session, job_id, state="done", progress=100, result=body, figures_at=taken_at)


def _record(session: Session, job_id: int, **values) -> None:
    """Write the running job's state in its own short transaction, so that status pages see it at once."""
    stmt = update(ReportJob).where(ReportJob.id == job_id, ReportJob.state == "running")
    session.execute(stmt.values(**values, updated_at=utcnow()))
    session.commit()


def _draw(session: Session, job: ReportJob, progress) -> tuple[bytes, datetime]:
    """The pack's bytes, drawn from the shared month snapshot, and when its figures were taken."""
    from survey.reporting import insights

    data = json.loads(job.selection)
    sel = insights.Selection(data["month"], data["questionnaire"], data["agency"])
    figures = insights.shared_figures(session, sel, whole=True)
    session.commit()  # the snapshot read ends its transaction: progress is written in others
    progress(20)
    locale = pack_locale(job.locale)
    with force_locale(locale):
        note = _("Figures as of %(time)s", time=as_of_text(figures["taken_at"], current_app.config["TIMEZONE"]))

    written = [20]

    def pages(done: int, total: int) -> None:
        percent = 20 + 75 * done // max(total, 1)
        if percent >= written[0] + 5:  # a write every few pages, not every page
            written[0] = percent
            progress(percent)

    with in_language(locale):
        body = insights.report_pack(session, sel, job.format, figures, as_of=note, progress=pages, locale=locale)
    return body, figures["taken_at"] or datetime.now(UTC)


def as_of_text(taken_at: datetime | None, timezone: str) -> str:
    """When figures were taken, in the office's time zone, with the day: 14:32 04/12/2026."""
    return taken_at.astimezone(ZoneInfo(timezone)).strftime("%H:%M %d/%m/%Y") if taken_at else ""
