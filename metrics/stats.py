"""The statistics behind before/after comparisons: intervals for rates, proportions, quantiles,
censored durations and means, and the multiplicity adjustment of one comparison's verdicts.

Pure functions of numbers and numpy arrays, deterministic (nothing is resampled at random), each
checked in tests/test_stats.py against published values, SciPy, literal values worked by hand or
exact enumeration. 95% two-sided intervals unless told otherwise.

Delivery data are not independent draws: deployments cluster in busy weeks, changes shipped together
share one wait, one person answers the survey month after month. The clustered estimators below
(`clustered_*`) treat the independent *unit* — a week, a deployment, a respondent — as the thing
that varies, and carry a t reference with (units - 1) degrees of freedom, so twelve weeks count as
twelve observations and not as the 84 days or 300 changes inside them. Recovery times, one per
failure or incident, are compared with a rank test that keeps the ones still open as censored
(`time_ratio_interval`, `km_median`).
docs/metrics.md, "Before/after", explains them in words; bench/bench_calibration.py proves them on
simulated data with no real change.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Callable

import numpy as np
import pandas as pd

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (NaN bounds where undefined, inf where unbounded)."""

    estimate: float
    low: float
    high: float
    p_value: float = math.nan  # two-sided, against no change; NaN where no test was made
    df: float = math.nan       # degrees of freedom of the t reference, where there is one


def z_value(confidence: float = CONFIDENCE) -> float:
    """The standard normal quantile for a two-sided interval (1.959964 for 95%). The standard
    library's (Wichura's algorithm, as SciPy's to the last digit or two) is 100 times quicker than a
    SciPy call, and the Newcombe p-value's bisection asks for dozens."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


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


# --- clustered estimators: the unit that varies is a week, a deployment, a respondent, an incident ---


@dataclass(frozen=True)
class Estimate:
    """One window's figure with the variance of its estimator and that variance's degrees of freedom
    (independent units - 1). `units` is how many independent units it rests on."""

    value: float
    variance: float
    df: float
    units: int
    low: float = math.nan   # for quantiles: the 95% normal-theory interval the variance comes from
    high: float = math.nan


def t_quantile(confidence: float, df: float) -> float:
    """The two-sided t quantile (the normal one for infinite df)."""
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, df)) if math.isfinite(df) else z_value(confidence)


def satterthwaite_df(variance_1: float, df_1: float, variance_2: float, df_2: float) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of two independent variance estimates."""
    parts = [v * v / d for v, d in ((variance_1, df_1), (variance_2, df_2)) if v > 0]
    if not parts:
        return math.inf
    return (variance_1 + variance_2) ** 2 / sum(parts)


def difference_interval(before: Estimate, after: Estimate, null: float = 0.0,
                        confidence: float = CONFIDENCE, log: bool = False) -> Interval:
    """after - before (or after / before with `log`: both values are then logs) with a t interval
    and a two-sided p-value against `null`: the standard error from both windows' variances, the
    degrees of freedom by Welch-Satterthwaite. No spread at all: the interval is the point."""
    from scipy.stats import t

    out = math.exp if log else float
    if not (math.isfinite(before.value) and math.isfinite(after.value)):
        return Interval(math.nan, math.nan, math.nan)
    d = after.value - before.value
    if math.isnan(before.variance) or math.isnan(after.variance):
        return Interval(out(d), math.nan, math.nan)  # no spread to judge it by (one unit on a side)
    if math.isinf(before.variance) or math.isinf(after.variance):
        return Interval(out(d), out(-math.inf), out(math.inf), 1.0, math.nan)
    variance = before.variance + after.variance
    df = satterthwaite_df(before.variance, before.df, after.variance, after.df)
    if variance <= 0:
        return Interval(out(d), out(d), out(d), 1.0 if d == null else 0.0, df)
    se = math.sqrt(variance)
    half = t_quantile(confidence, df) * se
    p = float(2 * t.sf(abs(d - null) / se, df if math.isfinite(df) else 1e9))
    return Interval(out(d), out(d - half), out(d + half), p, df)


