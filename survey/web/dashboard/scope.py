"""What the dashboard's pages share: who may see them, the selection asked for, when figures were taken."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort, current_app

from survey import db
from survey.web.access import root_code, visible_agencies

if TYPE_CHECKING:
    from survey.reporting.insights import Selection

VIEWERS = ("admin", "analyst", "official")


def selection_or_404(args) -> Selection:
    """The selection asked for, or 404 when it names something outside the user's agencies."""
    from survey.reporting import insights

    try:
        return insights.selection(db.session(), args, visible_agencies(), root_code())
    except insights.SelectionError:
        abort(404)


def as_of(taken_at) -> str:
    """When the figures were taken, in the office's time zone: 14:32."""
    from zoneinfo import ZoneInfo

    return taken_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%H:%M") if taken_at else ""
