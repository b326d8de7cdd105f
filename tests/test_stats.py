"""The before/after statistics against published values, SciPy and exact enumeration on small inputs."""
from __future__ import annotations

import collections
import itertools
import math

import numpy as np
import pytest
from scipy import stats as sp

from metrics import stats


# Newcombe (1998), "Interval estimation for the difference between independent proportions",
# Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score, from Wilson intervals).
@pytest.mark.parametrize("x1, n1, x2, n2, low, high", [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
])
def test_newcombe_difference_matches_the_published_table(x1, n1, x2, n2, low, high):
    interval = stats.newcombe_difference(x1, n1, x2, n2)
    assert interval.estimate == pytest.approx(x1 / n1 - x2 / n2)
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17:857-872, Table I, method 3 (Wilson score interval without continuity correction).
@pytest.mark.parametrize("x, n, low, high", [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_the_published_table(x, n, low, high):
    interval = stats.wilson_interval(x, n)
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_wilson_interval_matches_scipy_and_is_undefined_without_trials():
    for x, n in [(3, 17), (0, 5), (5, 5), (400, 1000)]:
        ref = sp.binomtest(x, n).proportion_ci(0.95, method="wilson")
        interval = stats.wilson_interval(x, n)
        assert (interval.low, interval.high) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert all(math.isnan(v) for v in (stats.wilson_interval(0, 0).low, stats.wilson_interval(0, 0).high))


def test_rate_ratio_interval_is_the_exact_conditional_binomial_one():
    # 10 deployments in 5 days against 5 in 5 days: R's poisson.test(c(10, 5), c(5, 5)) gives
    # rate ratio 2, 95% CI 0.6228596 7.4572959
    interval = stats.rate_ratio_interval(10, 5, 5, 5)
    assert interval.estimate == 2
    assert (interval.low, interval.high) == pytest.approx((0.6228596, 7.4572959), abs=1e-6)
    # unequal exposures: the Clopper-Pearson interval of count_1 / total mapped onto the ratio
    ci = sp.binomtest(30, 30 + 12).proportion_ci(0.95, method="exact")
    interval = stats.rate_ratio_interval(30, 7, 12, 28)
    scale = 28 / 7
    assert interval.estimate == pytest.approx((30 / 7) / (12 / 28))
    assert (interval.low, interval.high) == pytest.approx(
        (ci.low / (1 - ci.low) * scale, ci.high / (1 - ci.high) * scale), rel=1e-9)


def test_rate_ratio_interval_edge_cases():
    # 4 against 0: the lower bound of p is the 2.5% point of Beta(4, 1), i.e. 0.025 ** (1/4), so
    # the ratio's is p / (1 - p) = 0.66: four deployments against none is not yet evidence
    p = 0.025 ** 0.25
    none_before = stats.rate_ratio_interval(4, 10, 0, 10)
    assert math.isinf(none_before.estimate) and math.isinf(none_before.high)
    assert none_before.low == pytest.approx(p / (1 - p))
    none_after = stats.rate_ratio_interval(0, 10, 4, 10)
    assert none_after.estimate == 0 and none_after.low == 0
    assert none_after.high == pytest.approx((1 - p) / p)
    nothing = stats.rate_ratio_interval(0, 10, 0, 10)
    assert all(math.isnan(v) for v in (nothing.estimate, nothing.low, nothing.high))


def exact_bootstrap_median_distribution(x: list[float]) -> dict[float, float]:
    """Every one of the n**n equally likely resamples, enumerated."""
    n = len(x)
    counts = collections.Counter(float(np.median([x[i] for i in idx]))
                                 for idx in itertools.product(range(n), repeat=n))
    return {k: v / n ** n for k, v in counts.items()}


@pytest.mark.parametrize("x", [[3.0, 1.0, 4.0, 1.0, 5.0], [2.0, 7.0, 1.0, 8.0], [6.0, 6.0, 2.0]])
def test_bootstrap_medians_follow_the_exact_resampling_distribution(x):
    exact = exact_bootstrap_median_distribution(x)
    drawn = stats.bootstrap_medians(np.array(x), 200_000, np.random.default_rng(7))
    values, counts = np.unique(drawn, return_counts=True)
    observed = dict(zip(values.tolist(), (counts / len(drawn)).tolist()))
    assert set(observed) <= set(exact)
    assert max(abs(exact[k] - observed.get(k, 0.0)) for k in exact) < 0.005


def test_bootstrap_medians_agree_with_explicit_resampling_on_a_larger_sample():
    rng = np.random.default_rng(3)
    x = rng.lognormal(3, 1, size=40)
    explicit = np.median(x[rng.integers(0, len(x), size=(20_000, len(x)))], axis=1)
    shortcut = stats.bootstrap_medians(x, 20_000, np.random.default_rng(4))
    assert np.quantile(shortcut, [0.025, 0.5, 0.975]) == pytest.approx(
        np.quantile(explicit, [0.025, 0.5, 0.975]), rel=0.05)


def test_bootstrap_median_difference_is_seeded_and_sane():
    before = np.array([100.0, 120, 95, 130, 110, 105, 125, 115, 98, 140])
    after = np.array([2.0, 3, 1, 4, 2.5, 3.5, 1.5, 2, 3, 5])
    one = stats.bootstrap_median_difference(before, after, seed=11)
    assert one == stats.bootstrap_median_difference(before, after, seed=11)
    assert one.estimate == pytest.approx(np.median(after) - np.median(before))
    assert one.low <= one.estimate <= one.high < 0
    # the interval is made of achievable differences of order statistics, so it lies within the
    # widest possible span
    assert one.low >= after.min() - before.max() and one.high <= after.max() - before.min()
    # identical samples: the interval straddles zero
    same = stats.bootstrap_median_difference(before, before.copy(), seed=11)
    assert same.estimate == 0 and same.low < 0 < same.high
    # a sample of constants: no spread, the interval is the point
    flat = stats.bootstrap_median_difference(np.full(8, 5.0), np.full(9, 2.0), seed=1)
    assert (flat.estimate, flat.low, flat.high) == (-3.0, -3.0, -3.0)
    assert math.isnan(stats.bootstrap_median_difference(np.array([]), after).low)


def test_bootstrap_cost_does_not_grow_with_the_sample():
    big = np.random.default_rng(0).exponential(60, size=1_000_000)
    draws = stats.bootstrap_medians(big, 1000, np.random.default_rng(0))
    assert draws.shape == (1000,)
    assert abs(np.median(draws) - np.median(big)) < 0.5


def test_welch_mean_difference_matches_scipy():
    before = np.array([3, 2, 4, 3, 3, 2, 4, 3, 1, 3], dtype=float)
    after = np.array([5, 4, 5, 4, 5, 5, 3, 4], dtype=float)
    ref = sp.ttest_ind(after, before, equal_var=False).confidence_interval(0.95)
    interval = stats.welch_mean_difference(before, after)
    assert interval.estimate == pytest.approx(after.mean() - before.mean())
    assert (interval.low, interval.high) == pytest.approx((ref.low, ref.high), rel=1e-12)
    assert math.isnan(stats.welch_mean_difference(before, after[:1]).low)
    flat = stats.welch_mean_difference(np.array([3.0, 3.0]), np.array([4.0, 4.0, 4.0]))
    assert (flat.low, flat.high) == (1.0, 1.0)


def test_median_is_interpolated():
    assert stats.median(np.array([1.0, 2.0, 10.0, 20.0])) == 6.0
    assert stats.median(np.array([3.0])) == 3.0
    assert math.isnan(stats.median(np.array([])))
