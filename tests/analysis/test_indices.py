"""monthly_table against figures worked out by hand (Wilson at z = 1.959964 unless said otherwise).

The January data (helpers.JANUARY), satisfied = 4 or 5, priority "high" = 2 or 3:

    response  agency  service  A1  A2  B1  UT1  UT2   y(A)  y(B)  y(OVERALL)
    1         W1      S1       5   4   2   3    1     1     0     0.5
    2         W1      -        4   2   -   2    -     0.5   -     0.5
    3         W2      S1       1   -   5   -    2     0     1     0.5
    4         HN      -        5   5   4   -    -     1     1     1

ALL (and HN, whose subtree is everyone):
    A1 3/4 = 75.00 % [30.06, 95.44]; A2 2/3 = 66.67 % [20.77, 93.85]; B1 2/3 = 66.67 % [20.77, 93.85]
    A = (75 + 66.667)/2 = 70.83 %; n = 4, Σy = 2.5, Σy² = 2.25, sd² = (2.25 − 2.5²/4)/3 = 0.229167,
        se = sqrt(0.229167/4) = 0.239357, n_eff = 0.708333 × 0.291667 / 0.239357² = 3.606 (cap 7 answers)
        → Wilson(0.708333 × 3.606, 3.606) = [25.72, 94.45]
    B = 66.67 %; n = 3, Σy = 2, Σy² = 2, sd² = (2 − 4/3)/2 = 0.333, se = 0.3333, n_eff = 0.2222/0.1111 = 2
        → [15.94, 95.47]
    OVERALL = (70.833 + 66.667)/2 = 68.75 %; n = 4, Σy = 2.5, Σy² = 1.75, sd² = 0.0625, se = 0.125,
        p(1−p)/se² = 13.75, capped at the 10 criterion answers → Wilson(6.875, 10) = [38.58, 88.51]
    UT1 2/2 = 100 % [34.24, 100]; UT2 1/2 = 50 % [9.45, 90.55]
W1: A1 2/2, A2 1/2, B1 0/1 → A = 75 %, B = 0 %, OVERALL = 37.5 %
    A: y = 1, 0.5 → se = sqrt(0.125/2) = 0.25, n_eff = 0.1875/0.0625 = 3 → [25.61, 96.32]
    B: one respondent, se = 0 → n_eff = n = 1 → Wilson(0, 1) = [0, 79.35]
    OVERALL: y = 0.5, 0.5 → se = 0 → n_eff = n = 2 → Wilson(0.75, 2) = [5.61, 85.83]
W2: A1 0/1, B1 1/1 → OVERALL = 50 %, one respondent (se = 0) → n_eff = 1 → Wilson(0.5, 1):
    centre 0.5, half = z·sqrt(0.25 + z²/4)/(1 + z²) = 1.96 × 1.1002/4.8415 = 0.4454 → [5.46, 94.54]
"""

import numpy as np
import pandas as pd
import pytest

from analysis.counting import count_answers
from analysis.indices import CSV_COLUMNS, OVERALL_LABEL, csv_columns, monthly_table
from analysis.targets import read_targets
from tests.analysis.helpers import JANUARY, agencies, mini_catalog, tidy

STATUS = ["status_86", "status_90"]


@pytest.fixture(scope="module")
def catalog():
    return mini_catalog()


def table_for(responses, catalog, month="2026-01", **options):
    counts, scores = count_answers(tidy(responses), catalog)
    return monthly_table(counts, scores, catalog, agencies(), read_targets(), month, **options)


def block(table, agency="ALL", service="ALL"):
    return table[(table["agency_code"] == agency) & (table["service_code"] == service)].reset_index(drop=True)


def figures(table):
    return [tuple(r) for r in table[["code", "n", "pct_satisfied", "ci_low", "ci_high"]].itertuples(index=False)]


