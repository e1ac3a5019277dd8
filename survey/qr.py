"""QR codes of one-time survey links, for the one-stop software to print on a receipt or show on a screen."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, abort

from survey import db, responses, signing

bp = Blueprint("qr", __name__)


def qr_svg(url: str) -> bytes:
    """The QR code of a URL as a standalone SVG (quiet zone included, 4 units per module)."""
    out = io.BytesIO()
    # make_qr, not make: a short URL could otherwise come out as a Micro QR, which phones do not read.
    segno.make_qr(url, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return out.getvalue()


@bp.get("/t/<token>/qr.svg")
def token_qr(token: str):
    interaction = responses.interaction_by_token(db.session(), token)
    if interaction is None:
        abort(404)
    if not responses.is_open(interaction):
        abort(410)
    svg = qr_svg(signing.external_url("citizen.token_form", token=token))
    # no-store: once the token is used the image must give way to 410, not linger in a cache.
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
