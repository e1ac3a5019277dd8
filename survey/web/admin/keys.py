"""API keys in the administration: list, create (the key is shown once) and revoke."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from survey import db
from survey.domain import api_keys, audit
from survey.models import ApiKey, utcnow
from survey.web.access import roles_required
from survey.web.admin.forms import ApiKeyForm
from survey.web.admin.views import agency_choices, bp, scope
from survey.web.forms import ActionForm


def _keys(sc) -> list[ApiKey]:
    keys = db.session().scalars(select(ApiKey).order_by(ApiKey.name)).all()
    return [k for k in keys if sc.is_global or (k.agency is not None and sc.allows(k.agency.code))]


def _form(sc) -> ApiKeyForm:
    form = ApiKeyForm()
    form.agency_code.choices = agency_choices(sc, _l("(all agencies)") if sc.is_global else None)
    return form


@bp.get("/api-keys")
@roles_required("admin")
def api_keys_page():
    sc = scope()
    return render_template("admin/api_keys.html", keys=_keys(sc), form=_form(sc), action=ActionForm(), secret=None)


@bp.post("/api-keys")
@roles_required("admin")
def create_api_key():
    sc = scope()
    form = _form(sc)
    secret = None
    if form.validate():
        try:
            if not sc.allows(form.agency_code.data or None):
                raise ValueError(_l("Choose an agency within your agencies."))
            key, secret = api_keys.create_key(db.session(), form.name.data, form.agency_code.data or None)
        except ValueError as exc:
            db.session().rollback()
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            audit.record(db.session(), sc.actor, "create", "api_key", key.name, None, audit.snapshot("api_key", key))
            db.session().commit()
    status = 201 if secret else 422
    return render_template(
        "admin/api_keys.html", keys=_keys(sc), form=_form(sc) if secret else form, action=ActionForm(), secret=secret
    ), status


@bp.post("/api-keys/<prefix>/revoke")
@roles_required("admin")
def revoke_api_key(prefix: str):
    sc = scope()
    key = api_keys.find_by_name_or_prefix(db.session(), prefix=prefix)
    if key is None or key not in _keys(sc):
        abort(404)
    if not ActionForm().validate():
        abort(400)
    if key.revoked_at is None:
        before = audit.snapshot("api_key", key)
        key.revoked_at = utcnow()
        audit.record(db.session(), sc.actor, "revoke", "api_key", key.name, before, audit.snapshot("api_key", key))
        db.session().commit()
        flash(_l("Revoked the key %(name)s.", name=key.name), "info")
    return redirect(url_for("admin.api_keys_page"), 303)
