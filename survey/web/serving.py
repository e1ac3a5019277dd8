"""How the app meets the network: proxies, compression, static files and security headers.

- Behind a reverse proxy (``PROXY_COUNT`` proxies), the client's scheme, host and address come from
  the proxy's X-Forwarded-* headers (Werkzeug's ProxyFix), so rate limits key on the real client and
  ``request.is_secure`` knows about HTTPS; but only on requests whose direct peer is one of
  ``TRUSTED_PROXIES``: anyone else reaching the server is taken as it arrived, its headers ignored.
- Responses are compressed (Flask-Compress: brotli, else gzip). Error responses are not, so a page
  reflecting what was sent never shares a compressed stream with a secret.
- Static files are addressed by their content: ``asset_url('staff.css')`` adds the file's hash, and such
  a URL is cached for a year; a changed file gets a new URL. The citizen page inlines its small style
  sheet instead (one request on a slow phone), and the Content-Security-Policy allows exactly that
  sheet by its hash, and no script: pages run none, except the counter screen's own static script
  and a report pack's status page (``script-src 'self'`` and ``connect-src 'self'`` there only:
  ``SCRIPTED``, ``SCRIPTED_PAGES``).
- Staff pages (dashboard, administration, counter, sign-in, API) are never stored by a browser or a
  proxy (``Cache-Control: no-store``): an official's figures, exports and keys do not stay on a shared
  computer after logging out. A view that chose its own caching keeps it (the dashboard's charts are
  ``private, no-cache`` with an ETag, answered 304 while unchanged); citizen pages and static files
  set their own.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import mimetypes
from functools import cache
from pathlib import Path

from flask import Flask, Response, abort, request, url_for
from flask_compress import Compress
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import safe_join

STATIC = Path(__file__).resolve().parent.parent / "static"
OWN_CACHING = ("citizen", "static")  # blueprints and endpoints that set their own Cache-Control
SCRIPTED = ("counter",)  # blueprints whose pages may run the site's own static scripts (nothing inline)
SCRIPTED_PAGES = ("dashboard.packs.status",)  # and single pages that may (a report pack's progress)
INLINE_STYLES = ("citizen.css",)  # style sheets inlined in a page's <style>, allowed by their hash
YEAR = 365 * 86400
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/csv",
    "text/plain",
    "application/json",
    "application/problem+json",
    "image/svg+xml",
]

compress = Compress()


@cache
def _asset(name: str) -> tuple[str, str]:
    """A static file's text and short content hash (read once per process)."""
    text = (STATIC / name).read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


def asset_url(name: str) -> str:
    """The URL of a static file, fingerprinted by its content (cached by browsers for a year)."""
    return url_for("static", filename=name, v=_asset(name)[1])


def inline_style(name: str) -> Markup:
    """A static style sheet's text, for a <style> element (its hash is in the CSP)."""
    return Markup(_asset(name)[0])


@cache
def content_security_policy(scripts: bool = False) -> str:
    """The policy of a page: own resources only, the inlined sheets by hash, no framing; no scripts, or with
    scripts the site's own static files only (and requests back to the site)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(_asset(name)[0].encode()).digest()).decode()}'"
        for name in INLINE_STYLES
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src 'self' {hashes}",
            "img-src 'self' data:",
            *(["script-src 'self'", "connect-src 'self'"] if scripts else []),
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def security_headers(response):
    """Add the security headers to every response (and long caching to fingerprinted assets)."""
    headers = response.headers
    scripted = (bool(request.blueprints) and request.blueprints[-1] in SCRIPTED) or request.endpoint in SCRIPTED_PAGES
    headers.setdefault("Content-Security-Policy", content_security_policy(scripts=scripted))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Survey links carry signatures and one-time tokens: never send them to another site.
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={YEAR}")
    return response


def staff_no_store(response):
    """Mark every response but citizen pages' and static files' no-store, unless its view chose otherwise."""
    owner = request.blueprints[-1] if request.blueprints else request.endpoint
    # send_file adds a bare no-cache to every download (exports, packs): that is no choice of ours.
    if owner not in OWN_CACHING and response.headers.get("Cache-Control", "no-cache") == "no-cache":
        response.headers["Cache-Control"] = "no-store"
    return response


def static_file(filename: str):
    """A static file, served from memory: cached for a year under its fingerprint, revalidated otherwise."""
    path = safe_join(str(STATIC), filename)
    if path is None or not Path(path).is_file():
        abort(404)
    text, digest = _asset(filename)
    response = Response(text, mimetype=mimetypes.guess_type(filename)[0] or "application/octet-stream")
    response.set_etag(digest)
    if request.args.get("v") == digest:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(setting: str | list | tuple) -> tuple[Network, ...]:
    """The networks of TRUSTED_PROXIES: comma-separated addresses or CIDR networks (a list in tests)."""
    items = setting.split(",") if isinstance(setting, str) else setting
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())
    except ValueError as exc:
        raise ValueError(f"TRUSTED_PROXIES: {exc}") from None


class TrustedProxyFix:
    """ProxyFix for requests from the trusted proxies only; any other peer's X-Forwarded-* are ignored."""

    def __init__(self, app, networks: tuple[Network, ...], count: int):
        self.app, self.networks = app, networks
        self.fixed = ProxyFix(app, x_for=count, x_proto=count, x_host=count, x_port=count)

    def trusts(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False  # no address (a Unix socket) or a malformed one: nothing to trust
        address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.1 is 10.0.0.1
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        app = self.fixed if self.trusts(environ.get("REMOTE_ADDR", "")) else self.app
        return app(environ, start_response)


def init_app(app: Flask) -> None:
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        networks = trusted_networks(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, networks, count)
    if app.config["BASE_URL"].startswith("https://"):  # cookies travel over HTTPS only
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    compress.init_app(app)
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=static_file)
    app.after_request(security_headers)
    app.after_request(staff_no_store)
    app.jinja_env.globals.update(asset_url=asset_url, inline_style=inline_style)
