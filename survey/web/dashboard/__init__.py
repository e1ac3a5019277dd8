"""The officials' dashboard: where each agency stands and its charts; the report pack in .packs."""

from __future__ import annotations

import hashlib
import io
import json
import time
from functools import partial
from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from survey import db
from survey.domain import catalog
from survey.reporting import store
from survey.web.access import roles_required
from survey.web.dashboard import packs, wording
from survey.web.dashboard.scope import VIEWERS, as_of, selection_or_404

if TYPE_CHECKING:
    from survey.reporting.insights import Selection

# The figures need pandas and the charts matplotlib: each view imports them when it runs, so that the
# app (and every command) starts without loading them.
bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
bp.register_blueprint(packs.bp)  # the report pack: /dashboard/report/...
RENDER_SECONDS = 20  # how long a worker waits for a chart another is drawing before drawing it too
VIEWED = "viewed:"  # the charts officials looked at lately, drawn ahead for each new snapshot


def _chart_tag(name: str, fmt: str, sel: Selection, version: str) -> str:
    """The chart's ETag and key in the shared store: its figures' snapshot, selection, format and language."""
    text = repr((version, sel, name, fmt, str(get_locale())))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _render_chart(name: str, fmt: str, sel: Selection, found: dict) -> bytes:
    from analysis import charts
    from analysis.wording import using
    from survey.reporting import insights

    with using(wording.current()) as words:
        figures = _figures(sel, found)
        data = insights.chart_data(name, figures, sel)
        note = _("Figures as of %(time)s", time=as_of(figures["taken_at"]))
        title = charts.chart_title(name, data)
        return charts.render_chart(name, data, fmt, title=title, footer=f"{words('footer')} · {note}")


def _figures(sel: Selection, found: dict) -> dict:
    """The selection's shared figures, with the questionnaire's texts in the user's language."""
    from survey.reporting import insights

    figures = insights.shared_figures(db.session(), sel, found)
    return insights.in_language(figures, sel, str(get_locale()), _("All agencies"))


def _shared(key: str, render) -> bytes:
    """A drawn chart or page from the shared store; drawn by one worker at a time when missing."""
    shared = store.current()
    body = shared.get(key)
    if body is not None:
        return body
    token = shared.acquire(key, RENDER_SECONDS)
    deadline = time.monotonic() + RENDER_SECONDS
    while token is None and time.monotonic() < deadline:  # another worker is drawing it
        time.sleep(0.05)
        body = shared.get(key)
        if body is not None:
            return body
        token = shared.acquire(key, RENDER_SECONDS)
    try:
        body = render()
        shared.put(key, body, current_app.config["CHART_SECONDS"])
        return body
    finally:
        if token is not None:
            shared.release(key, token)


@bp.get("")
@roles_required(*VIEWERS)
def index():
    from markupsafe import Markup

    from survey.reporting import insights, snapshot

    sel = selection_or_404(request.args)
    found = insights.shared_heads(db.session(), sel)
    scope = current_user.agency.code if current_user.agency else None
    tag = _page_tag(sel, snapshot.version(found), scope)
    body = _shared(f"page:{tag}", partial(_render_page_bytes, sel, found, scope))
    _note_viewed("page", "html", sel, scope)
    return render_template("dashboard/index.html", sel=sel, figures_html=Markup(body.decode()))


def _page_tag(sel: Selection, version: str, scope: str | None) -> str:
    """The key of a selection's figures as a page: snapshot, selection, language and the user's scope."""
    return _chart_tag("page", "html", sel, f"{version}:{scope}:{_today()}")  # "this month, up to" a day


def _render_page_bytes(sel: Selection, found: dict, scope: str | None) -> bytes:
    return _render_figures(sel, found, scope).encode()


def _render_figures(sel: Selection, found: dict, scope: str | None) -> str:
    """The page's figures for every user whose agency is scope (None: every agency)."""
    from analysis import charts
    from analysis.wording import using
    from survey.domain import agencies
    from survey.models import Agency
    from survey.reporting import insights

    session = db.session()
    with using(wording.current()):
        figures = _figures(sel, found)
        pieces = {name: insights.chart_data(name, figures, sel) for name in charts.CHART_NAMES}
        tables = {name: insights.display_table(charts.chart_table(name, data)) for name, data in pieces.items()}
        headline, children, statuses = insights.overview(figures, sel)
        root = session.scalar(select(Agency.id).where(Agency.code == scope)) if scope else None
        return render_template(
            "dashboard/_figures.html",
            sel=sel,
            pieces=pieces,
            tables=tables,
            charts=charts,
            headline=headline,
            tiles=insights.tiles(figures, sel),
            children=children,
            statuses=statuses,
            as_of=as_of(figures["taken_at"]),
            this_month=insights.current_month(),
            today=wording.day(_today()),
            months=insights.month_choices(sel.month),
            questionnaires=_questionnaires(),
            agencies=insights.agency_choices(session, agencies.visible_codes(session, root)),
            scoped=scope is not None,
            w=wording,
        )


def _today():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _questionnaires() -> list[tuple[str, str]]:
    """(id, title in the user's language) of each questionnaire, for the selector."""
    return [(qid, wording.questionnaire_title(qid)) for qid in catalog.current().ids()]


