"""The API for other systems (/api/v1): views, problems (its errors) and the OpenAPI document."""

from __future__ import annotations

from flask import Flask

from survey.web.api import problems, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    for code in (404, 405):  # raised before any blueprint is chosen: problems under /api/, pages elsewhere
        app.register_error_handler(code, problems.routing_error)
