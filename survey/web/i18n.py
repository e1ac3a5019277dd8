"""Translations: Vietnamese by default, English on request (?lang=en, remembered in a cookie)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, request, url_for
from flask_babel import get_locale

from survey.extensions import babel

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANG_COOKIE = "lang"
# The query parameters pages read: a link to the same page keeps these and nothing else (never url_for's
# own _method, _external, _scheme or _anchor, which a query string could forge, nor the route's values).
PAGE_PARAMETERS = ("month", "questionnaire", "agency", "kind", "size", "next", "s", "q", "lang")


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in languages:
            return candidate
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_locale(response):
    """Keep an explicit ?lang= choice for the following pages."""
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"] and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            samesite="Lax",
            httponly=True,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def compile_catalogs(directory: Path = TRANSLATIONS) -> None:
    """Compile each messages.po whose messages.mo is missing or older."""
    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        with mo.open("wb") as fh:
            write_mo(fh, catalog)


def page_url(**changes: str) -> str:
    """This page's URL with the known query parameters it was given (PAGE_PARAMETERS), and changes."""
    kept = {name: request.args[name] for name in PAGE_PARAMETERS if name in request.args}
    return url_for(request.endpoint, **{**kept, **(request.view_args or {}), **changes})


def template_helpers() -> dict:
    def lang_url(lang: str) -> str:
        return page_url(lang=lang) if request.endpoint else f"?lang={lang}"

    return {"current_locale": str(get_locale()), "lang_url": lang_url}


def init_app(app: Flask) -> None:
    try:
        compile_catalogs()
    except OSError as exc:  # a read-only install ships its compiled catalogs
        app.logger.warning("Translations not compiled: %s", exc)
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(remember_locale)
    app.context_processor(template_helpers)
