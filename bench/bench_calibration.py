"""Calibration of before/after verdicts: simulated window pairs, with and without a real change.

Each run simulates two windows of delivery data shaped like the sample's (docs/metrics.md,
"Before/after: calibration"), feeds them to metrics.compare.compare_samples — the very function
`dora compare` runs on the warehouse's rows — and counts the verdicts:

- no change (28 days a side, and 84 against 28): the share of "improved"/"worse" verdicts per
  metric must be at most 5% (the false-alarm rate; the target is that of one 95% interval);
- the story's change (12 weeks before, 4 after: about 1 deploy a week per service → 20 a day for
  the organisation, CFR 18% → 2%, recovery 45 → 3 min, lead time 5 days → 45 min): the power;
- a modest change (CFR 10% → 7%): the power, as it is.

What the simulation puts in, per window (every figure seeded, so a run always gives the same table):
daily deployments with a weekday pattern, week-to-week drift (a log-normal factor per week) and day
noise, so variance ÷ mean of daily counts is about 5; failures clustered in bad weeks (one week in
five fails at three times the rate); deployments of 1–7 changes sharing the deployment's wait; a
survey of 48 people answering every 4 weeks with a personal bias; incidents and failed-deployment
recoveries with log-normal durations, still open (censored) when they outlast the data's end.

    .venv/bin/python bench/bench_calibration.py            # 1,000 comparisons per scenario
    .venv/bin/python bench/bench_calibration.py --runs 200

Not a test (tests/test_calibration.py keeps a smaller, faster version); figures go into
docs/metrics.md by hand.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metrics import compare, stats  # noqa: E402

SEED = 20261201
WEEKDAY = np.array([1.3, 1.3, 1.3, 1.3, 1.3, 0.25, 0.25])  # Monday..Sunday, mean 1


@dataclass(frozen=True)
class Regime:
    """What one window's process looks like."""

    deploys_per_day: float = 3.0
    failure_rate: float = 0.15
    rework_rate: float = 0.08
    lead_time_hours: float = 24.0       # median of a deployment's shared wait
    recovery_minutes: float = 45.0      # median recovery (failed deployments and incidents)
    incidents_per_day: float = 0.3
    satisfaction: float = 3.2
    week_drift: float = 0.45            # log-sd of the weekly factor
    day_noise_shape: float = 2.0        # gamma shape of a day's own factor


