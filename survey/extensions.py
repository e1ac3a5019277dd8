"""The Flask extensions, created once and bound to the app by create_app: limits, logins, translations."""

from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

from survey import db
from survey.domain import accounts

limiter = Limiter(key_func=get_remote_address)  # RATELIMIT_STORAGE_URI: shared storage for several workers
login_manager = LoginManager()
babel = Babel()  # its locale selector is survey.web.i18n's


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.user_loader(lambda user_id: accounts.load_active(db.session(), user_id))
