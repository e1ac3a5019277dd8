"""The counter screen: an officer ends a transaction and shows the citizen a one-time QR code.

Works without JavaScript: a plain POST creates the interaction, the QR page reloads itself with a
meta refresh and goes back to the button once the citizen has answered or the time is up.

The database keeps only a hash of each token, so the screen keeps the tokens it issued, for the few
minutes their codes are shown, in the officer's own session: a screen shows only the codes it made
(not those issued to another screen or through the API), and the token is never read back from the
database.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
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
from survey.web.qrcode import qr_svg

bp = Blueprint("counter", __name__, url_prefix="/counter")
REFRESH_SECONDS = 4
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


@bp.get("/<code>/qr/<int:interaction_id>")
@roles_required("officer", "admin")
def show(code: str, interaction_id: int):
    counter = _counter(code)
    token = session.get(SHOWN, {}).get(str(interaction_id))
    if token is None:  # not issued by this screen (or long ago): nothing to show, nothing to learn
        abort(404)
    interaction = db.session().get(Interaction, interaction_id)
    if interaction is None or interaction.counter_id != counter.id:
        abort(404)
    if interaction.used_at is not None:
        flash(_l("Thank you: the citizen's evaluation was received."), "info")
        return redirect(url_for("counter.idle", code=code))
    shown_for = utcnow() - interaction.created_at
    if shown_for > timedelta(seconds=current_app.config["COUNTER_QR_SECONDS"]):
        return redirect(url_for("counter.idle", code=code))
    url = signing.external_url("citizen.token_form", token=token)
    return render_template(
        "counter/show.html", counter=counter, url=url, refresh=REFRESH_SECONDS, qr=Markup(qr_svg(url).decode())
    )
