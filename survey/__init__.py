"""The citizen satisfaction survey platform: a Flask application."""

from __future__ import annotations

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, then each subsystem in turn."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)  # see survey.serving

    from survey import (
        admin,
        api,
        auth,
        citizen,
        cli,
        config,
        counter_screen,
        dashboard,
        db,
        errors,
        i18n,
        logs,
        posters,
        ratelimit,
        registry,
        serving,
    )

    config.load_config(app, test_config)
    logs.init_app(app)
    serving.init_app(app)
    db.init_app(app)
    i18n.init_app(app)
    ratelimit.init_app(app)
    registry.init_app(app)
    errors.init_app(app)
    app.register_blueprint(citizen.bp)
    auth.init_app(app)
    api.init_app(app)
    dashboard.init_app(app)
    admin.init_app(app)
    app.register_blueprint(posters.bp)
    app.register_blueprint(counter_screen.bp)
    cli.init_app(app)
    return app
