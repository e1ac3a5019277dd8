"""QR codes of one-time links: the served SVG decodes back to exactly the link."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import zxingcpp
from PIL import Image
from sqlalchemy import select, update

from survey import db
from survey.models import Interaction, utcnow
from tests.helpers import create, make_key, send

SVG = "{http://www.w3.org/2000/svg}"
STEP = re.compile(r"([Mmh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?")


def rasterize(svg: bytes, pixels_per_module: int = 8) -> Image.Image:
    """Draw segno's SVG (one path of horizontal strokes, one module high) as a black-on-white image."""
    root = ET.fromstring(svg)
    path = root.find(f"{SVG}path")
    scale = float(re.search(r"scale\(([\d.]+)\)", path.get("transform", "scale(1)")).group(1))
    size = round(float(root.get("width")) / scale)
    modules = np.zeros((size, size), dtype=bool)
    x = y = 0.0
    for op, a, b in STEP.findall(path.get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:  # h: a stroke along the row whose centre line is y
            modules[int(y), int(x) : int(x + float(a))] = True
            x += float(a)
    picture = np.where(modules, 0, 255).astype(np.uint8).repeat(pixels_per_module, 0).repeat(pixels_per_module, 1)
    return Image.fromarray(picture, mode="L")


def test_qr_svg_decodes_to_the_token_url(app, client, counter):
    body = create(client, make_key(app)).get_json()
    reply = client.get(body["qr_svg_url"].removeprefix("http://survey.test"))
    assert reply.status_code == 200 and reply.mimetype == "image/svg+xml"
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.data.startswith(b"<svg") and b"<script" not in reply.data
    decoded = zxingcpp.read_barcode(rasterize(reply.data), formats=zxingcpp.BarcodeFormat.QRCode)
    assert decoded is not None and decoded.text == body["url"]


def test_qr_of_a_used_or_unknown_token(app, client, counter):
    body = create(client, make_key(app)).get_json()
    qr_path = body["qr_svg_url"].removeprefix("http://survey.test")
    assert send(client, body["url"].removeprefix("http://survey.test"), {"CC1": "5"}).status_code == 303
    gone = client.get(qr_path)
    assert gone.status_code == 410 and gone.mimetype == "text/html"
    assert client.get("/t/no-such-token/qr.svg").status_code == 404


def test_qr_of_an_expired_token(app, client, counter):
    body = create(client, make_key(app)).get_json()
    with app.app_context():
        db.session().execute(update(Interaction).values(expires_at=utcnow()))
        db.session().commit()
        assert db.session().scalar(select(Interaction.used_at)) is None
    assert client.get(body["qr_svg_url"].removeprefix("http://survey.test")).status_code == 410
