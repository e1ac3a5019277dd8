"""Rate limits on the public endpoints (Flask-Limiter; RATELIMIT_STORAGE_URI for shared storage)."""

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)


def citizen_post_limit() -> str:
    return current_app.config["CITIZEN_POST_RATE_LIMIT"]


def init_app(app: Flask) -> None:
    limiter.init_app(app)
