import io
import xml.etree.ElementTree as ET

import matplotlib as mpl
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from analysis.chart_style import FOOTER, target_list, vi_number, vi_percent
from analysis.chart_text import headline
from analysis.charts import (
    CHART_NAMES,
    FORMATS,
    MEDIA_TYPES,
    chart_alt,
    chart_data,
    chart_table,
    chart_title,
    plot_ranking,
    plot_trend,
    render_chart,
    split_chart,
)
from analysis.counting import count_answers
from analysis.dashboard import child_blocks, rank_agencies
from analysis.indices import empty_table, monthly_table
from analysis.targets import read_targets
from analysis.trend import trend_table, volume_table
from tests.analysis.helpers import DASHBOARD_MONTHS, agencies, dashboard_responses, mini_catalog, tidy
from tests.analysis.pdf_reading import info_entry, page_count

MONTH = DASHBOARD_MONTHS[-1]


@pytest.fixture(scope="module")
def inputs():
    catalog = mini_catalog()
    counts, scores = count_answers(tidy(dashboard_responses()), catalog)
    table = monthly_table(
        counts, scores, catalog, agencies(), read_targets(), MONTH, previous_counts=counts, previous_scores=scores
    )
    trend = trend_table(counts, scores, catalog, agencies(), read_targets(), DASHBOARD_MONTHS, questionnaire="mini")
    volume = volume_table(scores, DASHBOARD_MONTHS)
    return {"table": table, "trend": trend, "volume": volume, "catalog": catalog}


def data_for(name, inputs, **options):
    options = {"targets": read_targets(), "agencies": agencies(), "catalog": inputs["catalog"], **options}
    return chart_data(name, inputs["table"], inputs["trend"], volume=inputs["volume"], **options)


