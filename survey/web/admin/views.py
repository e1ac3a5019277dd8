"""Administration (/admin): reference records, users, targets, questionnaires and the audit log.

Role ``admin``; an administrator scoped to an agency manages only that agency's subtree.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from survey import db
from survey.domain import audit, catalog
from survey.models import Agency, QuestionnaireVersion
from survey.web import words
from survey.web.access import roles_required, visible_agencies
from survey.web.admin import history, records
from survey.web.forms import ActionForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def scope() -> records.Scope:
    return records.Scope(current_user.email, visible_agencies())


def _kind(name: str) -> records.Kind:
    if name not in records.KINDS:
        abort(404)
    return records.KINDS[name]


def agency_choices(sc: records.Scope, blank, keep: str | None = None) -> list[SelectChoice]:
    agencies = db.session().scalars(select(Agency).order_by(Agency.code)).all()
    shown = [SelectChoice(a.code, f"{a.code} – {a.name}") for a in agencies if sc.allows(a.code) or a.code == keep]
    return ([SelectChoice("", blank)] if blank is not None else []) + shown


def _prepare(form, kind: records.Kind, sc: records.Scope, record=None):
    """Fill the choices that depend on scope and catalog; codes and e-mails cannot be renamed."""
    questionnaires = [SelectChoice("", _l("(default)"))] + [SelectChoice(q, q) for q in catalog.current().ids()]
    if hasattr(form, "questionnaire") and kind.name != "targets":
        form.questionnaire.choices = questionnaires
    if hasattr(form, "parent_code"):
        keep = record.parent.code if record is not None and record.parent else None
        form.parent_code.choices = agency_choices(sc, _l("(none)") if sc.is_global or keep is None else None, keep)
    if hasattr(form, "agency_code"):
        blank = _l("(all agencies)") if kind.name == "users" and sc.is_global else None
        form.agency_code.choices = agency_choices(sc, blank)
    if record is not None:
        getattr(form, kind.key).render_kw = {"readonly": True}
    return form


def _form_data(form, kind: records.Kind, record) -> dict:
    data = dict(form.data)
    if record is not None:
        data[kind.key] = getattr(record, kind.key)  # the key never changes
    return data


@bp.get("")
@roles_required("admin")
def index():
    return render_template("admin/index.html", kinds=records.KINDS.values())


@bp.get("/<name>")
@roles_required("admin")
def listing(name: str):
    kind = _kind(name)
    rows = records.listing(db.session(), kind, scope())
    return render_template(
        "admin/list.html",
        kind=kind,
        rows=rows,
        can_add=records.may_change(kind, None, scope()) and (not kind.global_only or scope().is_global),
        action=ActionForm(),
        undo=next((r for r in rows if str(getattr(r, kind.key)) == request.args.get("undo") and not r.active), None),
    )


@bp.get("/<name>/new")
@roles_required("admin")
def new(name: str):
    kind = _kind(name)
    return render_template("admin/form.html", kind=kind, form=_prepare(kind.form(), kind, scope()), record=None)


@bp.get("/<name>/<path:key>/edit")
@roles_required("admin")
def edit(name: str, key: str):
    kind, sc = _kind(name), scope()
    record = records.load(db.session(), kind, key)
    if record is None or not records.may_change(kind, record, sc):
        abort(404)
    form = kind.form(obj=record, data=_initial(kind, record))
    return render_template("admin/form.html", kind=kind, form=_prepare(form, kind, sc, record), record=record)


def _initial(kind: records.Kind, record) -> dict:
    data = {}
    for name in ("parent_code", "agency_code"):
        related = getattr(record, name.removesuffix("_code"), None)
        data[name] = related.code if related is not None else ""
    if kind.name in ("agencies", "counters"):
        data["questionnaire"] = record.questionnaire or ""
    return data


@bp.post("/<name>/new")
@bp.post("/<name>/<path:key>/edit")
@roles_required("admin")
def save(name: str, key: str | None = None):
    kind, sc = _kind(name), scope()
    record = records.load(db.session(), kind, key) if key is not None else None
    if key is not None and (record is None or not records.may_change(kind, record, sc)):
        abort(404)
    formdata = request.form.copy()
    if record is not None:
        formdata[kind.key] = getattr(record, kind.key)  # the key is shown read-only and never changes
    form = _prepare(kind.form(formdata=formdata), kind, sc, record)
    if form.validate():
        try:
            saved = records.save(db.session(), kind, record, _form_data(form, kind, record), sc)
        except records.RecordError as exc:
            db.session().rollback()
            getattr(form, exc.field_name).errors = [*getattr(form, exc.field_name).errors, exc.message]
        else:
            db.session().commit()
            flash(_l("Saved %(key)s.", key=getattr(saved, kind.key)), "info")
            return redirect(url_for("admin.listing", name=name), 303)
    return render_template("admin/form.html", kind=kind, form=form, record=record), 422


def _changeable(name: str, key: str):
    kind, sc = _kind(name), scope()
    record = records.load(db.session(), kind, key)
    if record is None or not records.may_change(kind, record, sc):
        abort(404)
    return kind, sc, record


@bp.get("/<name>/<path:key>/deactivate")
@roles_required("admin")
def confirm_deactivate(name: str, key: str):
    """Say what stops working before switching a record off."""
    kind, _, record = _changeable(name, key)
    return render_template(
        "admin/deactivate.html", kind=kind, record=record, consequence=records.CONSEQUENCES[name], action=ActionForm()
    )


def _switch(name: str, key: str, change, message, **listing):
    """Switch a record off or on (change: records.deactivate or records.reactivate), then back to its list."""
    kind, sc, record = _changeable(name, key)
    if not ActionForm().validate():
        abort(400)
    change(db.session(), kind, record, sc)
    db.session().commit()
    flash(message, "info")
    return redirect(url_for("admin.listing", name=name, **listing), 303)


@bp.post("/<name>/<path:key>/deactivate")
@roles_required("admin")
def deactivate(name: str, key: str):
    return _switch(name, key, records.deactivate, _l("Deactivated %(key)s.", key=key), undo=key)


@bp.post("/<name>/<path:key>/reactivate")
@roles_required("admin")
def reactivate(name: str, key: str):
    return _switch(name, key, records.reactivate, _l("Reactivated %(key)s.", key=key))


@bp.get("/questionnaires")
@roles_required("admin")
def questionnaires():
    sc = scope()
    counts = records.responses_per_version(db.session(), sc)
    versions = (
        db.session()
        .scalars(
            select(QuestionnaireVersion).order_by(QuestionnaireVersion.questionnaire, QuestionnaireVersion.version)
        )
        .all()
    )
    rows = [(v, counts.get(v.id, 0), catalog.current().get(v.questionnaire, v.version)) for v in versions]
    return render_template("admin/questionnaires.html", rows=rows, scoped=not sc.is_global)


@bp.get("/audit")
@roles_required("admin")
def audit_log():
    kind = request.args.get("kind") or None
    return render_template(
        "admin/audit.html",
        entries=history.described(audit.entries(db.session(), kind, scope=scope().agencies)),
        kind=kind,
        kinds=list(words.KINDS),
    )


@bp.get("/audit.csv")
@roles_required("admin")
def audit_export():
    body = audit.export_csv(db.session(), request.args.get("kind") or None, scope().agencies)
    return send_file(io.BytesIO(body), mimetype="text/csv", download_name="audit-log.csv", as_attachment=True)