def test_all_block_by_hand(catalog):
    rows = [
        ("overall", "OVERALL", OVERALL_LABEL, 4, pd.NA, 68.75, 38.58, 88.51),
        ("element", "A", "Yếu tố A", 4, pd.NA, 70.83, 25.72, 94.45),
        ("element", "B", "Yếu tố B", 3, pd.NA, 66.67, 15.94, 95.47),
        ("criterion", "A1", "Tiêu chí A1", 4, 3, 75.00, 30.06, 95.44),
        ("criterion", "A2", "Tiêu chí A2", 3, 2, 66.67, 20.77, 93.85),
        ("criterion", "B1", "Tiêu chí B1", 3, 2, 66.67, 20.77, 93.85),
        ("priority", "UT1", "Ưu tiên một", 2, 2, 100.00, 34.24, 100.00),
        ("priority", "UT2", "Ưu tiên hai", 2, 1, 50.00, 9.45, 90.55),
    ]
    expected = pd.DataFrame(
        [("2026-01", "mini", "1", "ALL", "Tất cả cơ quan", "ALL", *r) for r in rows], columns=CSV_COLUMNS
    ).assign(
        status_86=pd.Series(["insufficient"] * 6 + [None] * 2, dtype=object),
        status_90=pd.Series(["insufficient"] * 6 + [None] * 2, dtype=object),
        change=np.nan,
        response_rate=np.nan,
    )
    expected = expected.astype({c: object for c in expected.columns if c not in ("n", "n_satisfied")}).astype(
        {
            "n": "int64",
            "n_satisfied": "Int64",
            "pct_satisfied": "float64",
            "ci_low": "float64",
            "ci_high": "float64",
            "change": "float64",
            "response_rate": "float64",
        }
    )
    table = table_for(JANUARY, catalog)
    pd.testing.assert_frame_equal(block(table), expected)
    assert csv_columns(table) == CSV_COLUMNS + STATUS


def test_nested_agencies_roll_up(catalog):
    table = table_for(JANUARY, catalog)
    assert list(dict.fromkeys(table["agency_code"])) == ["ALL", "HN", "W1", "W2"]
    assert figures(block(table, "HN")) == figures(block(table))  # HN's block includes both wards
    assert block(table, "HN")["agency_name"][0] == "Hà Nội"
    assert figures(block(table, "W1")) == [
        ("OVERALL", 2, 37.5, 5.61, 85.83),
        ("A", 2, 75.0, 25.61, 96.32),
        ("B", 1, 0.0, 0.0, 79.35),
        ("A1", 2, 100.0, 34.24, 100.0),
        ("A2", 2, 50.0, 9.45, 90.55),
        ("B1", 1, 0.0, 0.0, 79.35),
        ("UT1", 2, 100.0, 34.24, 100.0),
        ("UT2", 1, 0.0, 0.0, 79.35),
    ]
    assert figures(block(table, "W2"))[:3] == [
        ("OVERALL", 1, 50.0, 5.46, 94.54),
        ("A", 1, 0.0, 0.0, 79.35),
        ("B", 1, 100.0, 20.65, 100.0),
    ]


def test_status_against_targets(catalog):
    table = table_for(JANUARY, catalog, min_n=1)
    overall = block(table).iloc[0]
    # [38.58, 88.51]: 86 inside the interval; 90 above its upper bound
    assert (overall["status_86"], overall["status_90"]) == ("inconclusive", "not_met")
    w1_b = block(table, "W1").set_index("code").loc["B"]
    assert (w1_b["status_86"], w1_b["status_90"]) == ("not_met", "not_met")
    assert block(table)["status_86"].iloc[-2:].isna().all()  # no status on priorities
    # 40 respondents all satisfied: p = 1, se = 0 → n_eff = 40; low = 40/(40 + z²) = 91.24 % ≥ 90
    happy = [(i, "2026-01-10T10:00+07:00", "W1", None, {"A1": 5, "A2": 4, "B1": 5}) for i in range(40)]
    row = block(table_for(happy, catalog)).iloc[0]
    assert (row["n"], row["pct_satisfied"], row["ci_low"]) == (40, 100.0, 91.24)
    assert (row["status_86"], row["status_90"]) == ("met", "met")
    few = block(table_for(happy[:29], catalog)).iloc[0]  # n = 29 < index.min_n (30 by default)
    assert (few["status_86"], few["status_90"]) == ("insufficient", "insufficient")


