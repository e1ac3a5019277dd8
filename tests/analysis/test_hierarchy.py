import pandas as pd
import pytest

from analysis.hierarchy import ancestors, hierarchy_order, roll_up
from tests.analysis.helpers import agencies, objects


def test_ancestors_include_the_agency_itself():
    expected = objects(
        pd.DataFrame({"agency_code": ["HN", "W1", "W1", "W2", "W2"], "ancestor_code": ["HN", "W1", "HN", "W2", "HN"]})
    )
    pd.testing.assert_frame_equal(ancestors(agencies()), expected)


def test_cycles_and_unknown_parents_raise():
    cycle = pd.DataFrame({"code": ["A", "B", "C"], "name": ["a", "b", "c"], "parent_code": ["C", "A", "B"]})
    with pytest.raises(ValueError, match="cycle"):
        ancestors(cycle)
    with pytest.raises(ValueError, match="cycle"):
        hierarchy_order(cycle)
    orphan = pd.DataFrame({"code": ["A"], "name": ["a"], "parent_code": ["X"]})
    with pytest.raises(ValueError, match="parent X"):
        ancestors(orphan)


def test_hierarchy_order_parent_first_siblings_by_code():
    frame = pd.DataFrame(
        {"code": ["W2", "HN", "W1", "T1", "X"], "name": list("abcde"), "parent_code": ["HN", None, "HN", "W1", None]}
    )
    assert hierarchy_order(frame) == ["HN", "W1", "T1", "W2", "X"]
    assert hierarchy_order(frame, "W1") == ["W1", "T1"]
    with pytest.raises(ValueError, match="unknown agency"):
        hierarchy_order(frame, "ZZ")


def test_roll_up_counts_a_ward_in_its_parent_and_in_all():
    frame = pd.DataFrame({"agency_code": ["W1", "W2", "HN", "OTHER"], "item": ["x"] * 4, "count": [1, 10, 100, 1000]})
    before = frame.copy()
    expected = objects(
        pd.DataFrame(
            {
                "agency_code": ["ALL", "HN", "OTHER", "W1", "W2"],
                "item": ["x"] * 5,
                "count": [1111, 111, 1000, 1, 10],
            }
        )
    )
    pd.testing.assert_frame_equal(roll_up(objects(frame), agencies(), ["count"]), expected)
    pd.testing.assert_frame_equal(frame, before)  # input untouched
