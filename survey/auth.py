"""Staff accounts: log in and out, change password, roles and agency scope, the user commands."""

from __future__ import annotations

import functools
import sys

import click
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from analysis.hierarchy import ancestors
from survey import aggregate, db
from survey.models import ROLES, Agency, User, utcnow
from survey.ratelimit import limiter

bp = Blueprint("auth", __name__, url_prefix="/auth")
user_cli = AppGroup("user", help="Staff accounts.")
login_manager = LoginManager()
MIN_PASSWORD = 10
# A hash to check against when the e-mail is unknown, so both answers take as long.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


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
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.register_blueprint(bp)
    app.add_url_rule("/", "home", home)
    app.cli.add_command(user_cli)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session().get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with that e-mail and password, or None (in the same time either way)."""
    user = find_user(session, email)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def create_user(session: Session, email: str, role: str, password: str, agency_code: str | None = None) -> User:
    """A new staff account; ValueError with a reason when the data are not acceptable."""
    email = email.strip().lower()
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise ValueError("not an e-mail address")
    if find_user(session, email) is not None:
        raise ValueError(f"a user with e-mail {email} exists already")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    agency = None
    if agency_code:
        agency = session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise ValueError(f"no agency with code {agency_code!r}")
    if role == "officer" and agency is None:
        raise ValueError("an officer belongs to an agency: give --agency")
    user = User(email=email, role=role, agency=agency, password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


def visible_agencies(session: Session, user: User) -> set[str] | None:
    """The codes of the agencies a user may see: None means every agency."""
    if user.agency_id is None:
        return None
    pairs = ancestors(aggregate.agencies_frame(session))
    root = session.get(Agency, user.agency_id).code
    return set(pairs.loc[pairs["ancestor_code"] == root, "agency_code"])


def roles_required(*roles: str):
    """Only logged-in users holding one of the roles; others get 403, anonymous users the login page."""

    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _next_url() -> str:
    target = request.args.get("next", "")
    # Only a path on this site: never an open redirect to another host.
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


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
    user = authenticate(db.session(), form.email.data, form.password.data)
    if user is None:
        flash(_l("Wrong e-mail or password."), "error")
        return render_template("auth/login.html", form=form), 401
    user.last_login_at = utcnow()
    db.session().commit()
    login_user(user)
    return redirect(_next_url(), 303)


@bp.post("/logout")
@login_required
def logout():
    if not FlaskForm().validate():  # CSRF: a link on another site must not log anyone out
        abort(400)
    logout_user()
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
    if valid and not check_password_hash(current_user.password_hash, form.current.data):
        form.current.errors = [_l("This is not your current password.")]
        valid = False
    if not valid:
        return render_template("auth/password.html", form=form), 422
    current_user.password_hash = generate_password_hash(form.new.data)
    db.session().commit()
    flash(_l("Your password has been changed."), "info")
    return redirect("/", 303)


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--agency", "agency_code", help="Limit the user to this agency and the agencies below it.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(email: str, role: str, agency_code: str | None, password_stdin: bool) -> None:
    """Create a staff account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session(), email, role, password, agency_code)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    db.session().commit()
    scope = f"agency {agency_code} and below" if agency_code else "all agencies"
    click.echo(f"Created {user.role} {user.email} ({scope}).")


@user_cli.command("list")
def list_command() -> None:
    """List the staff accounts."""
    users = db.session().scalars(select(User).order_by(User.email)).all()
    for u in users:
        scope = u.agency.code if u.agency else "ALL"
        click.echo(f"{u.email:<40} {u.role:<9} {scope:<12} {'active' if u.active else 'disabled'}")
    click.echo(f"{len(users)} users.")


@user_cli.command("disable")
@click.option("--email", required=True)
def disable_command(email: str) -> None:
    """Disable a staff account (it can no longer log in; existing sessions end)."""
    user = find_user(db.session(), email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    user.active = False
    db.session().commit()
    active = db.session().scalar(select(func.count()).select_from(User).where(User.active.is_(True)))
    click.echo(f"Disabled {user.email}; {active} active users remain.")
