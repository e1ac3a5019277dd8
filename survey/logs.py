"""Structured logs: one JSON object per line on standard error, one line per request.

A request's line names the route (``/t/<token>``), never the path or query string, which carry one-time
tokens and signatures; it has no client address and no user agent. Fields: time, level, logger,
message ("request"), request_id (the proxy's X-Request-ID, or a new one, echoed in the response),
method, route, status, duration_ms, bytes. Warnings and errors, tracebacks included, use the same
format. ``LOG_FORMAT=text`` gives plain lines for a developer's terminal, a request's with its fields
(``2026-12-03 14:32:01 INFO request GET /q/<counter_code> 200 12.3 ms 4711 B id=…``); ``LOG_LEVEL`` sets
the level.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_LOGGER = "survey.request"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_HANDLER_NAME = "survey.logs"


def json_formatter() -> logging.Formatter:
    """The JSON formatter of every log line (also gunicorn's, through its logconfig_dict)."""
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


class TextFormatter(logging.Formatter):
    """Plain lines for a terminal: time, level, logger and message; a request's line carries its fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        if record.name != REQUEST_LOGGER or not hasattr(record, "status"):
            return super().formatMessage(record)
        size = "-" if record.bytes is None else f"{record.bytes} B"
        return (
            f"{record.asctime} {record.levelname} {record.getMessage()} {record.method} {record.route or '-'} "
            f"{record.status} {record.duration_ms} ms {size} id={record.request_id}"
        )


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Send the app's and gunicorn's log records to standard error in one format (idempotent)."""
    root = logging.getLogger()
    if any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    if fmt == "json":
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The dev server's access lines and the rate limiter's notices carry client addresses: kept out;
    # Alembic announces its context at every health check: kept to warnings.
    for name in ("werkzeug", "flask-limiter", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _start() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _finish(response):
    started = g.pop("request_started", None)
    if started is None:
        return response
    response.headers.setdefault("X-Request-ID", g.request_id)
    logging.getLogger(REQUEST_LOGGER).info(
        "request",
        extra={
            "request_id": g.request_id,
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "bytes": response.content_length,
        },
    )
    return response


def init_app(app: Flask) -> None:
    if not app.config.get("TESTING"):
        configure(app.config.get("LOG_LEVEL", "INFO"), app.config.get("LOG_FORMAT", "json"))
    app.before_request(_start)
    app.after_request(_finish)
