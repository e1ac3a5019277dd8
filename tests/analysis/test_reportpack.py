import io
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.counting import count_answers
from analysis.indices import empty_table, monthly_table
from analysis.output import report_notes
from analysis.report_pages import Column, table_pages, text_pages
from analysis.report_tables import agency_blocks, agency_detail, agency_summary
from analysis.reportpack import build_report_pdf, build_report_xlsx
from analysis.targets import read_targets
from analysis.trend import trend_table, volume_table
from analysis.wording import Wording, using
from tests.analysis.helpers import DASHBOARD_MONTHS, agencies, dashboard_responses, mini_catalog, tidy
from tests.analysis.pdf_reading import info_entry, mapped_characters, page_count

MONTH = DASHBOARD_MONTHS[-1]
CHART_PAGES = 6  # trend, ranking, elements, criteria, heatmap, priorities (+ volume when given)


@pytest.fixture(scope="module")
def inputs():
    catalog = mini_catalog()
    counts, scores = count_answers(tidy(dashboard_responses()), catalog)
    table = monthly_table(
        counts, scores, catalog, agencies(), read_targets(), MONTH, previous_counts=counts, previous_scores=scores
    )
    trend = trend_table(counts, scores, catalog, agencies(), read_targets(), DASHBOARD_MONTHS, questionnaire="mini")
    notes = report_notes(table, catalog, read_targets(), MONTH)
    return {"table": table, "trend": trend, "notes": notes, "catalog": catalog, "scores": scores}


@pytest.fixture(scope="module")
def report(inputs):
    volume = volume_table(inputs["scores"], DASHBOARD_MONTHS)
    return build_report_pdf(
        inputs["table"],
        inputs["trend"],
        inputs["notes"],
        agency_name="Tất cả cơ quan",
        month=MONTH,
        agencies=agencies(),
        catalog=inputs["catalog"],
        volume=volume,
        generated=date(2026, 4, 2),
    )


def test_report_pdf_pages_and_metadata(report):
    assert report.startswith(b"%PDF")
    blocks = 4  # ALL, HN, W1, W2: one page of figures each
    # cover, headline, charts (+ volume), summary, one per agency, list of criteria, method note
    assert page_count(report) == 2 + CHART_PAGES + 1 + 1 + blocks + 1 + 1
    assert info_entry(report, "Title") == "Báo cáo kết quả Khảo sát tại quầy — Tất cả cơ quan, tháng 03/2026"
    assert "không phải Chỉ số SIPAS chính thức" in info_entry(report, "Subject")


def test_report_pdf_text_is_embedded_vietnamese(report):
    characters = mapped_characters(report)
    for text in (
        "Báo cáo kết quả Khảo sát tại quầy",
        "không phải Chỉ số hài lòng về sự phục vụ hành chính (SIPAS) chính thức",
        "Ghi chú phương pháp",
        "Quyết định 399/QĐ-UBND",
        "Mục tiêu 86 %: Chưa đủ cơ sở kết luận",
        "Trang 16/16",
    ):
        assert set(text) <= characters, set(text) - characters


def test_report_without_details_or_data(inputs):
    options = {"agency_name": "Phường Hai", "month": MONTH, "details": False}
    short = build_report_pdf(inputs["table"], inputs["trend"], inputs["notes"], **options)
    assert page_count(short) == 2 + CHART_PAGES + 1 + 1 + 1
    empty = build_report_pdf(empty_table(["status_86"]), None, {"period": MONTH}, **options)
    assert page_count(empty) == 2 + CHART_PAGES + 1  # cover, headline "Chưa có dữ liệu", empty charts, method


def test_report_xlsx(inputs):
    volume = volume_table(inputs["scores"], DASHBOARD_MONTHS)
    data = build_report_xlsx(inputs["table"], inputs["trend"], inputs["notes"], volume=volume)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [
        "Ghi chú",
        "overall",
        "element",
        "criterion",
        "priority",
        "Xu hướng",
        "Số phiếu",
        "Tổng hợp cơ quan",
    ]
    trend = list(book["Xu hướng"].values)
    assert trend[0][:6] == ("period", "questionnaire", "version", "agency_code", "agency_name", "n")
    assert [row[0] for row in trend[1:]] == DASHBOARD_MONTHS
    assert book["Xu hướng"].cell(row=2, column=7).number_format == "0.00"
    summary = list(book["Tổng hợp cơ quan"].values)
    assert summary[0][:3] == ("Cơ quan", "Số phiếu", "Chỉ số chung (%)")
    assert [row[0] for row in summary[1:]] == ["Tất cả cơ quan", "Hà Nội", "Phường Một", "Phường Hai"]
    assert [row[0] for row in book["Số phiếu"].values][1:] == DASHBOARD_MONTHS
    notes = " ".join(str(c.value) for row in book["Ghi chú"].iter_rows() for c in row if c.value)
    assert "Khảo sát tại quầy" in notes


def test_agency_summary(inputs):
    summary = agency_summary(inputs["table"], read_targets())
    assert list(summary.columns) == [
        "Cơ quan",
        "Số phiếu",
        "Chỉ số chung (%)",
        "KTC 95 %: cận dưới",
        "KTC 95 %: cận trên",
        "Mục tiêu 86 %",
        "Mục tiêu 90 %",
        "Thay đổi (điểm)",
        "A (%)",
        "B (%)",
    ]
    ward = summary.iloc[3]
    assert (ward["Cơ quan"], ward["Số phiếu"], ward["Mục tiêu 86 %"]) == ("Phường Hai", 12, "Quá ít phiếu")
    table = inputs["table"]
    element = table[(table["agency_code"] == "W2") & (table["code"] == "B")]["pct_satisfied"].iloc[0]
    assert ward["B (%)"] == element


