"""The web side: the helpers every page shares, then one package per audience.

Modules here (access, errors, forms, i18n, qrcode, serving, words) are shared helpers; each package is one
audience's blueprint(s) and never imports another audience's package.
"""

from __future__ import annotations

from flask import Flask

from survey.web import admin, api, auth, citizen, counter, dashboard, errors, i18n, serving, words


def init_app(app: Flask) -> None:
    serving.init_app(app)
    i18n.init_app(app)
    words.init_app(app)
    errors.init_app(app)
    app.register_blueprint(citizen.bp)
    auth.init_app(app)
    api.init_app(app)
    dashboard.init_app(app)
    admin.init_app(app)
    app.register_blueprint(counter.bp)
