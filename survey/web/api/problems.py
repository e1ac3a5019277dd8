"""Errors of the API as RFC 9457 problems (application/problem+json); the rest of the site keeps HTML pages."""

from __future__ import annotations

import time

from flask import current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from survey.extensions import limiter
from survey.web import errors
from survey.web.api import openapi


class ApiError(HTTPException):
    """An error answered as a problem: status, detail, extension members and extra headers."""

    def __init__(self, code: int, detail: str, *, headers: dict | None = None, **members):
        super().__init__(description=detail)
        self.code = code
        self.extra_headers = headers or {}
        self.members = members


def problem(code: int, detail: str, headers=(), **members):
    """An RFC 9457 problem response ('about:blank' type: the status says what went wrong)."""
    body = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(code, "Error"), "status": code, "detail": detail}
    response = current_app.json.response({**body, **members})
    response.status_code = code
    response.mimetype = openapi.PROBLEM_MEDIA_TYPE
    response.headers.extend(headers)
    return response


def http_problem(exc: HTTPException):
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    headers += list(getattr(exc, "extra_headers", {}).items())
    detail = exc.description or ""
    if exc.code == 429:
        reset = limiter.current_limit.reset_at if limiter.current_limit else time.time() + 60
        headers.append(("Retry-After", str(max(1, int(reset - time.time())))))
        detail = f"Too many requests with this API key (limit: {detail})."
    return problem(exc.code or 500, detail, headers, **getattr(exc, "members", {}))


def server_error(exc: Exception):
    current_app.logger.exception("API request failed: %s %s", request.method, request.path)
    return problem(500, "The server could not handle the request. Please try again later.")


def routing_error(exc: HTTPException):
    """404 and 405 happen before any blueprint is chosen: answer /api/ with a problem, the rest with a page."""
    return http_problem(exc) if request.path.startswith("/api/") else errors.error_page(exc)


def located(code: int, detail: str, reason: str, **where: str) -> ApiError:
    """A 400 or 422 saying where the problem is (pointer= in the body, parameter= or header=) and why."""
    return ApiError(code, detail, errors=[{**where, "detail": reason}])
