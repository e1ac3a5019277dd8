"""The words and number formats of the charts, their alt texts and data tables: Vietnamese by default.

``analysis`` knows no translation layer: a caller that shows charts in another language builds a
``Wording`` (its words by key, and how it writes numbers, percentages and months) and draws inside
``using(wording)``. Without one, every chart, alt text and table reads as the Vietnamese house style.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import pandas as pd


def vi_number(value, decimals: int = 1) -> str:
    """Write a number the Vietnamese way: 1.234,5 (blank for a missing value)."""
    if value is None or pd.isna(value):
        return ""
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vi_percent(value, decimals: int = 1) -> str:
    """Write a percentage the Vietnamese way: 87,4 %."""
    return f"{vi_number(value, decimals)} %" if value is not None and not pd.isna(value) else ""


def vi_month(period: str) -> str:
    """Write a 'YYYY-MM' month as on the charts: 10/2026."""
    year, month = str(period).split("-")
    return f"{month}/{year}"


# Every key a chart, alt text or table uses, with its Vietnamese text ({name}: a value put in).
VI: dict[str, str] = {
    "footer": "Nguồn: Khảo sát tại quầy — không phải Chỉ số SIPAS chính thức",
    "no_data": "Chưa có dữ liệu",
    "pct_label": "Tỷ lệ hài lòng (%)",
    "status.met": "Đạt",
    "status.not_met": "Chưa đạt",
    "status.inconclusive": "Chưa đủ cơ sở kết luận",
    "status.insufficient": "Quá ít phiếu",
    "target": "Mục tiêu {value}",
    "title.trend": "Xu hướng chỉ số hài lòng chung",
    "title.volume": "Số phiếu khảo sát theo tháng",
    "title.ranking": "Xếp hạng cơ quan theo chỉ số hài lòng chung",
    "title.elements": "Chỉ số hài lòng theo yếu tố",
    "title.criteria": "Tỷ lệ hài lòng theo tiêu chí",
    "title.heatmap": "Tỷ lệ hài lòng theo cơ quan và tiêu chí",
    "title.priorities": "Ưu tiên cải thiện theo mong đợi của người dân",
    "in_month": ", tháng {month}",
    "all_agencies": "Tất cả cơ quan",
    "interval": "Khoảng tin cậy 95 %",
    "overall": "Chỉ số hài lòng chung",
    "too_few": "Quá ít phiếu (n < {min_n})",
    "too_few_row": "{name} · quá ít phiếu (n = {n})",
    "ranking_axis": "Tỷ lệ hài lòng (%), khoảng tin cậy 95 %",
    "heatmap_axis": "Ô gạch chéo: quá ít câu trả lời (n < {min_n}); ô trống: không có câu trả lời",
    "priorities_axis": "Tỷ lệ người trả lời chọn “Nhiều” hoặc “Rất nhiều” (%)",
    "responses": "Số phiếu",
    "rate_legend": "Tỷ lệ phản hồi (% lượt mời có trả lời)",
    "rate_axis": "Tỷ lệ phản hồi (%)",
    "col.month": "Tháng",
    "col.responses": "Số phiếu",
    "col.issued": "Số lượt mời",
    "col.used": "Số lượt trả lời",
    "col.rate": "Tỷ lệ phản hồi (%)",
    "col.rank": "Hạng",
    "col.agency": "Cơ quan",
    "col.code": "Mã",
    "col.element": "Yếu tố",
    "col.text": "Nội dung",
    "col.answers": "Số câu trả lời",
    "col.order": "Thứ tự",
    "col.pct": "Tỷ lệ hài lòng (%)",
    "col.low": "KTC 95 %: cận dưới",
    "col.high": "KTC 95 %: cận trên",
    "col.chosen": "Tỷ lệ chọn “Nhiều”, “Rất nhiều” (%)",
    "alt.no_data": "{title}: chưa có dữ liệu.",
    "alt.volume": "Biểu đồ cột: số phiếu theo tháng từ {start} đến {end}, tổng {total} phiếu{rate}.",
    "alt.volume_rate": " và đường tỷ lệ phản hồi",
    "alt.trend": "Biểu đồ đường: chỉ số hài lòng chung theo tháng, từ {start} đến {end}, "
    "có khoảng tin cậy 95 % và mục tiêu.",
    "alt.value": "{label} ({value})",
    "alt.ranking": "Biểu đồ điểm: {count} cơ quan xếp hạng theo chỉ số hài lòng chung",
    "alt.ranking_ends": ", cao nhất {best}, thấp nhất {worst}",
    "alt.ranking_few": "; {few} cơ quan có ít hơn {min_n} phiếu, hiển thị màu xám, không xếp hạng",
    "alt.heatmap": "Bản đồ nhiệt: tỷ lệ hài lòng của {rows} cơ quan theo {columns} tiêu chí, "
    "từ {low} đến {high}; ô gạch chéo: quá ít câu trả lời.",
    "alt.heatmap_few": "Bản đồ nhiệt: {rows} cơ quan theo {columns} tiêu chí, "
    "không ô nào đủ câu trả lời để hiển thị; ô gạch chéo: quá ít câu trả lời.",
    "alt.priorities": "Biểu đồ thanh: {count} ưu tiên cải thiện, được chọn nhiều nhất: {best}.",
    "alt.elements": "Biểu đồ cột: tỷ lệ hài lòng của {count} yếu tố, cao nhất {best}, thấp nhất {worst}.",
    "alt.criteria": "Biểu đồ thanh: tỷ lệ hài lòng của {count} tiêu chí, cao nhất {best}, thấp nhất {worst}.",
}


@dataclass(frozen=True)
class Wording:
    """Words by key (missing keys fall back to Vietnamese) and how numbers, percentages and months are written."""

    words: Mapping[str, str]
    number: Callable[..., str] = vi_number
    percent: Callable[..., str] = vi_percent
    month: Callable[[str], str] = vi_month

    def __call__(self, key: str, **values) -> str:
        text = self.words.get(key) or VI[key]
        return text.format(**values) if values else text


VIETNAMESE = Wording(VI)
_current: ContextVar[Wording] = ContextVar("wording", default=VIETNAMESE)


def current() -> Wording:
    """The wording charts are drawn with now."""
    return _current.get()


@contextmanager
def using(wording: Wording | None) -> Iterator[Wording]:
    """Draw and describe charts with this wording (None: keep the current one) inside the block."""
    if wording is None:
        yield current()
        return
    token = _current.set(wording)
    try:
        yield wording
    finally:
        _current.reset(token)
