"""The report pack's own pages: the cover, the headline and the method note (Vietnamese)."""

from __future__ import annotations

import textwrap
from datetime import date

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analysis.chart_style import MAIN, MUTED, NO_DATA, OKABE_ITO, month_label, vi_number, vi_percent
from analysis.dashboard import first_pool
from analysis.output import ReportNotes
from analysis.report_pages import MARGIN, PAGE_SIZE, blank_page

STATUS_COLOURS = {
    "met": OKABE_ITO["green"],
    "not_met": OKABE_ITO["vermillion"],
    "inconclusive": OKABE_ITO["orange"],
    "insufficient": MUTED,
}
DISCLAIMER = (
    "Lưu ý: đây là kết quả Khảo sát tại quầy — người dân tự nguyện trả lời bằng mã QR tại Bộ phận một cửa, "
    "không phải mẫu chọn ngẫu nhiên. Kết quả không phải Chỉ số hài lòng về sự phục vụ hành chính (SIPAS) "
    "chính thức và không thay thế chỉ số đó."
)
STATUS_LEGEND = (
    "Đạt: cận dưới khoảng tin cậy 95 % không thấp hơn mục tiêu. Chưa đạt: cận trên thấp hơn mục tiêu. "
    "Chưa đủ cơ sở kết luận: mục tiêu nằm trong khoảng tin cậy. Quá ít phiếu: ít hơn {min_n} phiếu."
)


def _at(fig: Figure, x: float, y: float, text: str, **style) -> None:
    """Write text at x inches from the left and y inches from the top."""
    fig.text(x / PAGE_SIZE[0], 1 - y / PAGE_SIZE[1], text, va="top", **style)


def cover_page(title: str, month: str, agency_name: str, notes: ReportNotes, generated: date) -> Figure:
    """Draw the cover: title, month, agency, questionnaires, the not-SIPAS notice and the date."""
    fig = blank_page()
    _at(fig, MARGIN, 1.6, title, fontsize=28, fontweight="bold", color=MAIN)
    _at(fig, MARGIN, 2.5, f"Tháng {month_label(month)}", fontsize=18)
    _at(fig, MARGIN, 3.0, agency_name, fontsize=18, fontweight="bold")
    for i, questionnaire in enumerate(notes.questionnaires[:4]):
        _at(fig, MARGIN, 3.7 + 0.3 * i, f"Bảng hỏi: {questionnaire}", fontsize=11)
    box_top, lines = 5.0, textwrap.wrap(DISCLAIMER, 120)
    height = 0.3 + 0.24 * len(lines)
    fig.add_artist(
        Rectangle(
            (MARGIN / PAGE_SIZE[0], 1 - (box_top + height) / PAGE_SIZE[1]),
            1 - 2 * MARGIN / PAGE_SIZE[0],
            height / PAGE_SIZE[1],
            transform=fig.transFigure,
            facecolor="#FFF4E0",
            edgecolor=OKABE_ITO["orange"],
        )
    )
    _at(fig, MARGIN + 0.2, box_top + 0.15, "\n".join(lines), fontsize=11, linespacing=1.5)
    _at(fig, MARGIN, 7.0, f"Ngày lập báo cáo: {generated:%d/%m/%Y}", fontsize=11, color=MUTED)
    if notes.as_of:
        _at(fig, MARGIN, 7.3, notes.as_of, fontsize=11, color=MUTED)
    return fig


def _headline_figures(fig: Figure, summary: dict) -> None:
    """The left column: the index, its interval, n, change, response rate and each target's status."""
    _at(fig, MARGIN, 1.4, "Chỉ số hài lòng chung (Khảo sát tại quầy)", fontsize=13)
    _at(fig, MARGIN, 1.8, vi_percent(summary["pct_satisfied"]), fontsize=54, fontweight="bold", color=MAIN)
    low, high = vi_number(summary["ci_low"]), vi_percent(summary["ci_high"])
    lines = [f"Khoảng tin cậy 95 %: {low} – {high}", f"Số phiếu: {vi_number(summary['n'], 0)}"]
    change = summary.get("change")
    sign = "+" if change is not None and change > 0 else ""
    lines.append(
        f"So với tháng trước: {sign}{vi_number(change)} điểm" if change is not None else "Chưa có số liệu tháng trước"
    )
    if summary.get("response_rate") is not None:
        lines.append(f"Tỷ lệ phản hồi (liên kết dùng một lần): {vi_percent(summary['response_rate'])}")
    for i, line in enumerate(lines):
        _at(fig, MARGIN, 3.0 + 0.36 * i, line, fontsize=13)
    top = 3.2 + 0.36 * len(lines)
    for i, status in enumerate(summary["statuses"]):
        y = top + 0.42 * i
        fig.add_artist(
            Rectangle(
                (MARGIN / PAGE_SIZE[0], 1 - (y + 0.25) / PAGE_SIZE[1]),
                0.22 / PAGE_SIZE[0],
                0.22 / PAGE_SIZE[1],
                transform=fig.transFigure,
                color=STATUS_COLOURS.get(status["status"], MUTED),
            )
        )
        _at(fig, MARGIN + 0.35, y, f"{status['label']}: {status['text']}", fontsize=14, fontweight="bold")


