"""QR codes and printable posters of the counters (administrators, within their agencies)."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import segno
from flask import Blueprint, abort, request, send_file
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from survey import db
from survey.domain import signing
from survey.models import Agency, Counter
from survey.web.access import roles_required
from survey.web.admin.views import scope
from survey.web.qrcode import qr_png, qr_svg

if TYPE_CHECKING:  # numpy and matplotlib are loaded when a poster is drawn, not at start-up
    import numpy as np
    from matplotlib.figure import Figure

bp = Blueprint("posters", __name__, url_prefix="/admin")
SIZES = {"A4": (8.27, 11.69), "A5": (5.83, 8.27)}  # inches, portrait
INSTRUCTION = "Quét mã QR để đánh giá mức độ hài lòng về sự phục vụ của chúng tôi"
FOOTER = "Khảo sát tại quầy · không ghi danh · khoảng 1 phút"


@dataclass(frozen=True)
class Poster:
    agency: str
    counter: str
    code: str
    url: str


def qr_matrix(url: str, border: int = 4) -> np.ndarray:
    """The QR code of a URL as a 0/1 array with its quiet zone (1 = dark module)."""
    import numpy as np

    matrix = np.array([list(row) for row in segno.make_qr(url, error="m").matrix], dtype=np.uint8)
    return np.pad(matrix, border)


def _draw(fig: Figure, poster: Poster, width: float) -> None:
    import numpy as np

    scale = width / SIZES["A5"][0]  # type sizes follow the paper
    fig.text(
        0.5,
        0.93,
        "\n".join(textwrap.wrap(poster.agency, 34)),
        ha="center",
        va="top",
        fontsize=17 * scale,
        weight="bold",
    )
    fig.text(0.5, 0.84, "\n".join(textwrap.wrap(poster.counter, 40)), ha="center", va="top", fontsize=13 * scale)
    fig.text(
        0.5,
        0.76,
        "\n".join(textwrap.wrap(INSTRUCTION, 38)),
        ha="center",
        va="top",
        fontsize=13 * scale,
        color="#0b4f8a",
        weight="bold",
    )
    ax = fig.add_axes((0.17, 0.22, 0.66, 0.66 * width / fig.get_figheight()))
    # Each module drawn 20 pixels square with nearest-neighbour scaling, so printers keep edges sharp.
    ax.imshow(
        np.kron(qr_matrix(poster.url), np.ones((20, 20), dtype=np.uint8)),
        cmap="gray_r",
        interpolation="nearest",
        vmin=0,
        vmax=1,
    )
    ax.set_axis_off()
    fig.text(0.5, 0.17, poster.url, ha="center", va="top", fontsize=7.5 * scale, family="DejaVu Sans Mono")
    fig.text(0.5, 0.12, f"Mã quầy: {poster.code}", ha="center", va="top", fontsize=11 * scale)
    fig.text(0.5, 0.05, FOOTER, ha="center", va="bottom", fontsize=9 * scale, color="#3d4751")


def posters_pdf(posters: list[Poster], size: str = "A5") -> bytes:
    """One page per counter: names, the instruction, the QR code and its URL printed under it."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from analysis.chart_style import literal_text

    width, height = SIZES[size]
    out = io.BytesIO()
    with literal_text(), PdfPages(out, metadata={"Title": "Mã QR khảo sát tại quầy", "Subject": INSTRUCTION}) as pdf:
        for poster in posters:
            fig = Figure(figsize=(width, height))
            _draw(fig, poster, width)
            pdf.savefig(fig)
    return out.getvalue()


def _counter(code: str) -> Counter:
    counter = db.session().scalar(select(Counter).options(joinedload(Counter.agency)).where(Counter.code == code))
    if counter is None or not scope().allows(counter.agency.code):
        abort(404)
    return counter


def _poster(counter: Counter) -> Poster:
    return Poster(counter.agency.name, counter.name, counter.code, signing.counter_url(counter.code))


def _size() -> str:
    size = request.args.get("size", "A5").upper()
    if size not in SIZES:
        abort(404)
    return size


@bp.get("/counters/<code>/qr.<fmt>")
@roles_required("admin")
def counter_qr(code: str, fmt: str):
    counter = _counter(code)
    url = signing.counter_url(counter.code)
    if fmt == "svg":
        body, mimetype = qr_svg(url), "image/svg+xml"
    elif fmt == "png":
        body, mimetype = qr_png(url), "image/png"
    else:
        abort(404)
    return send_file(io.BytesIO(body), mimetype=mimetype, download_name=f"qr-{counter.code}.{fmt}")


@bp.get("/counters/<code>/poster.pdf")
@roles_required("admin")
def counter_poster(code: str):
    size = _size()
    body = posters_pdf([_poster(_counter(code))], size)
    return send_file(io.BytesIO(body), mimetype="application/pdf", download_name=f"poster-{code}-{size}.pdf")


@bp.get("/agencies/<code>/posters.pdf")
@roles_required("admin")
def agency_posters(code: str):
    size = _size()
    agency = db.session().scalar(select(Agency).where(Agency.code == code))
    if agency is None or not scope().allows(agency.code):
        abort(404)
    counters = (
        db.session()
        .scalars(
            select(Counter)
            .options(joinedload(Counter.agency))
            .where(Counter.agency_id == agency.id, Counter.active.is_(True))
            .order_by(Counter.code)
        )
        .all()
    )
    if not counters:
        abort(404)
    body = posters_pdf([_poster(c) for c in counters], size)
    return send_file(io.BytesIO(body), mimetype="application/pdf", download_name=f"posters-{code}-{size}.pdf")
