"""The before/after verdicts' calibration, small and seeded: bench/bench_calibration.py's simulation
(the same window pairs, the same compare_samples `dora compare` runs) with fewer runs, so the suite
fails when a change to the statistics makes them cry wolf or lose the story's obvious change.

The bench's full figures (1,000 comparisons per scenario, each with its interval) are in
docs/metrics.md, "Before/after: calibration". Here, with fixed seeds (the same verdicts every run):

- 200 no-change comparisons (84 days against 28, the sample's overdispersion and drift): each
  metric's share of "improved"/"worse" verdicts at most 8% (the 5% target plus room for 200 runs:
  a true 5% exceeds 8% in under 3% of seeds);
- 50 runs of the story's change (12 weeks at about 1 a day against 4 weeks at 20 a day): deployment
  frequency and lead time "improved" in every run, failed-deployment and incident recovery in at
  least 90% of them.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from metrics import compare

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_calibration", ROOT / "bench" / "bench_calibration.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def scenario(bench, name: str, runs: int):
    """The bench's scenario whose name starts with `name`, with `runs` runs (same seed)."""
    found = [s for s in bench.scenarios(runs) if s[0].startswith(name)]
    assert len(found) == 1, name
    return bench.run_scenario(*found[0])


def called(results, metric: str) -> float:
    """The share of runs with a verdict ("improved" or "worse") for `metric`."""
    part = results[results["metric"] == metric]
    return float(part["verdict"].isin([compare.IMPROVED, compare.WORSE]).mean())


def test_no_change_rarely_gets_a_verdict(bench):
    results = scenario(bench, "no change, 84 vs 28", 200)
    assert results["run"].nunique() == 200
    rates = {metric: called(results, metric) for metric in results["metric"].unique()}
    assert set(rates) == {s.metric for s in compare.METRICS}
    assert max(rates.values()) <= 0.08, rates


def test_the_story_change_is_found(bench):
    results = scenario(bench, "story, organisation", 50)
    improved = results.groupby("metric")["verdict"].apply(lambda v: (v == compare.IMPROVED).mean())
    assert improved["deployment_frequency"] == 1.0 and improved["lead_time"] == 1.0, improved
    assert improved["failed_deployment_recovery_time"] >= 0.9, improved
    assert improved["incident_recovery_time"] >= 0.9, improved
    assert not (results["verdict"] == compare.WORSE).any()


def test_the_simulation_has_the_samples_overdispersion(bench):
    assert 4 <= bench.overdispersion() <= 6  # the sample's daily deployments: variance / mean of 4-6