def svg_text(svg: bytes) -> list[str]:
    """The text of every <text> element (svg.fonttype 'none' keeps text as text)."""
    root = ET.fromstring(svg)
    return ["".join(e.itertext()) for e in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("name", CHART_NAMES)
def test_png(inputs, name):
    png = render_chart(name, data_for(name, inputs), "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()
    assert 700 <= image.width <= 1800 and 350 <= image.height <= 4400
    assert image.info.get("Title") == data_for(name, inputs)["title"]


@pytest.mark.parametrize("name", CHART_NAMES)
def test_svg_keeps_title_and_footer_as_text(inputs, name):
    data = data_for(name, inputs)
    texts = svg_text(render_chart(name, data, "svg"))
    assert data["title"] in " ".join(texts)  # a long title is wrapped, one <text> a line
    assert FOOTER in texts and "Khảo sát tại quầy" in FOOTER


@pytest.mark.parametrize("name", CHART_NAMES)
def test_pdf_has_the_title_in_its_metadata(inputs, name):
    pdf = render_chart(name, data_for(name, inputs), "pdf", title="Biểu đồ “thử” (1)")
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1
    assert info_entry(pdf, "Title") == "Biểu đồ “thử” (1)"
    assert info_entry(pdf, "Subject") == FOOTER


def test_titles_say_what_and_for_whom(inputs):
    assert data_for("trend", inputs)["title"] == "Xu hướng chỉ số hài lòng chung — Tất cả cơ quan"
    assert data_for("elements", inputs)["title"] == "Chỉ số hài lòng theo yếu tố — Tất cả cơ quan, tháng 03/2026"
    ward = data_for("elements", inputs, agency="W1")
    assert ward["title"] == "Chỉ số hài lòng theo yếu tố — Phường Một, tháng 03/2026"
    assert data_for("ranking", inputs, agency="HN")["title"].endswith("— Hà Nội, tháng 03/2026")


@pytest.mark.parametrize("name", CHART_NAMES)
def test_empty_data_says_so(name):
    data = chart_data(name, empty_table(["status_86"]), None, targets=read_targets())
    texts = svg_text(render_chart(name, data, "svg"))
    assert "Chưa có dữ liệu" in texts
    assert chart_table(name, data).empty
    assert render_chart(name, {}, "png").startswith(b"\x89PNG")


def test_unknown_chart_or_format(inputs):
    with pytest.raises(ValueError, match="unknown chart 'pie'"):
        render_chart("pie", {}, "png")
    with pytest.raises(ValueError, match="unknown format 'gif'"):
        render_chart("trend", data_for("trend", inputs), "gif")
    with pytest.raises(ValueError, match="unknown chart"):
        chart_data("pie", inputs["table"])
    assert set(MEDIA_TYPES) == set(FORMATS) and MEDIA_TYPES["svg"] == "image/svg+xml"


def test_rendering_leaves_global_settings_alone(inputs):
    before = dict(mpl.rcParams)
    render_chart("heatmap", data_for("heatmap", inputs), "svg")
    assert dict(mpl.rcParams) == before


def test_ranking_ranks_only_agencies_with_enough_answers(inputs):
    data = data_for("ranking", inputs)
    rows = data["overall_rows"]
    assert list(rows["agency_code"]) == ["W1", "W2"]  # ALL → HN (one child) → its children
    table = chart_table("ranking", data)
    assert list(table.columns) == [
        "Hạng",
        "Cơ quan",
        "Số phiếu",
        "Tỷ lệ hài lòng (%)",
        "KTC 95 %: cận dưới",
        "KTC 95 %: cận trên",
        "Mục tiêu 86 %",
        "Mục tiêu 90 %",
    ]
    assert table["Hạng"].iloc[0] == 1 and pd.isna(table["Hạng"].iloc[1])
    assert list(table["Cơ quan"]) == ["Phường Một", "Phường Hai"]
    assert table["Mục tiêu 86 %"].iloc[1] == "Quá ít phiếu"
    texts = svg_text(render_chart("ranking", data, "svg"))
    assert "1. Phường Một" in texts
    assert "Phường Hai · quá ít phiếu (n = 12)" in texts
    assert not any(t.endswith("Phường Hai") and t[0].isdigit() for t in texts)


def test_ranking_puts_too_few_last_whatever_their_share():
    rows = pd.DataFrame(
        {
            "agency_code": ["A", "B", "C", "D"],
            "agency_name": ["An", "Bình", "Cường", "Dũng"],
            "n": [12, 400, 31, 29],
            "pct_satisfied": [99.0, 80.0, 90.0, 100.0],
            "ci_low": [70.0, 76.0, 75.0, 88.0],
            "ci_high": [100.0, 84.0, 97.0, 100.0],
        }
    )
    ranked = rank_agencies(rows, 30)
    assert list(ranked["agency_code"]) == ["C", "B", "A", "D"]
    assert list(ranked["rank"].astype("Float64").fillna(0)) == [1, 2, 0, 0]
    fig = Figure()
    ax = fig.add_subplot()
    plot_ranking(ax, rows, [86, 90], 30)
    names = [t for t in ax.texts if t.xy[0] == 0]  # row labels at the left end of the axes
    assert [t.get_text() for t in names] == [
        "1. Cường",
        "2. Bình",
        "An · quá ít phiếu (n = 12)",
        "Dũng · quá ít phiếu (n = 29)",
    ]
    greys = [mpl.colors.to_hex(t.get_color()) for t in names]
    assert greys[2] == greys[3] != greys[0]
    assert [t.get_text() for t in ax.texts if t.xy[0] == 1] == ["90,0 %", "80,0 %", "99,0 %", "100,0 %"]
    assert "Mục tiêu 86 %" in ax.get_legend_handles_labels()[1]


def test_plot_trend_draws_on_a_given_axes(inputs):
    fig = Figure()
    ax = fig.add_subplot()
    plot_trend(ax, inputs["trend"], target_list(read_targets()), 30)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["01/2026", "02/2026", "03/2026"]
    labels = ax.get_legend_handles_labels()[1]
    assert {"Mục tiêu 86 %", "Mục tiêu 90 %", "Khoảng tin cậy 95 %"} <= set(labels)


def test_heatmap_blanks_cells_with_too_few_answers(inputs):
    data = data_for("heatmap", inputs)
    table = chart_table("heatmap", data)
    assert list(table.columns) == ["Cơ quan", "A1", "A2", "B1"]
    assert list(table["Cơ quan"]) == ["Phường Một", "Phường Hai"]
    assert table.iloc[1, 1:].isna().all() and table.iloc[0, 1:].notna().all()
    texts = svg_text(render_chart("heatmap", data, "svg"))
    assert vi_number(table.iloc[0, 1], 0) in texts


def test_tables_beside_each_chart_are_in_vietnamese(inputs):
    trend = chart_table("trend", data_for("trend", inputs))
    assert list(trend["Tháng"]) == ["01/2026", "02/2026", "03/2026"]
    assert set(trend["Mục tiêu 90 %"]) <= {"Đạt", "Chưa đạt", "Chưa đủ cơ sở kết luận", "Quá ít phiếu"}
    elements = chart_table("elements", data_for("elements", inputs))
    assert list(elements["Yếu tố"]) == ["Yếu tố A", "Yếu tố B"]
    criteria = chart_table("criteria", data_for("criteria", inputs))
    assert list(criteria["Yếu tố"]) == ["Yếu tố A", "Yếu tố A", "Yếu tố B"]
    priorities = chart_table("priorities", data_for("priorities", inputs))
    assert list(priorities["Thứ tự"]) == [1, 2] and not any(c.startswith("Mục tiêu") for c in priorities)
    assert priorities["Tỷ lệ chọn “Nhiều”, “Rất nhiều” (%)"].is_monotonic_decreasing
    volume = chart_table("volume", data_for("volume", inputs))
    assert list(volume["Số phiếu"]) == [57, 57, 57]


def test_child_blocks_go_down_a_single_child():
    rows = pd.DataFrame({"agency_code": ["ALL", "HN", "W1", "W2"]})
    assert child_blocks(rows, "ALL", agencies()) == ["W1", "W2"]
    assert child_blocks(rows, "HN", agencies()) == ["W1", "W2"]
    assert child_blocks(rows, "W1", agencies()) == []
    assert child_blocks(rows, "ALL", None) == ["HN", "W1", "W2"]


def test_headline(inputs):
    summary = headline(inputs["table"], targets=read_targets())
    overall = inputs["table"].iloc[0]
    assert (summary["agency_code"], summary["n"], summary["pct_satisfied"]) == ("ALL", 57, overall["pct_satisfied"])
    assert [s["label"] for s in summary["statuses"]] == ["Mục tiêu 86 %", "Mục tiêu 90 %"]
    assert summary["change"] == overall["change"]
    assert summary["text"].startswith(
        f"Tháng 03/2026, Tất cả cơ quan: chỉ số hài lòng chung {vi_percent(overall['pct_satisfied'])}"
    )
    assert "so với tháng trước" in summary["text"]
    assert headline(empty_table()) is None


def test_vietnamese_numbers():
    assert vi_number(1234.56) == "1.234,6"
    assert vi_number(1234567, 0) == "1.234.567"
    assert vi_percent(86) == "86,0 %"
    assert vi_number(float("nan")) == ""


def test_split_chart_keeps_ranks_and_one_scale():
    count = 7
    rows = pd.DataFrame(
        {
            "agency_code": [f"P{i}" for i in range(count)],
            "agency_name": [f"Phường {i}" for i in range(count)],
            "n": [100] * (count - 1) + [3],
            "pct_satisfied": [95.0 - 2 * i for i in range(count)],
            "ci_low": [90.0 - 3 * i for i in range(count)],
            "ci_high": [98.0] * count,
        }
    )
    data = {"title": "Xếp hạng", "overall_rows": rank_agencies(rows, 30), "targets": [(86, 86.0)], "min_n": 30}
    parts = split_chart("ranking", data, per_page=3)
    assert [p["title"] for p in parts] == ["Xếp hạng (1/3)", "Xếp hạng (2/3)", "Xếp hạng (3/3)"]
    assert {p["xmin"] for p in parts} == {70.0}  # lowest ranked ci_low 75 − 5, shared by every page
    assert list(parts[1]["overall_rows"]["rank"]) == [4, 5, 6]
    assert parts[2]["overall_rows"]["rank"].isna().all()
    assert split_chart("ranking", data, per_page=30) == [data]
    assert split_chart("trend", {"trend": rows}, per_page=1) == [{"trend": rows}]


def test_alt_texts_say_what_each_chart_shows(inputs):
    alts = {name: chart_alt(name, data_for(name, inputs)) for name in CHART_NAMES}
    assert alts["trend"].startswith("Biểu đồ đường: chỉ số hài lòng chung theo tháng, từ 01/2026")
    assert alts["volume"] == "Biểu đồ cột: số phiếu theo tháng từ 01/2026 đến 03/2026, tổng 171 phiếu."
    assert "1 cơ quan xếp hạng" in alts["ranking"] and "1 cơ quan có ít hơn 30 phiếu" in alts["ranking"]
    assert alts["elements"].startswith("Biểu đồ cột: tỷ lệ hài lòng của 2 yếu tố, cao nhất")
    assert alts["heatmap"].startswith("Bản đồ nhiệt: tỷ lệ hài lòng của 2 cơ quan theo 3 tiêu chí")
    assert alts["priorities"].startswith("Biểu đồ thanh: 2 ưu tiên cải thiện")
    empty = chart_data("ranking", empty_table(), None)
    assert chart_alt("ranking", empty) == "Xếp hạng cơ quan theo chỉ số hài lòng chung: chưa có dữ liệu."
    assert chart_title("trend", data_for("trend", inputs)) == data_for("trend", inputs)["title"]
    assert chart_title("trend", {}) == "Xu hướng chỉ số hài lòng chung"


def test_what_the_web_view_passes(inputs):
    """Targets as the fourth argument, no agency list and no catalog: still a complete chart."""
    data = chart_data("criteria", inputs["table"], inputs["trend"], read_targets())
    assert [v for _, v in data["targets"]] == [86.0, 90.0]
    assert list(data["criterion_rows"]["element_label"]) == ["Yếu tố A", "Yếu tố A", "Yếu tố B"]  # by code prefix
    ranking = chart_data("ranking", inputs["table"], inputs["trend"], read_targets(), agency="HN")
    assert list(ranking["overall_rows"]["agency_code"]) == ["W1", "W2"]
