"""The monthly report pack: asked for on a page, prepared by the task queue, followed, then downloaded.

"Prepare" is a plain POST. While the job runs, the status page follows it with its own small script
(static/pack.js asks the job's state every few seconds, then reloads the page once the job has ended);
without the script a link looks again. No page reloads itself (no meta refresh: a WCAG timing failure).
A job is shown only to users who may see its selection's agency (404 for others). The pack is written in
the language the official reads the dashboard in.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from survey import db
from survey.models import ReportJob
from survey.reporting import packs
from survey.web.access import roles_required
from survey.web.dashboard.scope import VIEWERS, selection_or_404
from survey.web.forms import ActionForm

bp = Blueprint("packs", __name__, url_prefix="/report")
POLL_SECONDS = 2  # how often the status page's script asks for the job's state


def _pack_selection(month: str, fmt: str, args):
    if fmt not in packs.MEDIA_TYPES:
        abort(404)
    return selection_or_404({**args.to_dict(), "month": month})


def _job(job_id: int) -> ReportJob:
    """The job, if the user may see its agency (404 otherwise: nothing to learn)."""
    job = db.session().get(ReportJob, job_id)
    if job is None:
        abort(404)
    selection_or_404(packs.selection_of(job))
    return job


@bp.get("/<month>.<fmt>")
@roles_required(*VIEWERS)
def page(month: str, fmt: str):
    sel = _pack_selection(month, fmt, request.args)
    job = packs.current(db.session(), sel, fmt, str(get_locale()))
    return render_template("dashboard/pack.html", sel=sel, fmt=fmt, job=job, form=ActionForm())


@bp.post("/<month>.<fmt>")
@roles_required(*VIEWERS)
def prepare(month: str, fmt: str):
    sel = _pack_selection(month, fmt, request.args)
    if not ActionForm().validate():
        abort(400)
    session = db.session()
    job = packs.start(session, sel, fmt, current_user.id, str(get_locale()))
    session.commit()  # then the job is put on the queue (survey.reporting.packs)
    return redirect(url_for(".status", job_id=job.id), 303)


@bp.get("/jobs/<int:job_id>")
@roles_required(*VIEWERS)
def status(job_id: int):
    job = _job(job_id)
    return render_template(
        "dashboard/pack_status.html",
        job=job,
        sel=packs.selection_of(job),
        poll=POLL_SECONDS if job.state in packs.LIVE else None,
        as_of=packs.as_of_text(job.figures_at, current_app.config["TIMEZONE"]),
        form=ActionForm(),
    )


@bp.get("/jobs/<int:job_id>/state")
@roles_required(*VIEWERS)
def state(job_id: int):
    """The job's state and progress, for the status page's script (scoped like the page)."""
    job = _job(job_id)
    label = _("%(percent)s %% done", percent=job.progress)
    response = jsonify(state=job.state, progress=job.progress, label=str(label))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<int:job_id>/download")
@roles_required(*VIEWERS)
def download(job_id: int):
    job = _job(job_id)
    if job.state != "done" or job.result is None:
        abort(404)
    media_type, name = packs.MEDIA_TYPES[job.format], packs.file_name(job)
    return send_file(io.BytesIO(job.result), mimetype=media_type, download_name=name, as_attachment=True)