def test_agency_detail(inputs):
    detail = agency_detail(inputs["table"], "W1", read_targets())
    levels = ["Chung", "Yếu tố", "Yếu tố", "Tiêu chí", "Tiêu chí", "Tiêu chí", "Ưu tiên", "Ưu tiên"]
    assert list(detail["Cấp"]) == levels
    assert list(detail["Mã"])[:4] == ["OVERALL", "A", "B", "A1"]
    assert detail["Mục tiêu 86 %"].iloc[-1] == ""  # priorities have no target
    assert agency_blocks(inputs["table"]) == [
        ("ALL", "Tất cả cơ quan"),
        ("HN", "Hà Nội"),
        ("W1", "Phường Một"),
        ("W2", "Phường Hai"),
    ]


def test_long_tables_and_texts_run_over_pages():
    frame = pd.DataFrame({"Mã": [f"C{i}" for i in range(100)], "Nội dung": ["Tiêu chí dài " * 3] * 100})
    columns = [Column("Mã", 0.1), Column("Nội dung", 0.9)]
    pages = table_pages("Bảng", frame, columns)
    assert len(pages) == 3
    titles = [page().texts[0].get_text() for page in pages]
    assert titles == ["Bảng (1/3)", "Bảng (2/3)", "Bảng (3/3)"]
    assert len(table_pages("Bảng", frame.head(5), columns)) == 1
    sections = [(f"Mục {i}", ["Một đoạn văn khá dài. " * 20] * 3) for i in range(6)]
    assert len(text_pages("Ghi chú", sections)) == 2


def test_many_agencies_get_one_detail_page_unless_asked(inputs, monkeypatch):
    from analysis import reportpack

    monkeypatch.setattr(reportpack, "MAX_DETAIL_BLOCKS", 3)
    options = {"agency_name": "Tất cả cơ quan", "month": MONTH}
    focus_only = build_report_pdf(inputs["table"], inputs["trend"], inputs["notes"], **options)
    assert page_count(focus_only) == 2 + CHART_PAGES + 1 + 1 + 1 + 1
    forced = build_report_pdf(inputs["table"], inputs["trend"], inputs["notes"], details=True, **options)
    assert page_count(forced) == 2 + CHART_PAGES + 1 + 4 + 1 + 1


def test_the_pack_says_when_its_figures_were_taken_and_reports_its_pages(inputs):
    notes = replace(inputs["notes"], as_of="Số liệu cập nhật lúc 14:32 04/12/2026")
    pages = []
    options = {"agency_name": "Phường Hai", "month": MONTH, "details": False, "progress": lambda *d: pages.append(d)}
    pdf = build_report_pdf(inputs["table"], inputs["trend"], notes, **options)
    total = page_count(pdf)
    assert pages == [(n, total) for n in range(1, total + 1)]
    assert set("Số liệu cập nhật lúc 14:32 04/12/2026") <= mapped_characters(pdf)
    book = load_workbook(io.BytesIO(build_report_xlsx(inputs["table"], inputs["trend"], notes)))
    assert ("Số liệu", "Số liệu cập nhật lúc 14:32 04/12/2026") in [row[:2] for row in book["Ghi chú"].values]
    plain = load_workbook(io.BytesIO(build_report_xlsx(inputs["table"], inputs["trend"], inputs["notes"])))
    assert "Số liệu" not in [row[0] for row in plain["Ghi chú"].values]


def test_the_pack_is_written_in_the_current_wording(inputs):
    words = {
        "notes.sheet": "Notes",
        "pack.sheet.trend": "Trend",
        "pack.sheet.volume": "Responses",
        "pack.sheet.summary": "Agencies",
        "col.agency": "Agency",
        "col.responses": "Responses",
        "col.overall_pct": "Overall (%)",
        "target": "Target {value}",
        "status.met": "Met",
        "status.not_met": "Not met",
        "status.inconclusive": "Not yet conclusive",
        "status.insufficient": "Too few answers",
        "pack.title": "Counter survey report",
        "pack.pdf_title": "{title} — {agency}, {month}",
    }
    english = Wording(words, number=lambda v, d=1: f"{float(v):,.{d}f}", month=lambda p: f"month {p}")
    with using(english):
        data = build_report_xlsx(inputs["table"], inputs["trend"], inputs["notes"])
        pdf = build_report_pdf(inputs["table"], None, inputs["notes"], agency_name="All", month=MONTH, details=False)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "Notes" and book.sheetnames[-2:] == ["Trend", "Agencies"]
    summary = list(book["Agencies"].values)
    assert summary[0][:3] == ("Agency", "Responses", "Overall (%)")
    statuses = {row[j] for row in summary[1:] for j, h in enumerate(summary[0]) if str(h).startswith("Target ")}
    assert statuses and statuses <= {"Met", "Not met", "Not yet conclusive", "Too few answers"}
    assert summary[0][3] == "KTC 95 %: cận dưới", "a key the wording lacks falls back to Vietnamese"
    assert info_entry(pdf, "Title") == f"Counter survey report — All, month {MONTH}"
    after = load_workbook(io.BytesIO(build_report_xlsx(inputs["table"], inputs["trend"], inputs["notes"])))
    assert after.sheetnames[0] == "Ghi chú", "Vietnamese again outside the block"