def simulate_window(rng: np.random.Generator, regime: Regime, days: int, follow_up_days: float) -> compare.WindowSample:
    """One window of `days` days; recoveries are observed for `follow_up_days` after the window's
    end (0: the window ends where the data ends), longer ones are censored."""
    weeks = -(-days // 7)
    day = np.arange(days)
    week_factor = np.exp(rng.normal(-regime.week_drift ** 2 / 2, regime.week_drift, weeks))
    noise = rng.gamma(regime.day_noise_shape, 1 / regime.day_noise_shape, days)
    start_weekday = rng.integers(7)
    mean = regime.deploys_per_day * WEEKDAY[(day + start_weekday) % 7] * week_factor[day // 7] * noise
    deployments = rng.poisson(mean)
    # failures cluster in bad weeks: one week in five fails at three times the base rate
    bad = rng.random(weeks) < 0.2
    week_rate = np.where(bad, 3.0, 1.0) * regime.failure_rate / (0.2 * 3.0 + 0.8)
    failed = rng.binomial(deployments, np.minimum(week_rate[day // 7], 1.0))
    unplanned = rng.binomial(deployments, regime.rework_rate)
    # changes: 1-7 per deployment, lead time = the deployment's wait x the change's own small factor
    total = int(deployments.sum())
    per_deployment = rng.integers(1, 8, total)
    unit = np.repeat(np.arange(total), per_deployment)
    wait = regime.lead_time_hours * np.exp(rng.normal(0, 1.0, total))
    lead = wait[unit] * np.exp(rng.normal(0, 0.3, len(unit)))
    daily = pd.DataFrame({"day": day, "deployments": deployments, "failed_deployments": failed,
                          "unplanned_deployments": unplanned})
    daily = daily[daily["deployments"] > 0]

    def recoveries(count_per_day: np.ndarray) -> tuple[np.ndarray, None, np.ndarray]:
        when = np.repeat(day, count_per_day) + rng.random(int(count_per_day.sum()))  # day of the start
        minutes = regime.recovery_minutes * np.exp(rng.normal(0, 1.0, len(when)))
        open_for = (days - when + follow_up_days) * 1440.0  # minutes until the data ends
        return np.minimum(minutes, open_for), None, minutes <= open_for

    incidents = rng.poisson(regime.incidents_per_day * week_factor[day // 7])
    # a survey of 48 people, each answering every 4 weeks from a random first week, with a bias
    people = 48
    bias = rng.normal(0, 0.7, people)
    rounds = np.arange(0, days, 28)
    person = np.repeat(np.arange(people), len(rounds))
    score = np.clip(np.round(regime.satisfaction + bias[person] + rng.normal(0, 0.6, len(person))), 1, 5)
    survey = pd.DataFrame({"score": score, "score_share": (score - 1) / 4, "scale_min": 1.0, "scale_max": 5.0,
                           "respondent": person})
    return compare.WindowSample(days, daily, {
        "lead_time_hours": (lead, unit, np.ones(len(lead), dtype=bool)),
        "failed_deployment_recovery_minutes": recoveries(failed),
        "incident_recovery_minutes": recoveries(incidents),
    }, survey)


def run_scenario(name: str, before: Regime, after: Regime, before_days: int, after_days: int, runs: int,
                 seed: int) -> pd.DataFrame:
    """`runs` comparisons; one row per run and metric: verdict, raw p-value."""
    rng = np.random.default_rng(seed)
    frames = []
    for run in range(runs):
        first = simulate_window(rng, before, before_days, follow_up_days=after_days)
        second = simulate_window(rng, after, after_days, follow_up_days=0)
        frame = compare.compare_samples(first, second)
        frames.append(frame[["metric", "verdict", "p_value"]].assign(run=run, scenario=name))
    return pd.concat(frames, ignore_index=True)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and metric: runs, the share with a verdict (improved/worse) with its 95% Wilson
    interval, the share 'improved', and the share 'not enough data'."""
    rows = []
    for (scenario, metric), part in results.groupby(["scenario", "metric"], sort=False):
        n = len(part)
        called = int(part["verdict"].isin([compare.IMPROVED, compare.WORSE]).sum())
        interval = stats.wilson_interval(called, n)
        rows.append({"scenario": scenario, "metric": metric, "runs": n, "verdicts": called / n,
                     "low": interval.low, "high": interval.high,
                     "improved": float((part["verdict"] == compare.IMPROVED).mean()),
                     "not_enough": float((part["verdict"] == compare.NOT_ENOUGH).mean())})
    return pd.DataFrame(rows)


def scenarios(runs: int) -> list[tuple]:
    """(name, before, after, before days, after days, runs, seed) for every scenario."""
    base = Regime()
    organisation_before = Regime(deploys_per_day=0.95, failure_rate=0.18, rework_rate=0.08, lead_time_hours=120,
                                 recovery_minutes=45, incidents_per_day=0.6, satisfaction=3.2)
    organisation_after = Regime(deploys_per_day=20, failure_rate=0.02, rework_rate=0.005, lead_time_hours=0.75,
                                recovery_minutes=3, incidents_per_day=0.6, satisfaction=4.7)
    service_before = replace(organisation_before, deploys_per_day=1 / 7, incidents_per_day=0.05)
    return [
        ("no change, 28 vs 28 days", base, base, 28, 28, runs, SEED),
        ("no change, 84 vs 28 days", base, base, 84, 28, runs, SEED + 1),
        ("no change, sparse (0.5 a day, CFR 20%)", replace(base, deploys_per_day=0.5, failure_rate=0.2),
         replace(base, deploys_per_day=0.5, failure_rate=0.2), 84, 28, runs, SEED + 2),
        ("story, organisation (0.95 → 20 a day)", organisation_before, organisation_after, 84, 28, runs, SEED + 3),
        ("story, one service (1 a week → 20 a day)", service_before, organisation_after, 84, 28, runs, SEED + 4),
        ("modest: CFR 10% → 7%, 3 a day", replace(base, failure_rate=0.10), replace(base, failure_rate=0.07),
         84, 28, runs, SEED + 5),
    ]


def overdispersion(seed: int = SEED, days: int = 364) -> float:
    """Variance ÷ mean of simulated daily deployments (the sample's is 4–6)."""
    counts = simulate_window(np.random.default_rng(seed), Regime(), days, 0).daily
    full = np.zeros(days)
    full[counts["day"].to_numpy()] = counts["deployments"].to_numpy()
    return float(full.var() / full.mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000, help="comparisons per scenario")
    args = parser.parse_args(argv)
    print(f"simulated daily deployments: variance / mean = {overdispersion():.1f}", flush=True)
    start = time.perf_counter()
    results = pd.concat([run_scenario(*s) for s in scenarios(args.runs)], ignore_index=True)
    table = summarise(results)
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"{len(results) // len(compare.METRICS):,} comparisons in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