def block_ratio(numerators: np.ndarray, denominators: np.ndarray) -> Estimate:
    """sum(numerators) / sum(denominators) over independent blocks (weeks), with the cluster-robust
    (linearised) variance k/(k-1) * sum((num_j - r den_j)^2) / sum(den)^2 — what resampling whole
    blocks estimates, in closed form — and k - 1 degrees of freedom."""
    num, den = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)
    keep = den > 0
    num, den = num[keep], den[keep]
    k, total = len(den), den.sum()
    if k == 0 or total <= 0:
        return Estimate(math.nan, math.nan, math.nan, k)
    r = num.sum() / total
    if k < 2:
        return Estimate(r, math.nan, 0.0, k)
    variance = k / (k - 1) * float(np.sum((num - r * den) ** 2)) / total ** 2
    return Estimate(r, variance, k - 1.0, k)


def log_estimate(estimate: Estimate) -> Estimate:
    """The same estimate on the log scale (delta method): a ratio's interval is then a t interval
    of the log ratio, which respects that a rate cannot go below zero."""
    if not estimate.value > 0:
        return Estimate(math.nan, math.nan, estimate.df, estimate.units)
    return Estimate(math.log(estimate.value), estimate.variance / estimate.value ** 2,
                    estimate.df, estimate.units)


