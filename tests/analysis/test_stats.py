import math

import numpy as np
import pandas as pd
import pytest

from analysis.stats import effective_n, standard_error, wilson_interval, z_value


def test_z_value_is_the_normal_quantile():
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.90) == pytest.approx(1.644854, abs=1e-6)
    with pytest.raises(ValueError):
        z_value(1.5)


def test_wilson_seven_of_ten_by_hand():
    # p = 0.7, z = 1.96, z² = 3.8416, z²/n = 0.38416, denominator = 1.38416
    # centre = (0.7 + 3.8416/20) / 1.38416 = 0.89208 / 1.38416 = 0.644492
    # half = 1.96 × sqrt(0.7×0.3/10 + 3.8416/400) / 1.38416 = 1.96 × sqrt(0.030604) / 1.38416
    #      = 1.96 × 0.174940 / 1.38416 = 0.247718
    # → 0.396774 … 0.892210, i.e. 39.68 … 89.22 %
    low, high = wilson_interval(7, 10, z=1.96)
    assert low == pytest.approx(0.396774, abs=1e-5)
    assert high == pytest.approx(0.892210, abs=1e-5)


def test_wilson_is_vectorised_and_nan_where_n_is_zero():
    low, high = wilson_interval(pd.Series([0, 2, 0], index=[5, 6, 7]), pd.Series([1, 2, 0], index=[5, 6, 7]))
    assert list(low.index) == [5, 6, 7]
    # k = 0, n = 1: centre = (z²/2)/(1+z²) = half, so the low bound is 0; high = z²/(1+z²) = 0.793451
    assert low[5] == 0 and high[5] == pytest.approx(3.841459 / 4.841459, abs=1e-6)
    # k = n = 2: high is exactly 1, low = 2/(2+z²) = 0.342380
    assert high[6] == 1 and low[6] == pytest.approx(2 / (2 + 3.841459), abs=1e-6)
    assert math.isnan(low[7]) and math.isnan(high[7])
    arrays = wilson_interval(np.array([7, 0]), np.array([10, 0]))
    assert isinstance(arrays[0], np.ndarray) and np.isnan(arrays[0][1])


def test_standard_error_of_respondent_scores():
    # y = 1, 0.5, 0, 1: Σy = 2.5, Σy² = 2.25; Σ(y−ȳ)² = 2.25 − 2.5²/4 = 0.6875; sd² = 0.6875/3 = 0.229167
    # se = sqrt(0.229167/4) = 0.239357
    assert standard_error(4, 2.5, 2.25) == pytest.approx(0.239357, abs=1e-6)
    assert standard_error(1, 0.5, 0.25) == 0  # one respondent: no spread to measure
    assert standard_error(3, 3.0, 3.0) == 0  # everyone the same


def test_effective_n():
    # p = 0.6875, se = 0.125: p(1−p)/se² = 0.21484375/0.015625 = 13.75, capped at 10 criterion answers
    assert effective_n(0.6875, 0.125, 4, 10) == pytest.approx(10)
    assert effective_n(0.6875, 0.125, 4, 20) == pytest.approx(13.75)
    # p = 0.7083, se = 0.239357: 0.206597/0.057292 = 3.606
    assert effective_n(0.708333, 0.239357, 4, 7) == pytest.approx(3.606, abs=1e-3)
    # everyone satisfied (p = 1, se = 0): n_eff = n
    assert effective_n(1.0, 0.0, 25, 60) == 25
    assert effective_n(0.5, 0.0, 25, 60) == 25  # se = 0 with 0 < p < 1: n
    assert effective_n(0.0, 0.1, 25, 60) == 25  # p = 0: n
    # never below 1: p(1−p)/se² = 0.25/1 = 0.25 → 1
    assert effective_n(0.5, 1.0, 5, 9) == 1
    out = effective_n(pd.Series([1.0, 0.6875]), pd.Series([0.0, 0.125]), pd.Series([3, 4]), pd.Series([9, 10]))
    pd.testing.assert_series_equal(out, pd.Series([3.0, 10.0]))
