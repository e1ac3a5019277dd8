"""Defaults and the configuration read from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

DEFAULTS = {
    "BASE_URL": "http://127.0.0.1:5000",
    "DEFAULT_QUESTIONNAIRE": "sipas",
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "BABEL_DEFAULT_LOCALE": "vi",
    "LANGUAGES": ("vi", "en"),
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "MAX_FORM_PARTS": 200,
    # A citizen may read the whole form slowly; the token is in the session cookie anyway.
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    "CITIZEN_POST_RATE_LIMIT": "30 per minute;300 per hour",
    # A form answered under this share of its rated items asks once "send as is?" before it is stored.
    "CONFIRM_BELOW_SHARE": 0.5,
    "QUICK_QUESTIONNAIRE": "quay-nhanh",  # offered at the top of longer forms ("" offers none)
    "RATELIMIT_STORAGE_URI": "",  # where the limits count (default: REDIS_URL where set, else memory://)
    # "accept": a server of several workers may run with memory:// limits, each worker counting on its own
    # (development and benchmarks only; gunicorn.conf.py refuses to start so otherwise).
    "RATELIMIT_PER_WORKER": "",
    "RATELIMIT_HEADERS_ENABLED": False,
    "TOKEN_LIFETIME_DAYS": 7,
    "COUNTER_QR_SECONDS": 180,  # how long the counter screen shows a one-time QR code
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "SESSION_IDLE_MINUTES": 30,  # a staff session ends after this long without a request
    "SESSION_MAX_HOURS": 12,  # and this long after logging in, however busy
    "PROXY_COUNT": 0,  # reverse proxies in front of the app whose X-Forwarded-* headers are trusted
    "TRUSTED_PROXIES": "127.0.0.1,::1",  # the peers (IPs, CIDR networks) those headers are taken from
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",  # or "text"
    "API_RATE_LIMIT": "300 per minute",
    "REDIS_URL": "",  # set: the shared store (figures, charts, locks) is Redis, else the database
    "FIGURES_MAX_AGE": 60,  # seconds within which a new response reaches the figures (0: every request)
    "FIGURES_CHECK_SECONDS": 10,  # how often the background worker looks for changed months
    "FIGURES_NICE": 10,  # how much `flask figures watch` lowers its priority below the web workers'
    "CHART_SECONDS": 86400,  # how long a rendered chart is kept in the shared store
    "CHARTS_AHEAD_VIEWED_SECONDS": 900,  # a chart looked at within this time is drawn ahead for new figures
    "CHARTS_AHEAD_SECONDS": 10,  # at most this long drawing ahead, per refresh (the rest drawn on request)
    "HUEY_NAME": "survey",  # the task queue's name (its key prefix in Redis, its rows in the SQLite file)
    "HUEY_PATH": "",  # the queue's SQLite file without REDIS_URL (default: instance/queue.sqlite3)
    "HUEY_IMMEDIATE": None,  # run tasks at once, in the caller (default: when TESTING)
    "HUEY_NICE": 10,  # how much lower the consumer's CPU priority is than the web servers'
    "PACK_KEEP_SECONDS": 86400,  # how long a finished report pack job (and its file) is kept
    "PACK_STALE_SECONDS": 1800,  # a job silent this long (its worker died) is queued again when asked for
}


# Read from plain environment variables too (every setting can also be given as FLASK_<NAME>).
ENVIRONMENT = (
    "DATABASE_URL",
    "SECRET_KEY",
    "BASE_URL",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_PER_WORKER",
    "REDIS_URL",
    "PROXY_COUNT",
    "TRUSTED_PROXIES",
    "LOG_LEVEL",
    "LOG_FORMAT",
)


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill app.config: defaults, then FLASK_* / plain environment variables, then test values."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env()
        for name in ENVIRONMENT:
            if os.environ.get(name):
                app.config[name] = os.environ[name]
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'survey.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")
    if not app.config.get("RATELIMIT_STORAGE_URI"):  # with Redis, every worker and server counts together
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"


def _instance_secret(path: Path) -> str:
    """Read the instance's secret key, generating it (readable by the owner only) on first run."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # generated earlier, or by another worker starting at the same moment
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
