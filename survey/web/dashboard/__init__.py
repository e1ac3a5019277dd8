"""The officials' dashboard: where each agency stands, its charts and the monthly report pack."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from flask import Blueprint, abort, render_template, request, send_file, url_for
from flask_login import current_user

from survey import db
from survey.domain import catalog
from survey.web.access import roles_required, root_code, visible_agencies

if TYPE_CHECKING:
    from survey.reporting.insights import Selection

# The figures need pandas and the charts matplotlib: each view imports them when it runs, so that the
# app (and every command) starts without loading them.
bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
VIEWERS = ("admin", "analyst", "official")
PACK_TYPES = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _selection(args) -> Selection:
    """The selection asked for, or 404 when it names something outside the user's agencies."""
    from survey.reporting import insights

    session = db.session()
    visible, root = visible_agencies(), root_code()
    try:
        return insights.selection(session, args, visible, root)
    except insights.SelectionError:
        abort(404)


def _chart_bytes(name: str, fmt: str, sel: Selection) -> bytes:
    from analysis import charts
    from survey.reporting import insights

    session = db.session()
    version = insights.data_version(session, sel)

    def render() -> bytes:  # the figures are read from their cache only when the chart is not cached
        figures = insights.cached("figures", sel, version, lambda: insights.figures(session, sel))
        data = insights.chart_data(name, figures, sel)
        return charts.render_chart(name, data, fmt, title=charts.chart_title(name, data))

    return insights.cached(f"chart-{name}-{fmt}", sel, version, render)


@bp.get("")
@roles_required(*VIEWERS)
def index():
    from analysis import charts
    from survey.reporting import insights

    sel = _selection(request.args)
    figures, _ = insights.cached_figures(db.session(), sel)
    session = db.session()
    pieces = {name: insights.chart_data(name, figures, sel) for name in charts.CHART_NAMES}
    tables = {name: insights.display_table(charts.chart_table(name, data)) for name, data in pieces.items()}
    headline, children, statuses = insights.overview(figures, sel)
    return render_template(
        "dashboard/index.html",
        sel=sel,
        pieces=pieces,
        tables=tables,
        charts=charts,
        headline=headline,
        children=children,
        statuses=statuses,
        months=insights.trend_months(sel.month)[::-1],
        questionnaires=catalog.current().ids(),
        agencies=insights.agency_choices(session, visible_agencies()),
        scoped=current_user.agency is not None,
    )


@bp.get("/charts/<name>.<fmt>")
@roles_required(*VIEWERS)
def chart(name: str, fmt: str):
    from analysis import charts

    if name not in charts.CHART_NAMES or fmt not in charts.FORMATS:
        abort(404)
    sel = _selection(request.args)
    body = _chart_bytes(name, fmt, sel)
    download = f"{name}-{sel.questionnaire}-{sel.agency or 'ALL'}-{sel.month}.{fmt}"
    response = send_file(
        io.BytesIO(body),
        mimetype=charts.MEDIA_TYPES[fmt],
        download_name=download,
        as_attachment=request.args.get("download") == "1",
    )
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/report/<month>.<fmt>")
@roles_required(*VIEWERS)
def report_pack(month: str, fmt: str):
    from survey.reporting import insights

    if fmt not in PACK_TYPES:
        abort(404)
    sel = _selection({**request.args.to_dict(), "month": month})
    figures, version = insights.cached_figures(db.session(), sel)
    body = insights.cached(f"pack-{fmt}", sel, version, lambda: insights.report_pack(db.session(), sel, fmt, figures))
    name = f"bao-cao-khao-sat-tai-quay-{sel.agency or 'ALL'}-{sel.questionnaire}-{sel.month}.{fmt}"
    return send_file(io.BytesIO(body), mimetype=PACK_TYPES[fmt], download_name=name, as_attachment=True)


def chart_url(name: str, fmt: str, sel: Selection, **extra) -> str:
    return url_for("dashboard.chart", name=name, fmt=fmt, **sel.query(), **extra)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["chart_url"] = chart_url
