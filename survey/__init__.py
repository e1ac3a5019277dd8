"""The citizen satisfaction survey platform: a Flask application."""

from __future__ import annotations

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, then extensions, then blueprints, then commands."""
    from survey import commands, config, db, extensions, logs, tasks, web
    from survey.domain import catalog
    from survey.reporting import freshness

    app = Flask(__name__, instance_relative_config=True, static_folder=None)  # see survey.web.serving
    config.load_config(app, test_config)
    logs.init_app(app)
    db.init_app(app)
    catalog.init_app(app)
    extensions.init_app(app)
    freshness.init_app(app)
    tasks.init_app(app)  # the task queue and its tasks
    web.init_app(app)
    commands.init_app(app)
    return app
