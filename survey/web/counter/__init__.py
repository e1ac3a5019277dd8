"""The counter screen: an officer ends a transaction and shows the citizen a one-time QR code.

Works without JavaScript: a plain POST creates the interaction and the QR page shows the code, the time
left and a link to check whether the citizen has answered. With JavaScript, the page's own static script
(the only script of the site: ``survey/static/counter.js``) asks the status URL every few seconds and goes
back to the button once the citizen has answered or the time is up; no page reloads itself on a timer
(WCAG 2.2.1).

The database keeps only a hash of each token, so the screen keeps the tokens it issued, for the few
minutes their codes are shown, in the officer's own session: a screen shows only the codes it made
(not those issued to another screen or through the API), and the token is never read back from the
database.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from survey import db
from survey.domain import signing
from survey.domain.interactions import Issued, issue_interaction
from survey.models import Counter, Interaction, utcnow
from survey.web.access import roles_required, visible_agencies
from survey.web.forms import ActionForm
from survey.web.qrcode import qr_svg_scalable

bp = Blueprint("counter", __name__, url_prefix="/counter")
POLL_SECONDS = 3  # how often the screen's script asks whether the citizen has answered
SHOWN = "counter_codes"  # session key: {interaction id: token} of the codes this screen issued lately
SHOWN_KEPT = 4


def _counter(code: str) -> Counter:
    """The active counter, if it belongs to the user's agencies (404 otherwise: nothing to learn)."""
    counter = db.session().scalar(
        select(Counter).options(joinedload(Counter.agency)).where(Counter.code == code, Counter.active.is_(True))
    )
    visible = visible_agencies()
    if counter is None or (visible is not None and counter.agency.code not in visible):
        abort(404)
    return counter


@bp.get("/")
@roles_required("officer", "admin")
def mine():
    """The counters of the user's agencies: straight to the only one, else a list to choose from."""
    visible = visible_agencies()
    stmt = select(Counter).options(joinedload(Counter.agency)).where(Counter.active.is_(True)).order_by(Counter.code)
    counters = [c for c in db.session().scalars(stmt) if visible is None or c.agency.code in visible]
    if len(counters) == 1:
        return redirect(url_for("counter.idle", code=counters[0].code))
    return render_template("counter/mine.html", counters=counters)


@bp.get("/<code>")
@roles_required("officer", "admin")
def idle(code: str):
    return render_template("counter/idle.html", counter=_counter(code), form=ActionForm())


@bp.post("/<code>")
@roles_required("officer", "admin")
def finish_transaction(code: str):
    counter = _counter(code)
    if not ActionForm().validate():
        abort(400)
    values = {
        "agency_id": counter.agency_id,
        "counter_id": counter.id,
        "service_id": None,
        "channel": "counter",
        "dossier_hash": None,
        "idempotency_hash": None,
    }
    lifetime = timedelta(days=current_app.config["TOKEN_LIFETIME_DAYS"])
    outcome, interaction, token = issue_interaction(db.session(), values, lifetime)
    if outcome is not Issued.CREATED:
        abort(500)
    db.session().commit()
    kept = list(session.get(SHOWN, {}).items())[-(SHOWN_KEPT - 1) :]
    session[SHOWN] = dict([*kept, (str(interaction.id), token)])
    return redirect(url_for("counter.show", code=code, interaction_id=interaction.id), 303)


def _shown(code: str, interaction_id: int) -> tuple[Counter, Interaction, str]:
    """The counter, interaction and token of a code this screen issued (404 for any other)."""
    counter = _counter(code)
    token = session.get(SHOWN, {}).get(str(interaction_id))
    if token is None:  # not issued by this screen (or long ago): nothing to show, nothing to learn
        abort(404)
    interaction = db.session().get(Interaction, interaction_id)
    if interaction is None or interaction.counter_id != counter.id:
        abort(404)
    return counter, interaction, token


def _seconds_left(interaction: Interaction) -> int:
    """How long the screen still shows the code (0: time is up)."""
    shown_for = utcnow() - interaction.created_at
    return max(0, int(current_app.config["COUNTER_QR_SECONDS"] - shown_for.total_seconds()))


def _state(interaction: Interaction) -> str:
    if interaction.used_at is not None:
        return "answered"
    return "waiting" if _seconds_left(interaction) > 0 else "expired"


@bp.get("/<code>/qr/<int:interaction_id>")
@roles_required("officer", "admin")
def show(code: str, interaction_id: int):
    counter, interaction, token = _shown(code, interaction_id)
    state = _state(interaction)
    if state == "answered":
        flash(_l("Thank you: the citizen's evaluation was received."), "info")
    if state != "waiting":
        return redirect(url_for("counter.idle", code=code))
    url = signing.external_url("citizen.token_form", token=token)
    qr = Markup(qr_svg_scalable(url, str(_l("QR code of the evaluation link"))))
    return render_template(
        "counter/show.html",
        counter=counter,
        url=url,
        qr=qr,
        seconds_left=_seconds_left(interaction),
        poll=POLL_SECONDS,
        here=url_for("counter.show", code=code, interaction_id=interaction_id),
        status=url_for("counter.status", code=code, interaction_id=interaction_id),
    )


@bp.get("/<code>/qr/<int:interaction_id>/status")
@roles_required("officer", "admin")
def status(code: str, interaction_id: int):
    """Whether the citizen has answered the code shown (JSON, for the screen's script)."""
    _, interaction, _ = _shown(code, interaction_id)
    response = jsonify(state=_state(interaction), seconds_left=_seconds_left(interaction))
    response.headers["Cache-Control"] = "no-store"
    return response
