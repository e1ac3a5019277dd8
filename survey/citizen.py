"""The citizen's pages: the questionnaire opened from a QR code, and the thank-you page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

from survey import db, forms, responses, signing
from survey.models import Counter, Interaction
from survey.ratelimit import citizen_post_limit, limiter

bp = Blueprint("citizen", __name__)


def _signed_counter(counter_code: str) -> Counter:
    if not signing.valid_counter_signature(counter_code, request.args.get("s")):
        abort(404)
    counter = responses.active_counter(db.session(), counter_code)
    if counter is None:
        abort(404)
    return counter


def _open_interaction(token: str) -> Interaction:
    interaction = responses.interaction_by_token(db.session(), token)
    if interaction is None:
        abort(404)
    if not responses.is_open(interaction):
        abort(410)
    return interaction


_FRESH_QUESTIONS: dict[tuple, tuple[object, Markup]] = {}


def _fresh_questions(form: forms.CitizenForm) -> Markup | None:
    """The questions of a form not yet answered, rendered once per questionnaire version and locale.

    They are most of the page and the same for every citizen (no answer, no error); the per-page
    parts (CSRF token, submission key, agency and counter names) are rendered around them each time.
    """
    if form.posted is not None:
        return None
    definition, locale = form.definition, str(get_locale())
    key = (definition.id, definition.version, locale)
    cached = _FRESH_QUESTIONS.get(key)
    if cached is None or cached[0] is not definition:
        html = Markup(render_template("citizen/questions.html", form=form, definition=definition))
        cached = _FRESH_QUESTIONS[key] = (definition, html)
    return cached[1]


def _render(form: forms.CitizenForm, agency, counter, status: int = 200):
    if not forms.SUBMISSION_KEY.match(form.submission_key.data or ""):
        form.submission_key.data = responses.new_submission_key()
    html = render_template(
        "citizen/form.html",
        form=form,
        definition=form.definition,
        questions=_fresh_questions(form),
        agency=agency,
        counter=counter,
        action=request.full_path.rstrip("?"),
    )
    return html, status


def _submit(definition, agency, counter, channel: str, interaction: Interaction | None = None):
    form = forms.bind(definition, str(get_locale()), request.form, request.files)
    if not form.validate():
        return _render(form, agency, counter, 422)
    outcome = responses.record_response(
        db.session(),
        responses.Submission(
            definition=definition,
            agency_id=agency.id,
            channel=channel,
            submission_key=form.submission_key.data,
            answers=form.answers(),
            comment=(form.comment.data or "").strip() if "comment" in form else None,
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
    definition = responses.questionnaire_for(counter.agency, counter)
    return _render(forms.bind(definition, str(get_locale())), counter.agency, counter)


@bp.post("/q/<counter_code>")
@limiter.limit(citizen_post_limit)
def submit_counter_form(counter_code: str):
    counter = _signed_counter(counter_code)
    definition = responses.questionnaire_for(counter.agency, counter)
    return _submit(definition, counter.agency, counter, "qr")


@bp.get("/t/<token>")
def token_form(token: str):
    interaction = _open_interaction(token)
    definition = responses.questionnaire_for(interaction.agency, interaction.counter)
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
    definition = responses.questionnaire_for(interaction.agency, interaction.counter)
    return _submit(definition, interaction.agency, interaction.counter, "token", interaction)


@bp.get("/thanks")
def thanks():
    return render_template("citizen/thanks.html")
