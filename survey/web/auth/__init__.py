"""Staff sign-in: log in and out, change password; the staff home page."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from survey import db
from survey.domain import accounts
from survey.domain.accounts import MIN_PASSWORD
from survey.extensions import limiter, login_manager
from survey.models import utcnow
from survey.web.auth import sessions

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD, max=200, message=_l("At least %(n)s characters.", n=MIN_PASSWORD)),
        ],
    )
    confirm = PasswordField(
        _l("New password again"), validators=[EqualTo("new", message=_l("The two new passwords differ."))]
    )


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = generate_csrf
    login_manager.user_loader(sessions.load_user)
    app.register_blueprint(bp)
    app.add_url_rule("/", "home", home)


MAX_NEXT = 2000  # a longer "next" is no page of this site


def _next_url() -> str:
    """Where to go after logging in: the ``next`` path when it stays on this site, else the home page."""
    target = request.args.get("next", "")
    decoded = unquote(target)
    # Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so "/\t/evil.example"
    # leaves the site: refuse every control or invisible character and backslash, also percent-encoded.
    if not target or len(target) > MAX_NEXT or not (target + decoded).isprintable() or "\\" in decoded:
        return "/"
    parts = urlsplit(target)
    # The path as a browser sees it: urlsplit reads "///host" as the path "/host", a browser as the host.
    segments = unquote(target.split("?", 1)[0].split("#", 1)[0]).split("/")
    if parts.scheme or parts.netloc or segments[0] != "" or "" in segments[1:-1] or {".", ".."} & set(segments):
        return "/"  # another site ("//host", "https:"), a relative path, or "//" hidden behind dot segments
    return target


def home():
    """Staff start here: the login page, or the sections their role opens."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("home.html")


@bp.get("/login")
def login():
    return render_template("auth/login.html", form=LoginForm())


@bp.post("/login")
@limiter.limit(lambda: "10 per minute;50 per hour", methods=["POST"])
def login_post():
    form = LoginForm()
    if not form.validate():
        return render_template("auth/login.html", form=form), 422
    user = accounts.authenticate(db.session(), form.email.data, form.password.data)
    if user is None:
        flash(_l("Wrong e-mail or password."), "error")
        return render_template("auth/login.html", form=form), 401
    user.last_login_at = utcnow()
    db.session().commit()
    sessions.start(user)
    target = _next_url()
    if target == "/" and user.role == "officer":  # an officer's work is at the counter
        target = url_for("counter.mine")
    return redirect(target, 303)


@bp.post("/logout")
@login_required
def logout():
    if not FlaskForm().validate():  # CSRF: a link on another site must not log anyone out
        abort(400)
    accounts.end_sessions(current_user)  # a copy of this session's cookie must not work any longer
    db.session().commit()
    sessions.end()
    return redirect(url_for("auth.login"), 303)


@bp.get("/password")
@login_required
def password():
    return render_template("auth/password.html", form=PasswordForm())


@bp.post("/password")
@login_required
def password_post():
    form = PasswordForm()
    valid = form.validate()
    if valid and not accounts.password_matches(current_user, form.current.data):
        form.current.errors = [_l("This is not your current password.")]
        valid = False
    if not valid:
        return render_template("auth/password.html", form=form), 422
    accounts.change_password(db.session(), current_user, form.new.data, current_user.email)
    db.session().commit()
    sessions.renew(current_user._get_current_object())  # the account's other sessions end; this one goes on
    flash(_l("Your password has been changed."), "info")
    return redirect("/", 303)