def test_priorities_are_ranked_by_share(catalog):
    responses = [
        (1, "2026-01-10T10:00+07:00", "W1", None, {"A1": 5, "UT1": 1, "UT2": 3}),
        (2, "2026-01-10T10:00+07:00", "W1", None, {"UT1": 2, "UT2": 2}),
    ]
    priorities = block(table_for(responses, catalog)).query("level == 'priority'")
    assert list(priorities["code"]) == ["UT2", "UT1"]  # 100 % before 50 %
    assert list(priorities["pct_satisfied"]) == [100.0, 50.0]


def test_no_answers_gives_an_empty_table(catalog):
    table = table_for([], catalog)
    assert table.empty and list(table.columns) == [*CSV_COLUMNS, *STATUS, "change", "response_rate"]
    assert table_for(JANUARY, catalog, month="2026-03").empty  # other months only


def test_one_answer(catalog):
    table = table_for([(1, "2026-01-10T10:00+07:00", "W1", None, {"A1": 5})], catalog)
    # Wilson(1, 1) = [1/(1 + z²), 1] = [20.65, 100]; no A2, B1, B or priorities rows
    assert figures(block(table)) == [
        ("OVERALL", 1, 100.0, 20.65, 100.0),
        ("A", 1, 100.0, 20.65, 100.0),
        ("A1", 1, 100.0, 20.65, 100.0),
    ]


def test_criterion_with_only_no_opinion_is_absent(catalog):
    # "Không có ý kiến" is no answer; 0 is off the scale: A2 and B1 have no valid answer
    responses = [
        (1, "2026-01-10T10:00+07:00", "W1", None, {"A1": 5, "B1": 0}),
        (2, "2026-01-11T10:00+07:00", "W1", None, {"A1": 2}),
    ]
    codes = list(block(table_for(responses, catalog))["code"])
    assert codes == ["OVERALL", "A", "A1"]


def test_month_is_local(catalog):
    february = (5, "2026-02-01T00:30+07:00", "W1", None, {"A1": 1, "A2": 1, "B1": 1})
    january = figures(block(table_for(JANUARY, catalog)))
    assert figures(block(table_for([*JANUARY, february], catalog))) == january
    assert figures(block(table_for([*JANUARY, february], catalog, month="2026-02")))[0][:2] == ("OVERALL", 1)


def test_versions_pool_only_with_identical_structure(catalog):
    at = "2026-01-10T10:00+07:00"
    responses = [
        (1, at, "W1", None, {"A1": 5, "A2": 5, "B1": 5}, "mini", 1),
        (2, at, "W1", None, {"A1": 2, "A2": 2, "B1": 2}, "mini", 2),
        (3, at, "W1", None, {"A1": 5, "A3": 5, "B1": 5}, "mini", 3),
        (4, at, "W1", None, {"A1": 5, "A2": 5, "B1": 5}, "mini-b", 1),
    ]
    table = table_for(responses, catalog)
    overall = table[(table["level"] == "overall") & (table["agency_code"] == "ALL")]
    figures_ = overall[["questionnaire", "version", "n", "pct_satisfied"]].itertuples(index=False, name=None)
    assert list(figures_) == [
        ("mini", "1+2", 2, 50.0),
        ("mini", "3", 1, 100.0),
        ("mini-b", "1", 1, 100.0),
    ]
    assert "A3" in set(table.loc[table["version"] == "3", "code"]) and "A3" not in set(table["code"][:8])


def test_status_columns_follow_targets_in_force(catalog):
    counts, scores = count_answers(tidy(JANUARY), catalog)
    targets = read_targets().assign(code=["86", "old"], value=[86.0, 80.0])
    targets.loc[1, "period_end"] = pd.Timestamp("2025-12-31").date()
    table = monthly_table(counts, scores, catalog, agencies(), targets, "2026-01")
    assert [c for c in table if c.startswith("status_")] == ["status_86"]
    targets.loc[1, "period_end"] = None
    table = monthly_table(counts, scores, catalog, agencies(), targets, "2026-01")
    assert [c for c in table if c.startswith("status_")] == ["status_old", "status_86"]  # by value
    assert not [c for c in monthly_table(counts, scores, catalog, agencies(), None, "2026-01") if "status" in c]


