"""The citizen's pages: the questionnaire opened from a QR code, and the thank-you page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from survey import db
from survey.domain import responses, signing
from survey.extensions import limiter
from survey.models import Interaction
from survey.web.citizen import forms, length
from survey.web.citizen.fresh import FreshPages
from survey.web.i18n import page_url
from survey.web.qrcode import qr_svg

bp = Blueprint("citizen", __name__)


def citizen_post_limit() -> str:
    return current_app.config["CITIZEN_POST_RATE_LIMIT"]


def _signed_counter(counter_code: str) -> responses.Place:
    if not signing.valid_counter_signature(counter_code, request.args.get("s")):
        abort(404)
    counter = responses.active_counter(db.session(), counter_code)
    if counter is None:
        abort(404)
    return counter


def _questionnaire(agency, counter):
    """The counter's questionnaire, or the quick one when the citizen chose it (?q=, that one only)."""
    definition = responses.questionnaire_for(agency, counter)
    if "q" not in request.args:
        return definition
    quick = responses.quick_questionnaire()
    if quick is None or request.args["q"] != quick.id:
        abort(404)
    return quick


def _quick_link(definition) -> dict | None:
    """The link to the quick questionnaire shown at the top of a longer form."""
    quick = responses.quick_questionnaire()
    if quick is None or "q" in request.args or len(quick.items) >= len(definition.items):
        return None
    locale = str(get_locale())
    return {"url": page_url(q=quick.id), "questions": length.questions(quick), "minutes": length.minutes(quick, locale)}


def _open_interaction(token: str) -> Interaction:
    interaction = responses.interaction_by_token(db.session(), token)
    if interaction is None:
        abort(404)
    if not responses.is_open(interaction):
        abort(410)
    return interaction


_fresh_pages = FreshPages()  # per worker; see survey.web.citizen.fresh


def _render(form: forms.CitizenForm, agency, counter, status: int = 200, confirm: bool = False):
    if not forms.SUBMISSION_KEY.match(form.submission_key.data or ""):
        form.submission_key.data = responses.new_submission_key()
    definition = form.definition
    html = render_template(
        "citizen/form.html",
        form=form,
        definition=definition,
        agency=agency,
        counter=counter,
        action=page_url(),  # back to this page, with its known parameters only
        minutes=length.minutes(definition, str(get_locale())),
        questions=length.questions(definition),
        parts=length.parts(definition),
        quick=_quick_link(definition),
        confirm={"answered": forms.answered(definition, request.form), "of": len(forms.rated(definition))}
        if confirm
        else None,
    )
    return html, status


def _fresh(definition, agency, counter):
    """A counter's page not yet answered, rendered once per worker and filled in for each citizen."""
    locale = str(get_locale())

    def render(csrf_slot: str, key_slot: str) -> str:
        form = forms.bind(definition, locale)
        if "csrf_token" in form:
            form.csrf_token.current_token = csrf_slot
        form.submission_key.data = key_slot
        return _render(form, agency, counter)[0]

    key = (definition.id, definition.version, locale, page_url(), agency.name, counter and counter.name)
    return _fresh_pages.page(key, definition, render)


def _submit(definition, agency, counter, channel: str, interaction: Interaction | None = None):
    posted = forms.read(definition, str(get_locale()), request.form, request.files)
    if isinstance(posted, forms.CitizenForm):
        return _render(posted, agency, counter, 422)
    if forms.needs_confirmation(definition, request.form, current_app.config["CONFIRM_BELOW_SHARE"]):
        # Nothing is wrong, nothing is stored yet: the same form, answers kept, asks "send as is?".
        return _render(forms.bind(definition, str(get_locale()), request.form), agency, counter, confirm=True)
    outcome = responses.record_response(
        db.session(),
        responses.Submission(
            definition=definition,
            agency_id=agency.id,
            channel=channel,
            submission_key=posted.submission_key,
            answers=posted.answers,
            comment=posted.comment,
            counter_id=counter.id if counter else None,
            service_id=interaction.service_id if interaction else None,
            interaction_id=interaction.id if interaction else None,
        ),
    )
    if outcome is responses.Outcome.TOKEN_USED:
        db.session().rollback()
        abort(410)
    db.session().commit()
    return redirect(url_for("citizen.thanks"), 303)


@bp.get("/q/<counter_code>")
def counter_form(counter_code: str):
    counter = _signed_counter(counter_code)
    definition = _questionnaire(counter.agency, counter)
    return _fresh(definition, counter.agency, counter)


@bp.post("/q/<counter_code>")
@limiter.limit(citizen_post_limit)
def submit_counter_form(counter_code: str):
    counter = _signed_counter(counter_code)
    definition = _questionnaire(counter.agency, counter)
    return _submit(definition, counter.agency, counter, "qr")


@bp.get("/t/<token>")
def token_form(token: str):
    interaction = _open_interaction(token)
    definition = _questionnaire(interaction.agency, interaction.counter)
    # Each one-time link has its own address: its page is rendered afresh, not kept in the cache.
    return _render(forms.bind(definition, str(get_locale())), interaction.agency, interaction.counter)


@bp.post("/t/<token>")
@limiter.limit(citizen_post_limit)
def submit_token_form(token: str):
    interaction = responses.interaction_by_token(db.session(), token)
    if interaction is None:
        abort(404)
    if interaction.used_at is not None:
        # A retry of the very submission that used the token is acknowledged again.
        if responses.answered_with(db.session(), interaction, request.form.get("submission_key")):
            return redirect(url_for("citizen.thanks"), 303)
        abort(410)
    if not responses.is_open(interaction):
        abort(410)
    definition = _questionnaire(interaction.agency, interaction.counter)
    return _submit(definition, interaction.agency, interaction.counter, "token", interaction)


@bp.get("/t/<token>/qr.svg")
def token_qr(token: str):
    """The QR code of a one-time link, for the one-stop software to print on a receipt or show on a screen."""
    _open_interaction(token)
    svg = qr_svg(signing.external_url("citizen.token_form", token=token))
    # no-store: once the token is used the image must give way to 410, not linger in a cache.
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.get("/thanks")
def thanks():
    return render_template("citizen/thanks.html")