def clustered_proportion_difference(x_before: np.ndarray, n_before: np.ndarray, x_after: np.ndarray,
                                    n_after: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Difference of two proportions (after - before) measured in blocks (weeks): Newcombe's hybrid
    score interval on each side's *effective* sample size, n / design effect, where the design
    effect is the block-robust variance over the binomial one (Kish), never below 1. Sound for small
    counts and rates of 0 (where a normal interval collapses) and for failures that cluster in bad
    weeks. The p-value is the level at which the interval starts to exclude 0 (found by bisection)."""
    sides = []
    for x, n in ((x_after, n_after), (x_before, n_before)):
        x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
        total = n.sum()
        if total <= 0:
            return Interval(math.nan, math.nan, math.nan)
        p = x.sum() / total
        blocks = block_ratio(x, n)
        binomial = p * (1 - p) / total
        deff = blocks.variance / binomial if binomial > 0 and math.isfinite(blocks.variance) else 1.0
        effective = total / max(deff, 1.0)
        sides.append((p * effective, effective))
    (xa, na), (xb, nb) = sides
    interval = newcombe_difference(xa, na, xb, nb, confidence)
    return replace(interval, p_value=invert_p_value(lambda c: newcombe_difference(xa, na, xb, nb, c), 0.0))


def invert_p_value(interval_at: Callable[[float], Interval], null: float, steps: int = 40) -> float:
    """The two-sided p-value of an interval method: 1 - the highest confidence at which its interval
    still excludes `null` (bisection; the intervals are nested, so this is well defined)."""
    def excludes(confidence: float) -> bool:
        interval = interval_at(confidence)
        return interval.low > null or interval.high < null

    low, high = 1e-9, 1 - 1e-12  # confidence levels: excludes at low?, at high?
    if not excludes(low):
        return 1.0
    if excludes(high):
        return 1e-12
    for _ in range(steps):
        middle = (low + high) / 2
        low, high = (middle, high) if excludes(middle) else (low, middle)
    return 1 - low


def number_clusters(ids: np.ndarray) -> np.ndarray:
    """Cluster ids numbered 0..k-1 (any ids: deployment keys are hashes spread over the whole 64-bit
    range), by hashing (pandas' factorize: no sort of a million keys). A caller estimating several
    quantiles of one sample numbers its clusters once (clustered_quantile's `codes`). The table is
    sized for every id at once (no growing and rehashing as a million ids come in): the same
    numbers, a fifth quicker."""
    ids = np.asarray(ids)
    return pd.factorize(ids, size_hint=len(ids))[0]


def clustered_quantile(values: np.ndarray, clusters: np.ndarray | None = None, q: float = 0.5, *,
                       codes: np.ndarray | None = None) -> Estimate:
    """The interpolated q-quantile with Woodruff's variance (Woodruff 1952; the survey statistician's
    interval for a median under cluster sampling): the variance of the empirical CDF at the quantile
    is computed over clusters (changes shipped by one deployment move together), then mapped through
    the quantile function: se = (Q(q + z s) - Q(q - z s)) / 2z. O(n) after a sort, so a million
    lead times cost a fraction of a second; degrees of freedom: clusters - 1. `clusters` None: every
    value is its own cluster; `codes`: the clusters already numbered (number_clusters)."""
    return clustered_quantiles(values, (q,), clusters, codes=codes)[0]


def clustered_quantiles(values: np.ndarray, qs: tuple[float, ...], clusters: np.ndarray | None = None, *,
                        codes: np.ndarray | None = None) -> list[Estimate]:
    """clustered_quantile at each of `qs` (the median and the p90 of one window's lead times): the
    same estimates, with numpy finding every quantile's order statistics in one partition of the
    values, and every interval's ends in a second, instead of two partitions per quantile (a
    quantile is its order statistics whichever others are found with it)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return [Estimate(math.nan, math.nan, math.nan, 0) for _ in qs]
    if codes is None and clusters is not None:
        codes = number_clusters(clusters)
    k = n if codes is None else int(codes.max()) + 1
    # numpy partitions a copy of its own for each quantile call: partition one copy in place twice
    # instead (the interval's ends lie near the estimates, so the second partition finds the copy
    # mostly in order); x itself keeps its order, which the clusters' codes follow
    work = x.copy()
    estimates = [float(v) for v in np.quantile(work, list(qs), overwrite_input=True)]
    if k < 2:
        return [Estimate(estimate, math.nan, 0.0, k) for estimate in estimates]
    z = z_value()
    ends = []  # each quantile's interval: the quantiles q - z s and q + z s
    for q, estimate in zip(qs, estimates):
        below = (x <= estimate).astype(float)
        residual = below - below.mean()
        sums = residual if codes is None else np.bincount(codes, weights=residual)
        spread = math.sqrt(k / (k - 1) * float(np.sum(sums ** 2)) / n ** 2)
        ends += [max(q - z * spread, 0.0), min(q + z * spread, 1.0)]
    bounds = np.quantile(work, ends, overwrite_input=True)
    return [Estimate(estimate, float((high - low) / (2 * z)) ** 2, k - 1.0, k, float(low), float(high))
            for estimate, low, high in zip(estimates, bounds[0::2], bounds[1::2])]


def km_median(durations: np.ndarray, observed: np.ndarray) -> Estimate:
    """Kaplan-Meier median of durations some of which are censored (`observed` False: still open,
    known only to last at least that long), with Greenwood's variance at the median mapped through
    the survival curve as in Brookmeyer & Crowley (1982). Without censoring the median is the
    ordinary interpolated one and the variance the order-statistic one. A median the curve never
    reaches (more than half still open) is NaN; degrees of freedom: events - 1."""
    t = np.asarray(durations, dtype=float)
    seen = np.asarray(observed, dtype=bool)
    events = int(seen.sum())
    if events == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    order = np.sort(t)
    times, deaths = np.unique(t[seen], return_counts=True)
    at_risk = len(t) - np.searchsorted(order, times, side="left")
    survival = np.cumprod(1 - deaths / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(deaths / (at_risk * (at_risk - deaths)))

    def quantile(p: float) -> float:
        """The smallest event time where the curve is at or below 1 - p (a flat stretch exactly at
        1 - p: the midpoint to the next event time, the interpolated median's convention)."""
        target = 1 - p
        hit = np.nonzero(survival <= target + 1e-12)[0]
        if len(hit) == 0:
            return math.inf
        i = hit[0]
        if abs(survival[i] - target) <= 1e-12 and i + 1 < len(times):
            return float((times[i] + times[i + 1]) / 2)
        return float(times[i])

    median_value = quantile(0.5)
    if not math.isfinite(median_value):
        return Estimate(math.nan, math.nan, math.nan, events)
    if events < 2:
        return Estimate(median_value, math.nan, 0.0, events)
    i = int(np.searchsorted(times, median_value, side="right")) - 1
    spread = float(survival[i] * math.sqrt(greenwood[i])) if np.isfinite(greenwood[i]) else 0.5 / math.sqrt(events)
    z = z_value()
    low, high = quantile(max(0.5 - z * spread, 0.0)), quantile(min(0.5 + z * spread, 1.0))
    variance = ((high - low) / (2 * z)) ** 2 if math.isfinite(high) else math.inf
    return Estimate(median_value, variance, events - 1.0, events, low, high)


def log_quantile(estimate: Estimate) -> Estimate:
    """A quantile's estimate on the log scale, its variance from the log of its interval's ends (a
    quantile interval maps through any increasing function). Durations are skewed: a ratio of
    medians is judged far better on this scale than a difference. A zero or open end: no spread
    is known (infinite variance), so no verdict can come of it."""
    if not (estimate.value > 0 and estimate.low > 0 and math.isfinite(estimate.high)):
        return Estimate(math.log(estimate.value) if estimate.value > 0 else math.nan, math.inf,
                        estimate.df, estimate.units)
    variance = ((math.log(estimate.high) - math.log(estimate.low)) / (2 * z_value())) ** 2
    return Estimate(math.log(estimate.value), variance, estimate.df, estimate.units)


def clustered_mean(values: np.ndarray, clusters: np.ndarray) -> Estimate:
    """The mean with a cluster-robust variance (answers of one respondent move together):
    k/(k-1) * sum over clusters of (sum of deviations)^2 / n^2, k - 1 degrees of freedom. With one
    answer per cluster this is s^2 / n, Welch's variance."""
    y = np.asarray(values, dtype=float)
    n = len(y)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    codes = np.unique(np.asarray(clusters), return_inverse=True)[1]
    k = int(codes.max()) + 1
    if k < 2:
        return Estimate(float(y.mean()), math.nan, 0.0, k)
    sums = np.bincount(codes, weights=y - y.mean())
    return Estimate(float(y.mean()), k / (k - 1) * float(np.sum(sums ** 2)) / n ** 2, k - 1.0, k)


def holm_adjust(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (Holm 1979) of one family of p-values: the smallest is multiplied
    by m, the next by m - 1, ..., kept monotone and capped at 1. NaN (no test) stays NaN and does
    not count in m. Controls the chance of any false verdict in the family at the nominal level."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    tested = np.nonzero(~np.isnan(p))[0]
    m = len(tested)
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out[order] = scaled
    return out


class LogrankShift:
    """The log-rank test of two samples of durations (open ones censored) with the after sample
    moved by `shift`, prepared once and evaluated cheaply for many shifts (time_ratio_interval
    evaluates it a few dozen times): each sample is sorted once, and a shift only moves the query
    points of the binary searches, so a comparison of 25,000 incidents a side costs milliseconds
    per evaluation."""

    def __init__(self, before: np.ndarray, before_observed: np.ndarray, after: np.ndarray,
                 after_observed: np.ndarray):
        self.before = np.sort(np.asarray(before, dtype=float))
        self.after = np.sort(np.asarray(after, dtype=float))
        before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
        # distinct event times of each sample and how many end at each
        self.before_times, self.before_deaths = np.unique(before[np.asarray(before_observed, bool)],
                                                          return_counts=True)
        self.after_times, self.after_deaths = np.unique(after[np.asarray(after_observed, bool)],
                                                        return_counts=True)
        self.before_at_risk = len(self.before) - np.searchsorted(self.before, self.before_times, side="left")
        self.after_at_risk = len(self.after) - np.searchsorted(self.after, self.after_times, side="left")
        # the before sample's distinct durations, each with how many last at least that long and
        # which event time it is (-1: only open ones end there); one past the end for a time after
        # them all: statistic finds an after time's ties and its before at-risk count in one search
        values, first = np.unique(self.before, return_index=True)
        self.before_values = np.append(values, np.nan)  # NaN: equal to no time
        self.before_at_least = len(self.before) - np.append(first, len(self.before))
        self.before_event = np.full(len(self.before_values), -1)
        self.before_event[np.searchsorted(values, self.before_times)] = np.arange(len(self.before_times))
        self.z_at: dict[float, float] = {}  # z per shift evaluated (z)

    def statistic(self, shift: float = 0.0) -> tuple[float, float]:
        """(U, its variance under no difference) with every after duration moved by -`shift`.
        U = sum over event times of (events after - events x share of the at-risk who are after);
        the variance is the hypergeometric one, exact for tied times. U > 0: the after sample ends
        sooner than the before one would."""
        after_times = self.after_times - shift
        # event times of both samples, merged: an after time equal to a before time is one time
        where = np.searchsorted(self.before_values[:-1], after_times)
        tied = (self.before_values[where] == after_times) & (self.before_event[where] >= 0)
        at = self.before_event[where[tied]]  # the before event time each tied after time is
        d_after = np.zeros(len(self.before_times))
        np.add.at(d_after, at, self.after_deaths[tied])
        # at risk at t: durations >= t (the after ones moved by the shift); each count is taken on
        # its own sample's unshifted scale, so rounding in the shift never loses anyone at risk
        n_after = len(self.after) - np.searchsorted(self.after, self.before_times + shift, side="left")
        n_after[at] = self.after_at_risk[tied]
        d_before = np.concatenate([self.before_deaths, np.zeros(int((~tied).sum()))])
        d_after = np.concatenate([d_after, self.after_deaths[~tied]])
        n_before = np.concatenate([self.before_at_risk, self.before_at_least[where[~tied]]])
        n_after = np.concatenate([n_after, self.after_at_risk[~tied]])
        d, n = d_before + d_after, (n_before + n_after).astype(float)
        share = n_after / n
        u = float(np.sum(d_after - d * share))
        with np.errstate(divide="ignore", invalid="ignore"):
            ties = np.where(n > 1, (n - d) / (n - 1), 0.0)
        return u, float(np.sum(d * share * (1 - share) * ties))

    def z(self, shift: float = 0.0) -> float:
        """The standardised statistic U / sqrt(variance) (0 where there is no variance), computed once
        per shift: each of time_ratio_interval's root searches starts by evaluating the ends of the
        one bracket, which it has evaluated already (8 of its 30-odd evaluations)."""
        if shift not in self.z_at:
            u, variance = self.statistic(shift)
            self.z_at[shift] = u / math.sqrt(variance) if variance > 0 else 0.0
        return self.z_at[shift]


def logrank_statistic(before: np.ndarray, before_observed: np.ndarray, after: np.ndarray,
                      after_observed: np.ndarray) -> tuple[float, float]:
    """The log-rank (Mantel-Haenszel) statistic of two samples, open ones censored, and its
    variance under no difference (LogrankShift.statistic at no shift); U / sqrt(variance) is
    SciPy's `logrank` statistic with the sign turned: positive when the after sample ends sooner."""
    return LogrankShift(before, before_observed, after, after_observed).statistic()


def time_ratio_interval(before: np.ndarray, before_observed: np.ndarray, after: np.ndarray,
                        after_observed: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """How many times longer (after / before) the after sample's durations are, open ones censored:
    the log-rank test inverted over scale changes (the rank estimator of the accelerated failure
    time model, Tsiatis 1990). For a candidate ratio r the after durations are divided by r and the
    log-rank test is run (on log durations: the ranks are the same): the estimate is the r at which
    the statistic changes sign, the interval every r the test does not reject, the p-value that of
    the plain log-rank test (r = 1). It uses every recovery — not only the two middle ones, as a
    ratio of medians does — so a dozen recoveries a side are enough to see a ten-fold change; when
    the change is one of scale (every recovery n times faster) r is also the ratio of the medians.
    Normal reference; fewer than two events in all: undefined."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    before_observed, after_observed = np.asarray(before_observed, bool), np.asarray(after_observed, bool)
    if before_observed.sum() + after_observed.sum() < 2 or not len(before) or not len(after):
        return Interval(math.nan, math.nan, math.nan)
    with np.errstate(divide="ignore"):  # a zero duration (a rollback in the same second) is log -inf:
        log_before, log_after = np.log(before), np.log(after)  # it stays first whatever the ratio
    test = LogrankShift(log_before, before_observed, log_after, after_observed)
    finite = np.concatenate([log_before, log_after])
    finite = finite[np.isfinite(finite)]
    # Z rises (step-wise, almost always monotonically) with the log ratio: at the lower end of the
    # bracket every after duration is longer than every before one, at the upper end shorter
    spread = float(finite.max() - finite.min()) if len(finite) else 0.0
    low_end, high_end = -spread - 1.0, spread + 1.0
    z_low, z_high = test.z(low_end), test.z(high_end)

    def crossing(level: float) -> float:
        """The log ratio where Z passes `level` (to 0.01% of the ratio); NaN: not in the bracket."""
        if z_low >= level or z_high <= level:
            return math.nan
        return float(brentq(lambda shift: test.z(shift) - level, low_end, high_end, xtol=1e-4))

    z = z_value(confidence)
    # the estimate: where Z changes sign (the middle of the flat stretch at zero, if there is one)
    estimate = (crossing(-1e-9) + crossing(1e-9)) / 2
    # below the interval the after durations divided by r are still too long (Z < -z); above it,
    # too short (Z > z)
    low, high = crossing(-z), crossing(z)
    p = float(2 * norm.sf(abs(test.z(0.0))))
    return Interval(math.exp(estimate) if math.isfinite(estimate) else math.nan,
                    math.exp(low) if math.isfinite(low) else 0.0,
                    math.exp(high) if math.isfinite(high) else math.inf, p)
