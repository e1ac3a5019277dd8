"""QR codes of survey links, drawn by segno."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> bytes:
    """The QR code of a URL as a standalone SVG (quiet zone included, 4 units per module)."""
    out = io.BytesIO()
    # make_qr, not make: a short URL could otherwise come out as a Micro QR, which phones do not read.
    segno.make_qr(url, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return out.getvalue()


def qr_svg_scalable(url: str, title: str) -> str:
    """The QR code of a URL as an inline SVG that fills its box: a viewBox and no fixed size, and a title."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(
        out, kind="svg", scale=4, xmldecl=False, svgns=True, omitsize=True, title=title, svgclass="qr-code"
    )
    # role="img": the title is then read as the picture's name.
    return out.getvalue().decode().replace("<svg ", '<svg role="img" ', 1)


def qr_png(url: str, scale: int = 10) -> bytes:
    """The QR code of a URL as a PNG, scale pixels per module."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
