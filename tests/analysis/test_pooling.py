import pytest

from analysis.pooling import pool_label, pool_versions, structure_key
from tests.analysis.helpers import mini, mini_catalog


def test_structure_key_ignores_texts_but_not_structure():
    assert structure_key(mini(1)) == structure_key(mini(2, title="Khác"))
    assert structure_key(mini(1)) == structure_key(mini(1, qid="mini-b"))
    assert structure_key(mini(1)) != structure_key(mini(3, extra_criterion=True))


def test_pool_versions():
    catalog = mini_catalog()
    assert pool_versions(catalog, "mini", [2, 1, 1]) == [[1, 2]]
    assert pool_versions(catalog, "mini", [1, 2, 3]) == [[1, 2], [3]]
    assert pool_versions(catalog, "mini-b", [1]) == [[1]]
    with pytest.raises(ValueError, match="version 9"):
        pool_versions(catalog, "mini", [9])
    assert pool_label([2, 1]) == "1+2"
