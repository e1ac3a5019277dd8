"""Forms shared by the staff pages."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
