"""The statistics behind before/after comparisons: intervals for rates, rate ratios, medians, means.

Pure functions of numbers and numpy arrays, deterministic (bootstraps take a seed), each checked in
tests/test_stats.py against published values or SciPy. 95% two-sided intervals unless told otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 10_000
SEED = 20240101  # any fixed value: the same data always gives the same interval


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (NaN bounds where undefined, inf where unbounded)."""

    estimate: float
    low: float
    high: float


def z_value(confidence: float = CONFIDENCE) -> float:
    """The standard normal quantile for a two-sided interval (1.959964 for 95%)."""
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson score interval for a proportion (Wilson 1927; Newcombe 1998a, method 3)."""
    if n <= 0:
        return Interval(math.nan, math.nan, math.nan)
    z = z_value(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # exact 0 and 1 at the ends (the formula gives them up to rounding)
    return Interval(p, 0.0 if successes == 0 else centre - half, 1.0 if successes == n else centre + half)


def newcombe_difference(successes_1: int, n_1: int, successes_2: int, n_2: int,
                        confidence: float = CONFIDENCE) -> Interval:
    """Difference of two independent proportions p1 - p2 with Newcombe's hybrid score interval
    (Newcombe 1998b, method 10), built from the two Wilson intervals; sound for small counts and
    for rates of 0 or 1, where the Wald interval collapses."""
    if n_1 <= 0 or n_2 <= 0:
        return Interval(math.nan, math.nan, math.nan)
    one, two = wilson_interval(successes_1, n_1, confidence), wilson_interval(successes_2, n_2, confidence)
    d = one.estimate - two.estimate
    low = d - math.sqrt((one.estimate - one.low) ** 2 + (two.high - two.estimate) ** 2)
    high = d + math.sqrt((one.high - one.estimate) ** 2 + (two.estimate - two.low) ** 2)
    return Interval(d, low, high)


def rate_ratio_interval(count_1: int, exposure_1: float, count_2: int, exposure_2: float,
                        confidence: float = CONFIDENCE) -> Interval:
    """Ratio of two Poisson rates (count_1/exposure_1) / (count_2/exposure_2) with the exact
    conditional interval: given the total, count_1 is binomial with p = r E1 / (r E1 + E2), so the
    Clopper-Pearson interval for p maps onto one for the ratio r (Armitage, Berry & Matthews,
    Statistical Methods in Medical Research, 4th ed., §5.3). No counts at all: undefined (NaN)."""
    from scipy.stats import beta

    total = count_1 + count_2
    if total == 0 or exposure_1 <= 0 or exposure_2 <= 0:
        return Interval(math.nan, math.nan, math.nan)
    alpha = 1 - confidence
    p_low = 0.0 if count_1 == 0 else float(beta.ppf(alpha / 2, count_1, total - count_1 + 1))
    p_high = 1.0 if count_1 == total else float(beta.ppf(1 - alpha / 2, count_1 + 1, total - count_1))
    scale = exposure_2 / exposure_1

    def ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * scale

    estimate = math.inf if count_2 == 0 else (count_1 / exposure_1) / (count_2 / exposure_2)
    return Interval(estimate, ratio(p_low), ratio(p_high))


def median(values: np.ndarray) -> float:
    """The interpolated median (the mean of the two middle values for an even count), as the metrics."""
    return float(np.median(values)) if len(values) else math.nan


def bootstrap_medians(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """`resamples` draws of the median of a bootstrap resample of `values` (with replacement, same size).

    Exact without building the resamples: the k-th smallest of n draws from the data is the data's
    value at rank ceil(n U) where U is the k-th smallest of n uniforms, distributed Beta(k, n - k + 1).
    For an even n the two middle order statistics are drawn jointly: given U_(k), the next one is
    U_(k) + (1 - U_(k)) Beta(1, n - k). So memory and time are O(resamples) whatever n is — a
    million lead times cost the same as a hundred — and tests/test_stats.py checks the result
    against explicit resampling.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0:
        return np.full(resamples, np.nan)

    def at(u: np.ndarray) -> np.ndarray:
        return x[np.clip(np.ceil(n * u).astype(np.int64) - 1, 0, n - 1)]

    k = (n + 1) // 2
    u_k = rng.beta(k, n - k + 1, size=resamples)
    if n % 2:
        return at(u_k)
    u_next = u_k + (1 - u_k) * rng.beta(1, n - k, size=resamples)
    return (at(u_k) + at(u_next)) / 2


def bootstrap_median_difference(before: np.ndarray, after: np.ndarray, resamples: int = RESAMPLES,
                                seed: int = SEED, confidence: float = CONFIDENCE) -> Interval:
    """median(after) - median(before) with a percentile bootstrap interval (the two samples resampled
    independently, `resamples` times, from `seed`). Either sample empty: undefined (NaN)."""
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if len(before) == 0 or len(after) == 0:
        return Interval(math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    differences = bootstrap_medians(after, resamples, rng) - bootstrap_medians(before, resamples, rng)
    alpha = 1 - confidence
    low, high = np.quantile(differences, [alpha / 2, 1 - alpha / 2])
    return Interval(median(after) - median(before), float(low), float(high))


def welch_mean_difference(before: np.ndarray, after: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """mean(after) - mean(before) with Welch's t interval (unequal variances, Welch-Satterthwaite
    degrees of freedom). Needs two values on each side; with no spread at all the interval is the
    point itself."""
    from scipy.stats import t

    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    n_1, n_2 = len(after), len(before)
    if n_1 < 2 or n_2 < 2:
        return Interval(math.nan, math.nan, math.nan)
    d = float(after.mean() - before.mean())
    v_1, v_2 = after.var(ddof=1) / n_1, before.var(ddof=1) / n_2
    se = math.sqrt(v_1 + v_2)
    if se == 0:
        return Interval(d, d, d)
    df = (v_1 + v_2) ** 2 / (v_1 ** 2 / (n_1 - 1) + v_2 ** 2 / (n_2 - 1))
    half = float(t.ppf(0.5 + confidence / 2, df)) * se
    return Interval(d, d - half, d + half)
