"""Administration (/admin): reference records, users, targets, questionnaires, API keys, audit log, posters.

Role ``admin``; an administrator scoped to an agency manages only that agency's subtree.
"""

from __future__ import annotations

from flask import Flask

from survey.web.admin import keys, posters, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)  # the views of `keys` are on it too
    app.register_blueprint(posters.bp)


__all__ = ["init_app", "keys", "posters", "views"]