def _element_lines(fig: Figure, table: pd.DataFrame, agency_code: str) -> None:
    """The right column: each element's share and interval."""
    rows = first_pool(table)
    rows = rows[(rows["agency_code"] == agency_code) & (rows["level"] == "element")]
    left = PAGE_SIZE[0] / 2 + 0.3
    _at(fig, left, 1.4, "Theo yếu tố", fontsize=13, fontweight="bold")
    for i, row in enumerate(rows.itertuples(index=False)):
        _at(fig, left, 1.9 + 0.62 * i, textwrap.shorten(row.label, 60, placeholder=" …"), fontsize=11)
        figures = f"{vi_percent(row.pct_satisfied)}   (KTC 95 %: {vi_number(row.ci_low)} – {vi_percent(row.ci_high)})"
        _at(fig, left, 2.15 + 0.62 * i, figures, fontsize=11, fontweight="bold", color=MAIN)


def headline_page(summary: dict | None, table: pd.DataFrame, agency_name: str, month: str, min_n: int = 30) -> Figure:
    """Draw the headline: the overall index with its interval and status per target, then the elements."""
    fig = blank_page(f"Kết quả chung — {agency_name}, tháng {month_label(month)}")
    if summary is None:
        _at(fig, MARGIN, 3.5, NO_DATA, fontsize=28, color=MUTED)
        return fig
    _headline_figures(fig, summary)
    _element_lines(fig, table, summary["agency_code"])
    _at(fig, MARGIN, 7.0, "\n".join(textwrap.wrap(STATUS_LEGEND.format(min_n=min_n), 160)), fontsize=9, color=MUTED)
    return fig


FORMULAS = (
    "• Tiêu chí: S = 100 × số câu trả lời thuộc nhóm hài lòng của thang đo (4–5 trên thang 5 mức) / số câu trả lời "
    "trên thang đo; “Không có ý kiến” không được tính.",
    "• Yếu tố: trung bình tỷ lệ của các tiêu chí có ít nhất một câu trả lời. Chỉ số chung: trung bình các yếu tố. "
    "Số phiếu (n) của yếu tố và chỉ số chung: số phiếu có ít nhất một tiêu chí được trả lời.",
    "• Ưu tiên cải thiện: tỷ lệ câu trả lời “Nhiều” hoặc “Rất nhiều”, xếp từ cao xuống thấp.",
)
INTERVALS = (
    "• Tiêu chí và ưu tiên cải thiện: khoảng Wilson của tỷ lệ.",
    "• Yếu tố và chỉ số chung: mỗi người trả lời có điểm y = tỷ lệ tiêu chí họ đã trả lời trong phạm vi "
    "được đánh giá hài lòng; sai số chuẩn se = độ lệch chuẩn mẫu của y / √n; cỡ mẫu hiệu dụng "
    "n_eff = p(1 − p) / se² (bằng n khi se = 0 hoặc p bằng 0 hay 1), giữ trong khoảng từ 1 đến số câu "
    "trả lời; khoảng Wilson tính tại n_eff. Đây là hiệu chỉnh hiệu ứng thiết kế theo tinh thần Korn & "
    "Graubard (1998), vì các câu trả lời của cùng một người thường giống nhau.",
)


def method_sections(notes: ReportNotes) -> list[tuple[str, list[str]]]:
    """The method note: the counter survey, formulas, intervals, status rules, targets and their sources."""
    targets = [f"• ≥ {vi_number(t['value'], 0)} %: {t['description']} (nguồn: {t['source']})" for t in notes.targets]
    source = [DISCLAIMER, f"Kỳ báo cáo: tháng {month_label(notes.period)}, theo giờ Việt Nam."]
    statuses = [
        STATUS_LEGEND.format(min_n=notes.min_n),
        f"Cơ quan có ít hơn {notes.min_n} phiếu được hiển thị màu xám và không được xếp hạng.",
    ]
    return [
        ("Nguồn số liệu", [*source, *(f"• Bảng hỏi {q}" for q in notes.questionnaires)]),
        ("Công thức", list(FORMULAS)),
        ("Khoảng tin cậy 95 %", list(INTERVALS)),
        ("So sánh với mục tiêu", statuses),
        ("Mục tiêu và văn bản làm căn cứ", targets or ["Không có mục tiêu áp dụng cho kỳ này."]),
    ]
