"""The Flask extensions, created once and bound to the app by create_app: limits, logins, translations."""

from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user

limiter = Limiter(key_func=get_remote_address)  # RATELIMIT_STORAGE_URI: shared storage for several workers
login_manager = LoginManager()
babel = Babel()  # its locale selector is survey.web.i18n's


def per_worker_limits(app: Flask, workers: int) -> str | None:
    """What is wrong when a server of this many workers runs this app's limits, or None when nothing is.

    With memory:// storage each worker counts on its own: eight workers let eight times the attempts
    through. The server (gunicorn.conf.py) refuses to start so unless RATELIMIT_PER_WORKER=accept.
    """
    if workers <= 1 or "limiter" not in getattr(app, "extensions", {}):  # one process, or no limits
        return None
    storage = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if not storage.startswith("memory://"):
        return None
    return (
        f"{workers} workers would each count the rate limits on their own (RATELIMIT_STORAGE_URI={storage}): "
        "set REDIS_URL (or RATELIMIT_STORAGE_URI=redis://host:6379/0) so that they share them, run one "
        "worker (WEB_CONCURRENCY=1), or set RATELIMIT_PER_WORKER=accept (development and benchmarks only)."
    )


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    # Templates get the lazy proxy, not Flask-Login's context processor, which loads the user for every
    # page: a citizen page never touches it, so it costs a staff browser no query and no cookie write.
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    # The user loader is survey.web.auth.sessions': it also ends sessions that are over.
