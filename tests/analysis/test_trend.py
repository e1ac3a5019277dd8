import numpy as np
import pandas as pd
import pytest

from analysis.counting import count_answers
from analysis.indices import monthly_table, monthly_tables
from analysis.targets import read_targets
from analysis.trend import TREND_COLUMNS, VOLUME_COLUMNS, months_ending, trend_table, volume_table
from tests.analysis.helpers import DASHBOARD_MONTHS, agencies, dashboard_responses, mini_catalog, tidy

STATUS = ["status_86", "status_90"]


@pytest.fixture(scope="module")
def catalog():
    return mini_catalog()


@pytest.fixture(scope="module")
def frames(catalog):
    return count_answers(tidy(dashboard_responses()), catalog)


def trend_for(frames, catalog, **options):
    counts, scores = frames
    return trend_table(
        counts, scores, catalog, agencies(), read_targets(), DASHBOARD_MONTHS, questionnaire="mini", **options
    )


def test_months_ending():
    assert months_ending("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert months_ending("2026-10") == [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]
    with pytest.raises(ValueError, match="YYYY-MM"):
        months_ending("2026-13")


@pytest.mark.parametrize("agency", [None, "HN", "W1", "W2"])
def test_each_month_is_the_monthly_table_overall_row(frames, catalog, agency):
    counts, scores = frames
    trend = trend_for(frames, catalog, agency=agency)
    assert list(trend.columns) == TREND_COLUMNS + STATUS
    expected = []
    for month in DASHBOARD_MONTHS:
        table = monthly_table(counts, scores, catalog, agencies(), read_targets(), month, questionnaire="mini")
        row = table[(table["level"] == "overall") & (table["agency_code"] == (agency or "ALL"))]
        expected.append(row[TREND_COLUMNS + STATUS])
    pd.testing.assert_frame_equal(trend, pd.concat(expected, ignore_index=True))


def test_trend_by_hand(frames, catalog):
    trend = trend_for(frames, catalog, agency="W2")
    assert list(trend["period"]) == DASHBOARD_MONTHS
    assert list(trend["n"]) == [12, 12, 12]
    assert list(trend["agency_name"]) == ["Phường Hai"] * 3
    assert set(trend["status_86"]) == {"insufficient"}
    assert trend_for(frames, catalog, agency="W2", min_n=10)["status_86"].iloc[0] != "insufficient"
    everyone = trend_for(frames, catalog)
    assert list(everyone["n"]) == [57, 57, 57] and set(everyone["agency_name"]) == {"Tất cả cơ quan"}


def test_months_without_data_are_left_out(frames, catalog):
    counts, scores = frames
    months = ["2025-12", "2026-01", "2026-03", "2026-04"]
    trend = trend_table(counts, scores, catalog, agencies(), read_targets(), months, questionnaire="mini")
    assert list(trend["period"]) == ["2026-01", "2026-03"]
    empty = trend_table(counts, scores, catalog, agencies(), read_targets(), ["2025-01"], questionnaire="mini")
    assert empty.empty and list(empty.columns[: len(TREND_COLUMNS)]) == TREND_COLUMNS


def test_one_row_per_month_when_versions_cannot_pool(catalog):
    responses = [(i, "2026-01-05T09:00+07:00", "W1", None, {"A1": 5}, "mini", 1) for i in range(1, 4)]
    responses += [(i, "2026-01-06T09:00+07:00", "W1", None, {"A1": 1, "A3": 4}, "mini", 3) for i in range(4, 9)]
    counts, scores = count_answers(tidy(responses), catalog)
    trend = trend_table(counts, scores, catalog, agencies(), None, ["2026-01"], questionnaire="mini")
    assert len(trend) == 1 and trend["version"].iloc[0] == "3" and trend["n"].iloc[0] == 5


def test_inputs_are_not_changed(frames, catalog):
    counts, scores = frames
    before = counts.copy(), scores.copy()
    trend_for(frames, catalog, agency="HN")
    volume_table(scores, DASHBOARD_MONTHS, agencies=agencies(), agency="HN")
    pd.testing.assert_frame_equal(counts, before[0])
    pd.testing.assert_frame_equal(scores, before[1])


def test_volume_counts_responses_per_month_with_zeros(frames):
    _, scores = frames
    months = ["2025-12", *DASHBOARD_MONTHS]
    volume = volume_table(scores, months)
    assert list(volume.columns) == VOLUME_COLUMNS
    assert list(volume["period"]) == months
    assert list(volume["responses"]) == [0, 57, 57, 57]
    assert volume["issued"].isna().all() and volume["response_rate"].isna().all()
    ward = volume_table(scores, months, agencies=agencies(), agency="W2")
    assert list(ward["responses"]) == [0, 12, 12, 12]
    city = volume_table(scores, months, agencies=agencies(), agency="HN")
    assert list(city["responses"]) == [0, 57, 57, 57]
    assert list(volume_table(scores, months, questionnaire="other")["responses"]) == [0, 0, 0, 0]


def test_volume_response_rate(frames):
    _, scores = frames
    interactions = pd.DataFrame(
        {
            "period": ["2026-01", "2026-01", "2026-02"],
            "agency_code": ["W1", "W2", "W2"],
            "service_code": ["", "", ""],
            "issued": [30, 10, 0],
            "used": [12, 3, 0],
        }
    )
    volume = volume_table(scores, DASHBOARD_MONTHS, agencies=agencies(), agency="HN", interactions=interactions)
    assert list(volume["issued"]) == [40, 0, 0]
    assert list(volume["used"]) == [15, 0, 0]
    np.testing.assert_allclose(volume["response_rate"], [37.5, np.nan, np.nan])
    ward = volume_table(scores, DASHBOARD_MONTHS, agencies=agencies(), agency="W1", interactions=interactions)
    assert ward["response_rate"].iloc[0] == 40.0


def test_several_months_at_once_are_each_months_own_table(catalog):
    """Versions pooled differently month to month, a third that cannot pool, a target from February on."""
    responses = dashboard_responses()
    responses += [(9000 + i, "2026-02-10T09:00+07:00", "W2", None, {"A1": 4, "B1": 2}, "mini", 2) for i in range(9)]
    responses += [(9100 + i, "2026-03-10T09:00+07:00", "W1", None, {"A1": 5, "A3": 4}, "mini", 3) for i in range(7)]
    counts, scores = count_answers(tidy(responses), catalog)
    targets = read_targets()
    later = targets.iloc[:1].assign(code="88", value=88.0, period_start=pd.Timestamp("2026-02-01").date())
    targets = pd.concat([targets, later], ignore_index=True)
    for agency in (None, "W1"):
        together = monthly_tables(counts, scores, catalog, agencies(), targets, DASHBOARD_MONTHS, agency=agency)
        assert set(together["version"]) == {"1", "1+2", "3"}
        for month in DASHBOARD_MONTHS:
            alone = monthly_table(counts, scores, catalog, agencies(), targets, month, agency=agency)
            mine = together.loc[together["period"] == month, list(alone.columns)].reset_index(drop=True)
            pd.testing.assert_frame_equal(mine, alone.assign(change=np.nan, response_rate=np.nan))
        assert together.loc[together["period"] == "2026-01", "status_88"].isna().all()
