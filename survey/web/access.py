"""Who may open a staff page: roles, and the agencies a signed-in user may see (once per request)."""

from __future__ import annotations

import functools

from flask import abort, g
from flask_login import current_user, login_required

from survey import db
from survey.domain import agencies


def roles_required(*roles: str):
    """Only logged-in users holding one of the roles; others get 403, anonymous users the login page."""

    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def visible_agencies() -> set[str] | None:
    """The codes of the agencies the signed-in user may see (None: every agency), computed once a request."""
    if "visible_agencies" not in g:
        g.visible_agencies = agencies.visible_codes(db.session(), current_user.agency_id)
    return g.visible_agencies


def root_code() -> str | None:
    """The code of the user's own agency, the top of what they see (None: every agency)."""
    return current_user.agency.code if current_user.agency else None
