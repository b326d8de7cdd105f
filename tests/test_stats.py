"""The before/after statistics against published values, SciPy, values worked by hand and exact
enumeration on small inputs."""
from __future__ import annotations

import dataclasses
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


# --- clustered estimators ---------------------------------------------------------------------


def test_clustered_quantile_is_woodruffs_interval_worked_by_hand():
    # 1..10, median 5.5; five values at or below it: the CDF's standard error is
    # sqrt(10/9 * 10 * 0.5^2 / 10^2) = 1/6, so the interval runs between the quantiles at
    # 0.5 -/+ 1.96/6 = 0.1733 and 0.8267: 2.56 and 8.44 (linear interpolation), se (8.44-2.56)/3.92 = 1.5
    found = stats.clustered_quantile(np.arange(1.0, 11.0))
    z = sp.norm.ppf(0.975)
    assert found.value == 5.5 and (found.units, found.df) == (10, 9.0)
    assert (found.low, found.high) == pytest.approx((1 + 9 * (0.5 - z / 6), 1 + 9 * (0.5 + z / 6)))
    assert found.variance == pytest.approx(((found.high - found.low) / (2 * z)) ** 2)
    assert found.variance == pytest.approx(2.25, rel=1e-3)
    p90 = stats.clustered_quantile(np.arange(1.0, 11.0), q=0.9)
    assert p90.value == pytest.approx(9.1)


def test_clustered_quantile_counts_clusters_not_values():
    # three changes shipped by each deployment share its wait: as many units as deployments, and
    # the same spread of the CDF as one value per deployment
    waits = np.array([3.0, 8.0, 1.0, 12.0, 5.0, 7.0, 2.0])
    shared = stats.clustered_quantile(np.repeat(waits, 3), np.repeat(np.arange(7), 3))
    alone = stats.clustered_quantile(waits)
    naive = stats.clustered_quantile(np.repeat(waits, 3))
    assert (shared.units, shared.df, naive.units) == (7, 6.0, 21)
    assert shared.value == alone.value == 5.0
    assert shared.variance > naive.variance  # 21 changes are not 21 independent waits
    # cluster ids are hashes anywhere in the 64-bit range
    hashed = stats.clustered_quantile(np.repeat(waits, 3), np.repeat(np.array([-2 ** 63, 2 ** 62, 7, -1, 0, 5, 2 ** 63 - 1]), 3))
    assert (hashed.value, hashed.variance, hashed.units) == (shared.value, shared.variance, 7)
    assert math.isnan(stats.clustered_quantile(np.array([4.0, 4.0]), np.array([1, 1])).variance)
    assert stats.clustered_quantile(np.array([])).units == 0


def woodruff_by_hand(values: np.ndarray, q: float, clusters: np.ndarray | None) -> tuple:
    """One quantile's Woodruff estimate written out plainly (no shared partitions, clusters by
    np.unique), as the fields of stats.Estimate: the reference the batched code must equal."""
    n = len(values)
    if n == 0:
        return (math.nan, math.nan, math.nan, 0, math.nan, math.nan)
    labels = np.arange(n) if clusters is None else np.unique(clusters, return_inverse=True)[1]
    k = len(np.unique(labels))
    value = float(np.quantile(values, q))
    if k < 2:
        return (value, math.nan, 0.0, k, math.nan, math.nan)
    below = (values <= value).astype(float)
    per_cluster = np.array([np.sum(below[labels == c] - below.mean()) for c in range(k)])
    spread = math.sqrt(k / (k - 1) * float(np.sum(per_cluster ** 2)) / n ** 2)
    z = sp.norm.ppf(0.975)
    low, high = np.quantile(values, [max(q - z * spread, 0.0), min(q + z * spread, 1.0)])
    return (value, float((high - low) / (2 * z)) ** 2, k - 1.0, k, float(low), float(high))