@bp.get("/charts/<name>.<fmt>")
@roles_required(*VIEWERS)
def chart(name: str, fmt: str):
    from analysis import charts
    from survey.reporting import insights, snapshot

    if name not in charts.CHART_NAMES or fmt not in charts.FORMATS:
        abort(404)
    sel = selection_or_404(request.args)
    found = insights.shared_heads(db.session(), sel)
    tag = _chart_tag(name, fmt, sel, snapshot.version(found))
    download = request.args.get("download") == "1"
    if request.if_none_match.contains(tag):
        response = current_app.response_class(status=304)
    else:
        body = _shared(f"chart:{tag}", lambda: _render_chart(name, fmt, sel, found))
        _note_viewed(name, fmt, sel)
        response = send_file(
            io.BytesIO(body),
            mimetype=charts.MEDIA_TYPES[fmt],
            download_name=f"{name}-{sel.questionnaire}-{sel.agency or 'ALL'}-{sel.month}.{fmt}",
            as_attachment=download,
            etag=False,
        )
    response.set_etag(tag)
    response.headers["Cache-Control"] = "private, no-cache"  # asked again each time: a 304 while unchanged
    return response


def _note_viewed(name: str, fmt: str, sel: Selection, scope: str | None = None) -> None:
    """Remember for a while that this chart (or page, for users of scope) is looked at, so that the next
    snapshot's copy is drawn ahead of the officials."""
    entry = {**sel.query(), "name": name, "fmt": fmt, "locale": str(get_locale()), "scope": scope}
    text = json.dumps(entry, sort_keys=True)
    key = VIEWED + hashlib.sha256(text.encode()).hexdigest()[:24]
    seconds = current_app.config["CHARTS_AHEAD_VIEWED_SECONDS"]
    now = time.monotonic()
    noted = current_app.extensions.setdefault("survey.viewed", {})  # this worker's last notes: spares writes
    if now - noted.get(key, -seconds) < seconds / 4:
        return  # this worker said so a moment ago: no write for each look
    if len(noted) > 4096:
        noted.clear()
    noted[key] = now
    store.current().put(key, text.encode(), seconds)


def draw_ahead(session, built: dict) -> int:
    """Draw the charts and pages looked at lately from the new generations (built: month → Head, not yet
    published), within CHARTS_AHEAD_SECONDS: run by the figures' builder (``flask figures watch``, at low
    priority) so that officials find them drawn. How many were drawn."""
    from flask_babel import force_locale

    from survey.reporting import insights, snapshot

    app = current_app._get_current_object()
    shared = store.current()
    deadline = time.monotonic() + app.config["CHARTS_AHEAD_SECONDS"]
    windows: dict[str, dict] = {}  # a selection's month → the heads of its year: one store read each
    drawn = 0
    for raw in shared.scan(VIEWED).values():
        if time.monotonic() > deadline:
            break
        entry = json.loads(raw)
        agency = None if entry["agency"] == "ALL" else entry["agency"]
        sel = insights.Selection(entry["month"], entry["questionnaire"], agency)
        if sel.month not in windows:
            months = insights.trend_months(sel.month)
            windows[sel.month] = {**snapshot.heads(months), **{m: h for m, h in built.items() if m in months}}
        found = windows[sel.month]
        if not built.keys() & found.keys():
            continue
        with app.test_request_context(), force_locale(entry["locale"]):
            version = snapshot.version(found)
            if entry["name"] == "page":
                key = f"page:{_page_tag(sel, version, entry['scope'])}"
                draw = partial(_render_page_bytes, sel, found, entry["scope"])
            else:
                key = f"chart:{_chart_tag(entry['name'], entry['fmt'], sel, version)}"
                draw = partial(_render_chart, entry["name"], entry["fmt"], sel, found)
            if shared.get(key) is None:
                _shared(key, draw)
                drawn += 1
    return drawn


def chart_url(name: str, fmt: str, sel: Selection, **extra) -> str:
    return url_for("dashboard.chart", name=name, fmt=fmt, **sel.query(), **extra)


def init_app(app) -> None:
    app.register_blueprint(bp)
    hooks = app.extensions.setdefault("survey.figures.before_publish", [])  # snapshot.BEFORE_PUBLISH
    if draw_ahead not in hooks:
        hooks.append(draw_ahead)  # run by the figures' watcher only
    app.jinja_env.globals["chart_url"] = chart_url
    app.jinja_env.globals["dashboard_wording"] = wording  # months and titles in the user's language
    app.extensions["report_pack_wording"] = wording.current  # reporting.packs.WORDING: packs not in Vietnamese


def preload() -> None:
    """Import the figures' and charts' libraries and draw one small chart (fonts found and loaded):
    done by a server's master before it forks its workers (gunicorn.conf.py)."""
    from analysis import charts
    from analysis.chart_style import figure_bytes, finish_figure, house_style, new_figure
    from survey.reporting import insights, snapshot  # noqa: F401

    with house_style():
        fig = new_figure((2.0, 1.0))
        fig.add_subplot().bar(["a"], [1.0])
        finish_figure(fig, "preload", footer="preload")
        for fmt in charts.FORMATS:
            figure_bytes(fig, fmt, "preload")
