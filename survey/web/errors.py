"""Error pages a citizen understands, in their language, with the right status code."""

from __future__ import annotations

from flask import Flask, make_response, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: (_l("Something is wrong with this request"), _l("Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("This survey link is not valid. Please scan the QR code at the counter again.")),
    405: (_l("Not allowed"), _l("This address cannot be used that way.")),
    410: (
        _l("This survey link can no longer be used"),
        _l("The link has already been used to send an evaluation, or it has expired. Thank you for your interest."),
    ),
    413: (_l("Too much data"), _l("What was sent is too large. Please shorten your comment and send again.")),
    422: (_l("Something is wrong with this request"), _l("Please go back and try again.")),
    429: (
        _l("Too many attempts"),
        _l("Too many evaluations were sent from this connection. Please wait a minute and try again."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("Your answers may not have been saved. Please try again in a moment."),
    ),
}


def render_error(code: int):
    title, message = MESSAGES.get(code, MESSAGES[400 if code < 500 else 500])
    return render_template("error.html", title=title, message=message), code


def error_page(exc: HTTPException):
    """The HTML page of an HTTP error, with the headers the error carries."""
    body, code = render_error(exc.code or 500)
    response = make_response(body, code)
    for name, value in exc.get_headers():  # e.g. Allow on 405, Retry-After on 429
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, error_page)
    app.register_error_handler(500, lambda exc: render_error(500))