def test_quantiles_estimated_together_are_woodruffs_one_by_one():
    """clustered_quantiles (the story's median and p90 of one window, from two partitions in all)
    gives each quantile's estimate, interval and variance as Woodruff's method worked one quantile
    at a time does, with ties, clusters, one value and none."""
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 7, 100, 2_000):
        values = rng.lognormal(2, 1.5, n).round(1)
        ids = rng.integers(0, max(n // 3, 1), n)
        for qs, clusters in (((0.5, 0.9), ids), ((0.9, 0.5, 0.25), ids), ((0.5, 0.9), None)):
            codes = None if clusters is None else stats.number_clusters(clusters)
            together = [dataclasses.astuple(e) for e in stats.clustered_quantiles(values, qs, codes=codes)]
            by_hand = [woodruff_by_hand(values, q, clusters) for q in qs]
            assert np.allclose(together, by_hand, rtol=1e-12, atol=0, equal_nan=True), (n, qs)


def test_km_median_without_censoring_is_the_interpolated_median():
    for values in ([5.0, 1.0, 3.0], [10.0, 20.0, 30.0, 40.0], [2.0, 2.0, 7.0, 9.0, 9.0, 11.0]):
        x = np.array(values)
        assert stats.km_median(x, np.ones(len(x), bool)).value == np.median(x)
    # 1..20: the curve sits at exactly 0.5 from 10 to 11 (the midpoint, 10.5); Greenwood's variance
    # at the median is 0.25/20, so the Brookmeyer-Crowley interval runs between the curve's
    # quantiles at 0.5 -/+ 1.96 * 0.5 / sqrt(20): 0.281 (the 6th value) and 0.719 (the 15th)
    found = stats.km_median(np.arange(1.0, 21.0), np.ones(20, bool))
    assert (found.value, found.low, found.high, found.units, found.df) == (10.5, 6.0, 15.0, 20, 19.0)


def test_km_median_with_open_recoveries_follows_scipys_kaplan_meier_curve():
    # 1, 2, (3 still open), 4, 5, 6: S = 5/6, 4/6, then 4/6 * 2/3 = 0.444 at 4: the median is 4
    durations = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    observed = np.array([True, True, False, True, True, True])
    assert stats.km_median(durations, observed).value == 4.0
    rng = np.random.default_rng(5)
    for _ in range(20):
        durations = np.round(rng.lognormal(3, 1, 25))
        observed = rng.random(25) < 0.7
        curve = sp.ecdf(sp.CensoredData(uncensored=durations[observed], right=durations[~observed])).sf
        at_half = curve.quantiles[curve.probabilities <= 0.5]
        found = stats.km_median(durations, observed).value
        if not len(at_half):
            assert math.isnan(found)  # more than half still open: the curve never reaches 0.5
        elif not np.isclose(curve.probabilities, 0.5).any():
            assert found == at_half[0]
    # more than half still open: no median yet
    assert math.isnan(stats.km_median(np.array([5.0, 9.0, 9.0]), np.array([True, False, False])).value)
    assert stats.km_median(np.array([3.0]), np.array([False])).units == 0


def test_clustered_mean_is_welch_with_one_answer_each_and_robust_with_repeats():
    answers = np.array([3.0, 2.0, 4.0, 3.0, 5.0])
    alone = stats.clustered_mean(answers, np.arange(5))
    assert alone.value == 3.4 and alone.variance == pytest.approx(answers.var(ddof=1) / 5)
    assert (alone.units, alone.df) == (5, 4.0)
    # 1, 2 from person a and 3, 4 from person b: deviations -1.5, -0.5 | 0.5, 1.5; sums -2 | 2;
    # 2/(2-1) * (4 + 4) / 4^2 = 1.0, one degree of freedom
    two = stats.clustered_mean(np.array([1.0, 2.0, 3.0, 4.0]), np.array(["a", "a", "b", "b"]))
    assert (two.value, two.variance, two.df, two.units) == (2.5, 1.0, 1.0, 2)
    assert math.isnan(stats.clustered_mean(np.array([1.0, 5.0]), np.array(["a", "a"])).variance)


def test_holm_adjust_worked_by_hand_and_against_every_order():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> kept monotone: 0.06
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert stats.holm_adjust(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    for order in itertools.permutations(range(4)):  # the adjustment does not depend on the order
        assert stats.holm_adjust(p[list(order)]) == pytest.approx(stats.holm_adjust(p)[list(order)])
    # NaN (a metric without enough data) is not tested: it stays NaN and does not count in m
    assert stats.holm_adjust(np.array([np.nan, 0.01, 0.02])) == pytest.approx([np.nan, 0.02, 0.02], nan_ok=True)
    assert stats.holm_adjust(np.array([0.5, 0.9])).tolist() == [1.0, 1.0]
    assert np.isnan(stats.holm_adjust(np.array([np.nan]))).all()


def test_holm_rejects_something_exactly_when_bonferroni_would():
    # so with no real change anywhere (independent uniform p-values) the chance of any false verdict
    # in a family of m is 1 - (1 - 0.05/m)^m, below 5%: checked on every triple of a grid that
    # straddles 0.05/3
    grid = [0.001, 0.0166, 0.0167, 0.02, 0.025, 0.03, 0.05, 0.2]
    for ps in itertools.product(grid, repeat=3):
        assert bool((stats.holm_adjust(np.array(ps)) < 0.05).any()) == (min(ps) < 0.05 / 3), ps
    assert 1 - (1 - 0.05 / 3) ** 3 < 0.05


def test_clustered_proportion_difference_is_newcombe_when_blocks_do_not_cluster():
    # the same failure rate in every week: no design effect (the block variance is below the
    # binomial one, and the design effect is never below 1), so it is Newcombe's interval on the
    # counts: after (0 of 40) - before (4 of 40)
    found = stats.clustered_proportion_difference(np.array([1, 1, 1, 1]), np.array([10, 10, 10, 10]),
                                                  np.zeros(4), np.array([10, 10, 10, 10]))
    reference = stats.newcombe_difference(0, 40, 4, 40)
    assert (found.estimate, found.low, found.high) == pytest.approx((reference.estimate, reference.low, reference.high))
    # the p-value is where the interval starts to exclude no change
    edge = stats.newcombe_difference(0, 40, 4, 40, 1 - found.p_value)
    assert edge.high == pytest.approx(0.0, abs=1e-6)


def test_clustered_proportion_difference_shrinks_the_sample_by_the_design_effect():
    # before: all 4 failures in one bad week of 4 (10 deployments each): p = 0.1; block variance
    # 4/3 * (3^2 + 3 * 1^2) / 40^2 = 0.01 against the binomial 0.1 * 0.9 / 40 = 0.00225: a design
    # effect of 4.44, so the 40 deployments weigh as 9 (0.9 failures)
    found = stats.clustered_proportion_difference(np.array([4, 0, 0, 0]), np.array([10, 10, 10, 10]),
                                                  np.zeros(4), np.array([10, 10, 10, 10]))
    reference = stats.newcombe_difference(0, 40, 0.9, 9.0)
    assert (found.estimate, found.low, found.high) == pytest.approx((reference.estimate, reference.low, reference.high))
    assert found.low < stats.newcombe_difference(0, 40, 4, 40).low  # wider than the raw counts'
    assert math.isnan(stats.clustered_proportion_difference(np.array([1]), np.array([0]), np.array([0]),
                                                            np.array([3])).low)


# --- recoveries: the log-rank test and the time ratio ---------------------------------------------


def test_logrank_statistic_matches_scipy_with_ties_and_open_recoveries():
    rng = np.random.default_rng(11)
    for _ in range(10):
        before, after = np.round(rng.lognormal(3, 1, 20)), np.round(rng.lognormal(2.6, 1, 15))
        b_seen, a_seen = rng.random(20) < 0.8, rng.random(15) < 0.7
        u, variance = stats.logrank_statistic(before, b_seen, after, a_seen)
        reference = sp.logrank(sp.CensoredData(uncensored=before[b_seen], right=before[~b_seen]),
                               sp.CensoredData(uncensored=after[a_seen], right=after[~a_seen]))
        assert u / math.sqrt(variance) == pytest.approx(-reference.statistic)  # positive: after ends sooner


def test_time_ratio_interval_finds_an_exact_change_of_scale():
    before = np.array([30.0, 41, 45, 52, 60, 75, 90, 120, 35, 48, 57, 66])
    after = before / 15  # every recovery fifteen times faster
    seen = np.ones(12, bool)
    found = stats.time_ratio_interval(before, seen, after, seen)
    assert found.estimate == pytest.approx(1 / 15, rel=1e-3)
    assert found.low < 1 / 15 < found.high < 1
    reference = sp.logrank(sp.CensoredData(uncensored=before), sp.CensoredData(uncensored=after))
    assert found.p_value == pytest.approx(reference.pvalue)


def test_time_ratio_interval_is_the_set_of_ratios_the_log_rank_test_keeps():
    rng = np.random.default_rng(3)
    before, after = rng.lognormal(3.8, 1, 14), rng.lognormal(2.5, 1, 11)
    b_seen, a_seen = np.ones(14, bool), rng.random(11) < 0.8

    def p_at(ratio: float) -> float:
        scaled = after / ratio
        return sp.logrank(sp.CensoredData(uncensored=before),
                          sp.CensoredData(uncensored=scaled[a_seen], right=scaled[~a_seen])).pvalue

    found = stats.time_ratio_interval(before, b_seen, after, a_seen)
    assert found.low < found.estimate < found.high
    assert p_at(found.low * 1.002) >= 0.05 > p_at(found.low * 0.99)
    assert p_at(found.high / 1.002) >= 0.05 > p_at(found.high / 0.99)
    assert p_at(found.estimate) > 0.9


def test_time_ratio_interval_edge_cases():
    seen = np.ones(3, bool)
    # a rollback in the same second (0 minutes) stays the shortest whatever the ratio
    with_zero = stats.time_ratio_interval(np.array([0.0, 40, 50]), seen, np.array([2.0, 3, 4]), seen)
    assert math.isfinite(with_zero.estimate)
    # three against three, all faster: the test cannot exclude every ratio above, so the upper end is open
    few = stats.time_ratio_interval(np.array([40.0, 50, 60]), seen, np.array([2.0, 3, 4]), seen)
    assert few.estimate < 1 and few.p_value < 0.05
    # one event in all: nothing to rank
    none = stats.time_ratio_interval(np.array([40.0]), np.array([True]), np.array([3.0]), np.array([False]))
    assert math.isnan(none.estimate) and math.isnan(none.low)
