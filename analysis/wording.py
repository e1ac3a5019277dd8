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
    # The report pack (PDF pages and workbook sheets).
    "language": "vi",
    "date": "%d/%m/%Y",
    "pack.title": "Báo cáo kết quả Khảo sát tại quầy",
    "pack.pdf_title": "{title} — {agency}, tháng {month}",
    "pack.page": "Trang {number}/{total}",
    "pack.interval": "KTC 95 %",
    "pack.sheet.trend": "Xu hướng",
    "pack.sheet.volume": "Số phiếu",
    "pack.sheet.summary": "Tổng hợp cơ quan",
    "pack.summary": "Tổng hợp theo cơ quan",
    "pack.detail": "Kết quả chi tiết — {name}",
    "pack.criteria_list": "Danh mục yếu tố, tiêu chí và ưu tiên cải thiện",
    "pack.method": "Ghi chú phương pháp",
    "pack.month": "Tháng {month}",
    "pack.questionnaire": "Bảng hỏi: {name}",
    "pack.generated": "Ngày lập báo cáo: {date}",
    "pack.disclaimer": "Lưu ý: đây là kết quả Khảo sát tại quầy — người dân tự nguyện trả lời bằng mã QR tại Bộ phận "
    "một cửa, không phải mẫu chọn ngẫu nhiên. Kết quả không phải Chỉ số hài lòng về sự phục vụ hành chính (SIPAS) "
    "chính thức và không thay thế chỉ số đó.",
    "pack.status_legend": "Đạt: cận dưới khoảng tin cậy 95 % không thấp hơn mục tiêu. Chưa đạt: cận trên thấp hơn "
    "mục tiêu. Chưa đủ cơ sở kết luận: mục tiêu nằm trong khoảng tin cậy. Quá ít phiếu: ít hơn {min_n} phiếu.",
    "pack.headline": "Kết quả chung — {agency}, tháng {month}",
    "pack.overall": "Chỉ số hài lòng chung (Khảo sát tại quầy)",
    "pack.interval_line": "Khoảng tin cậy 95 %: {low} – {high}",
    "pack.responses_line": "Số phiếu: {n}",
    "pack.change_line": "So với tháng trước: {change} điểm",
    "pack.no_change": "Chưa có số liệu tháng trước",
    "pack.rate_line": "Tỷ lệ phản hồi (liên kết dùng một lần): {rate}",
    "pack.by_element": "Theo yếu tố",
    "pack.element_figures": "{pct}   (KTC 95 %: {low} – {high})",
    "pack.formula.criterion": "• Tiêu chí: S = 100 × số câu trả lời thuộc nhóm hài lòng của thang đo (4–5 trên thang "
    "5 mức) / số câu trả lời trên thang đo; “Không có ý kiến” không được tính.",
    "pack.formula.element": "• Yếu tố: trung bình tỷ lệ của các tiêu chí có ít nhất một câu trả lời. Chỉ số chung: "
    "trung bình các yếu tố. Số phiếu (n) của yếu tố và chỉ số chung: số phiếu có ít nhất một tiêu chí được trả lời.",
    "pack.formula.priority": "• Ưu tiên cải thiện: tỷ lệ câu trả lời “Nhiều” hoặc “Rất nhiều”, xếp từ cao xuống thấp.",
    "pack.interval.wilson": "• Tiêu chí và ưu tiên cải thiện: khoảng Wilson của tỷ lệ.",
    "pack.interval.design": "• Yếu tố và chỉ số chung: mỗi người trả lời có điểm y = tỷ lệ tiêu chí họ đã trả lời "
    "trong phạm vi được đánh giá hài lòng; sai số chuẩn se = độ lệch chuẩn mẫu của y / √n; cỡ mẫu hiệu dụng "
    "n_eff = p(1 − p) / se² (bằng n khi se = 0 hoặc p bằng 0 hay 1), giữ trong khoảng từ 1 đến số câu "
    "trả lời; khoảng Wilson tính tại n_eff. Đây là hiệu chỉnh hiệu ứng thiết kế theo tinh thần Korn & "
    "Graubard (1998), vì các câu trả lời của cùng một người thường giống nhau.",
    "pack.target_item": "• ≥ {value}: {description} (nguồn: {source})",
    "pack.period": "Kỳ báo cáo: tháng {month}, theo giờ Việt Nam.",
    "pack.grey": "Cơ quan có ít hơn {min_n} phiếu được hiển thị màu xám và không được xếp hạng.",
    "pack.questionnaire_item": "• Bảng hỏi {name}",
    "pack.section.source": "Nguồn số liệu",
    "pack.section.formulas": "Công thức",
    "pack.section.intervals": "Khoảng tin cậy 95 %",
    "pack.section.statuses": "So sánh với mục tiêu",
    "pack.section.targets": "Mục tiêu và văn bản làm căn cứ",
    "pack.no_targets": "Không có mục tiêu áp dụng cho kỳ này.",
    "col.level": "Cấp",
    "col.share": "Tỷ lệ (%)",
    "col.overall_pct": "Chỉ số chung (%)",
    "col.change": "Thay đổi (điểm)",
    "level.overall": "Chung",
    "level.element": "Yếu tố",
    "level.criterion": "Tiêu chí",
    "level.priority": "Ưu tiên",
    "notes.sheet": "Ghi chú",
    "notes.title": "Kết quả Khảo sát tại quầy — không phải Chỉ số SIPAS chính thức",
    "notes.disclaimer": "Đây là kết quả Khảo sát tại quầy (người dân tự nguyện trả lời tại Bộ phận một cửa), "
    "không phải Chỉ số hài lòng về sự phục vụ hành chính (SIPAS) chính thức.",
    "notes.period_key": "Kỳ báo cáo",
    "notes.period": "Tháng {period} (theo giờ Việt Nam)",
    "notes.as_of_key": "Số liệu",
    "notes.questionnaires_key": "Bảng hỏi",
    "notes.version": "{qid}, phiên bản {label}",
    "notes.method_key": "Phương pháp",
    "notes.method.criterion": "Tiêu chí và ưu tiên cải thiện: tỷ lệ câu trả lời thuộc nhóm “hài lòng” của thang đo "
    "(4–5 trên thang 5 mức; “Nhiều”, “Rất nhiều” với ưu tiên) trên số câu trả lời hợp lệ, không tính “Không có ý "
    "kiến”; khoảng tin cậy 95 % Wilson.",
    "notes.method.element": "Yếu tố: trung bình tỷ lệ của các tiêu chí; chỉ số chung: trung bình các yếu tố; khoảng "
    "tin cậy 95 % Wilson tại cỡ mẫu hiệu dụng suy ra từ sai số chuẩn của điểm từng người trả lời.",
    "notes.targets_key": "Mục tiêu",
    "notes.target": "≥ {value:g} %: {description} (nguồn: {source})",
    "notes.status_key": "Trạng thái",
    "notes.status": "met: đạt (cận dưới khoảng tin cậy ≥ mục tiêu); not_met: chưa đạt (cận trên < mục tiêu); "
    "inconclusive: chưa đủ cơ sở kết luận; insufficient: ít hơn {min_n} câu trả lời.",
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
