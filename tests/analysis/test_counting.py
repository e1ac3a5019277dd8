import pandas as pd

from analysis.counting import COUNT_COLUMNS, SCORE_COLUMNS, count_answers, normalize_counts
from tests.analysis.helpers import mini_catalog, tidy

RESPONSES = [
    # 23:30 local on 31 January (16:30 UTC): January. B1 = 9 is off the scale, ZZ is no item: both ignored.
    (1, "2026-01-31T23:30+07:00", "W1", "S1", {"A1": 5, "A2": 2, "UT1": 3, "BG_AGE": 1, "B1": 9, "ZZ": 4}),
    # 00:30 local on 1 February (17:30 UTC on 31 January): February.
    (2, "2026-02-01T00:30+07:00", "W1", None, {"A1": 4}),
    (3, "2026-01-10T08:00+07:00", "W2", None, {"B1": 4, "A1": 1}),
    (4, "2026-01-11T08:00+07:00", "W2", None, {"A1": 5, "A2": 4}),
]


def frame(rows, columns, dtypes):
    return pd.DataFrame(rows, columns=columns).astype(dtypes)


def test_counts_per_local_month_value_and_group():
    counts, _ = count_answers(tidy(RESPONSES), mini_catalog())
    head = ["2026-01", "mini", 1]
    expected = frame(
        [
            [*head, "W1", "S1", "A1", 5, 1],
            [*head, "W1", "S1", "A2", 2, 1],
            [*head, "W1", "S1", "BG_AGE", 1, 1],
            [*head, "W1", "S1", "UT1", 3, 1],
            [*head, "W2", "", "A1", 1, 1],
            [*head, "W2", "", "A1", 5, 1],
            [*head, "W2", "", "A2", 4, 1],
            [*head, "W2", "", "B1", 4, 1],
            ["2026-02", "mini", 1, "W1", "", "A1", 4, 1],
        ],
        COUNT_COLUMNS,
        {c: object for c in COUNT_COLUMNS} | {"version": "int64", "value": "int64", "count": "int64"},
    )
    pd.testing.assert_frame_equal(counts, expected)


def test_scores_sum_respondent_scores():
    _, scores = count_answers(tidy(RESPONSES), mini_catalog())
    # response 1: A = satisfied share of (5, 2) = 0.5, no B (9 is off the scale), OVERALL = 0.5
    # response 2 (February): A = 1, OVERALL = 1
    # response 3: A = (1) → 0, B = (4) → 1, OVERALL = 0.5; response 4: A = (5, 4) → 1, OVERALL = 1
    # W2: A n = 2, Σy = 1, Σy² = 1; B n = 1, Σy = 1; OVERALL n = 2, Σy = 1.5, Σy² = 0.25 + 1 = 1.25
    head = ["2026-01", "mini", 1]
    expected = frame(
        [
            [*head, "W1", "S1", "A", 1, 0.5, 0.25],
            [*head, "W1", "S1", "OVERALL", 1, 0.5, 0.25],
            [*head, "W2", "", "A", 2, 1.0, 1.0],
            [*head, "W2", "", "B", 1, 1.0, 1.0],
            [*head, "W2", "", "OVERALL", 2, 1.5, 1.25],
            ["2026-02", "mini", 1, "W1", "", "A", 1, 1.0, 1.0],
            ["2026-02", "mini", 1, "W1", "", "OVERALL", 1, 1.0, 1.0],
        ],
        SCORE_COLUMNS,
        {c: object for c in SCORE_COLUMNS}
        | {"version": "int64", "n": "int64", "sum_y": "float64", "sum_y2": "float64"},
    )
    pd.testing.assert_frame_equal(scores, expected)


def test_no_answers_gives_empty_frames_with_the_columns():
    counts, scores = count_answers(tidy([]), mini_catalog())
    assert list(counts.columns) == COUNT_COLUMNS and list(scores.columns) == SCORE_COLUMNS
    assert counts.empty and scores.empty
    assert counts["count"].dtype == "int64" and scores["sum_y"].dtype == "float64"
    assert counts["agency_code"].dtype == object


def test_unknown_versions_are_ignored_and_normalize_sorts():
    counts, _ = count_answers(tidy([(1, "2026-01-05T09:00+07:00", "W1", None, {"A1": 5}, "mini", 9)]), mini_catalog())
    assert counts.empty
    shuffled = pd.DataFrame(
        {
            "count": [2, 1],
            "value": [5, 4],
            "item_code": ["A1", "A1"],
            "service_code": [None, "S1"],
            "agency_code": ["W1", "W1"],
            "version": [1, 1],
            "questionnaire": ["mini", "mini"],
            "period": ["2026-01", "2026-01"],
        }
    )
    normal = normalize_counts(shuffled)
    assert list(normal.columns) == COUNT_COLUMNS
    assert list(normal["service_code"]) == ["", "S1"] and list(normal["count"]) == [2, 1]
