"""Confidence intervals of the indices.

Criterion and priority percentages are binomial proportions: their 95 % interval is the Wilson score
interval, which stays inside 0–100 % and behaves well near 0 %, near 100 % and for small n.

Element and overall indices are means of criterion percentages, not proportions of one set of
answers, and the criteria of one respondent are correlated. Their interval is a Wilson interval
evaluated at an *effective sample size* (a design-effect adjustment in the spirit of Korn & Graubard,
1998): each respondent gets a score y, the share of their answered criteria in the scope that are
satisfied (``analysis.scores``); the standard error of the index is se = sd(y) / sqrt(n), with the
sample standard deviation (n − 1) over the n respondents who answered at least one criterion in the
scope; the effective sample size is n_eff = p(1 − p) / se², the number of independent yes/no answers
that would give a proportion p the same standard error. n_eff falls back to n when se = 0 or p is 0
or 1, and is kept between 1 and the number of criterion answers in the scope. The Wilson interval
is then computed for p with n_eff answers.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd


def z_value(confidence: float = 0.95) -> float:
    """Return the two-sided standard normal quantile for a confidence level (1.959964 for 0.95)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


Z95 = z_value(0.95)


def _wrap(result: np.ndarray, *inputs):
    """Give the result the shape of the inputs: Series index, or a float for scalars."""
    for x in inputs:
        if isinstance(x, pd.Series):
            return pd.Series(result, index=x.index, dtype="float64")
    return float(result) if np.ndim(result) == 0 else result


def wilson_interval(successes, n, z: float = Z95):
    """Return the Wilson score interval (low, high) as proportions in [0, 1]; NaN where n == 0."""
    k = np.asarray(successes, dtype="float64")
    m = np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / m
        z2 = z * z
        denominator = 1 + z2 / m
        centre = (p + z2 / (2 * m)) / denominator
        half = z * np.sqrt(np.clip(p * (1 - p) / m, 0, None) + z2 / (4 * m * m)) / denominator
        low = np.where(m > 0, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(m > 0, np.clip(centre + half, 0, 1), np.nan)
    return _wrap(low, successes, n), _wrap(high, successes, n)


def standard_error(n, sum_y, sum_y2):
    """Return the standard error sd(y)/sqrt(n) of a mean from n, Σy and Σy² (0 when n == 1)."""
    m = np.asarray(n, dtype="float64")
    s1 = np.asarray(sum_y, dtype="float64")
    s2 = np.asarray(sum_y2, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        # Σ(y − ȳ)² = Σy² − (Σy)²/n; clipped because rounding can make it a hair below zero
        variance = np.clip(s2 - s1 * s1 / m, 0, None) / (m - 1)
        se = np.where(m == 1, 0.0, np.sqrt(variance / m))
        se = np.where(m >= 1, se, np.nan)
    return _wrap(se, n, sum_y, sum_y2)


def effective_n(p, se, n, cap):
    """Return the effective sample size p(1−p)/se², or n when se == 0 or p is 0 or 1; within [1, cap]."""
    pp = np.asarray(p, dtype="float64")
    s = np.asarray(se, dtype="float64")
    m = np.asarray(n, dtype="float64")
    upper = np.maximum(np.asarray(cap, dtype="float64"), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = pp * (1 - pp) / (s * s)
        usable = (pp > 0) & (pp < 1) & (s > 0)
        result = np.clip(np.where(usable, implied, m), 1, upper)
    return _wrap(result, p, se, n, cap)