def test_change_from_previous_month(catalog):
    december = (9, "2025-12-20T10:00+07:00", "W2", None, {"A1": 1, "A2": 5, "B1": 5})
    counts, scores = count_answers(tidy([*JANUARY, december]), catalog)
    table = monthly_table(
        counts, scores, catalog, agencies(), read_targets(), "2026-01", previous_counts=counts, previous_scores=scores
    )
    change = block(table).set_index("code")["change"]
    # December (one response at W2): A1 0/1 = 0 %, A2 1/1 = 100 %, B1 1/1 = 100 %
    # → A = (0 + 100)/2 = 50 %, B = 100 %, OVERALL = 75 %
    # change: A1 75 − 0 = 75.00; A2 66.67 − 100 = −33.33; OVERALL 68.75 − 75 = −6.25
    assert (change["A1"], change["A2"], change["OVERALL"]) == (75.0, -33.33, -6.25)
    assert np.isnan(change["UT1"])  # no priorities answered in December
    assert block(table, "W1")["change"].isna().all()  # W1 had no December responses
    assert table_for(JANUARY, catalog)["change"].isna().all()


def test_response_rate_on_overall_rows(catalog):
    counts, scores = count_answers(tidy(JANUARY), catalog)
    interactions = pd.DataFrame(
        {
            "period": ["2026-01", "2026-01", "2025-12"],
            "agency_code": ["W1", "W2", "W1"],
            "service_code": ["S1", "", "S1"],
            "issued": [10, 5, 100],
            "used": [2, 3, 100],
        }
    )
    table = monthly_table(counts, scores, catalog, agencies(), read_targets(), "2026-01", interactions=interactions)
    overall = table[table["level"] == "overall"].set_index("agency_code")["response_rate"]
    # ALL and HN: (2 + 3)/(10 + 5) = 33.33 %; W1 2/10 = 20 %; W2 3/5 = 60 %
    assert overall.to_dict() == {"ALL": 33.33, "HN": 33.33, "W1": 20.0, "W2": 60.0}
    assert table.loc[table["level"] != "overall", "response_rate"].isna().all()


def test_by_service_rows(catalog):
    table = table_for(JANUARY, catalog, by_service=True)
    assert list(dict.fromkeys(table.loc[table["agency_code"] == "ALL", "service_code"])) == ["ALL", "S1", "NONE"]
    # S1: responses 1 and 3, A1 = 5, 1 → 1/2; NONE: responses 2 and 4, A1 = 4, 5 → 2/2
    a1 = table[(table["code"] == "A1") & (table["agency_code"] == "ALL")].set_index("service_code")["pct_satisfied"]
    assert a1.to_dict() == {"ALL": 75.0, "S1": 50.0, "NONE": 100.0}
    assert list(dict.fromkeys(table[["agency_code", "service_code"]].itertuples(index=False, name=None)))[:4] == [
        ("ALL", "ALL"),
        ("ALL", "S1"),
        ("ALL", "NONE"),
        ("HN", "ALL"),
    ]


def test_agency_and_questionnaire_filters(catalog):
    assert set(table_for(JANUARY, catalog, agency="W1")["agency_code"]) == {"W1"}
    assert list(dict.fromkeys(table_for(JANUARY, catalog, agency="HN")["agency_code"])) == ["HN", "W1", "W2"]
    with pytest.raises(ValueError, match="unknown agency"):
        table_for(JANUARY, catalog, agency="NOPE")
    assert table_for(JANUARY, catalog, questionnaire="mini-b").empty
    with pytest.raises(ValueError, match="unknown questionnaire"):
        table_for(JANUARY, catalog, questionnaire="nope")


def test_inputs_are_not_changed(catalog):
    counts, scores = count_answers(tidy(JANUARY), catalog)
    before = counts.copy(), scores.copy()
    monthly_table(counts, scores, catalog, agencies(), read_targets(), "2026-01", by_service=True)
    pd.testing.assert_frame_equal(counts, before[0])
    pd.testing.assert_frame_equal(scores, before[1])
