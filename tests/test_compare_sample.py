"""Before/after on the bundled sample reproduces the story's results table (data/sample/README.md).

The committed files go through the real CLI (`dora ingest events`, `dora ingest survey`,
`dora annotate import`) into a temp DuckDB file; `dora compare --format csv` then compares the
story's windows, before = 2025-12-01..2026-04-30 and after = 2026-09-01..2026-11-30, from the raw data.
Tolerances, around the story's figures, wide enough for the generator's randomness and narrow enough
to catch a definition or a window that drifts:

| metric | story before → after | accepted before | accepted after |
|---|---|---|---|
| deployments a day | about 0.95 → about 20 | 0.85 – 1.1 | 18 – 22 |
| change fail rate | 18% → 2.1% | 15% – 21% | 1.5% – 3% |
| median change lead time | about 120 h → about 45 min | 96 – 144 h | 30 – 60 min |
| median incident recovery (MTTR) | about 45 → about 3 min | 30 – 65 min | 1.5 – 6 min |
| median failed-deployment recovery | about 45 → about 3 min | 30 – 65 min | 1.5 – 6 min |
| deployment rework rate | about 8% → under 1% | 5% – 12% | under 1% |
| developer satisfaction (1-5) | about 3.2 → about 4.7 | 3.0 – 3.4 | 4.5 – 4.9 |

and every verdict is "improved".
"""
from __future__ import annotations

import csv
import io
import pytest

TOLERANCES = {
    "deployment_frequency": ((0.85, 1.1), (18, 22)),
    "change_failure_rate": ((0.15, 0.21), (0.015, 0.03)),
    "lead_time": ((96, 144), (0.5, 1.0)),
    "incident_recovery_time": ((30, 65), (1.5, 6)),
    "failed_deployment_recovery_time": ((30, 65), (1.5, 6)),
    "deployment_rework_rate": ((0.05, 0.12), (0.0, 0.01)),
    "developer_satisfaction": ((3.0, 3.4), (4.5, 4.9)),
}


@pytest.fixture
def dora(sample_cli):
    """Run a dora read command against the loaded sample (conftest.sample_cli)."""
    return sample_cli


def rows(output: str) -> dict[str, dict[str, str]]:
    return {r["metric"]: r for r in csv.DictReader(io.StringIO(output))}


def test_the_story_table_from_the_raw_data(dora):
    got = rows(dora("compare", "--before", "2025-12-01..2026-04-30", "--after", "2026-09-01..2026-11-30",
                    "--format", "csv"))
    assert sorted(got) == sorted(TOLERANCES)
    for metric, ((b_low, b_high), (a_low, a_high)) in TOLERANCES.items():
        row = got[metric]
        assert b_low <= float(row["before_value"]) <= b_high, (metric, row["before_value"])
        assert a_low <= float(row["after_value"]) <= a_high, (metric, row["after_value"])
        assert row["verdict"] == "improved", (metric, row)
    assert (got["deployment_frequency"]["before_days"], got["deployment_frequency"]["after_days"]) == ("151", "91")
    assert got["developer_satisfaction"]["unit"] == "score (1-5)"


def test_the_phases_as_annotations(dora):
    # before Phase 1 (the log's start to 2026-05-24) against from Phase 4 (2026-08-10) to the end
    got = rows(dora("compare", "--before-annotation", "Phase 1: remove manual gates",
                    "--after-annotation", "Phase 4: feature flags", "--format", "csv"))
    first = got["deployment_frequency"]
    assert (first["before_start"], first["before_end"], first["after_start"], first["after_end"]) == (
        "2025-12-01", "2026-05-24", "2026-08-10", "2026-11-30")
    assert {r["verdict"] for r in got.values()} == {"improved"}
    # the export finds the same windows from the annotations alone
    exported = rows(dora("export", "--table", "before-after"))
    assert [(r["before_label"], r["after_label"]) for r in exported.values()][0] == (
        "before Phase 1: remove manual gates", "after Phase 4: feature flags")
    assert {m: r["after_value"] for m, r in exported.items()} == {m: r["after_value"] for m, r in got.items()}


def test_the_levels_of_the_first_and_last_quarters(dora):
    levels = list(csv.DictReader(io.StringIO(dora("export", "--table", "levels", "--grain", "quarter"))))
    first = {r["metric"]: r["level"] for r in levels if r["period_start"] == "2026-01-01"}
    last = {r["metric"]: r["level"] for r in levels if r["period_start"] == "2026-10-01"}
    # weekly releases, lead time of days, 17% failing (2024: nearest the high cluster's 20%)
    assert (first["deployment_frequency"], first["lead_time"], first["change_failure_rate"]) == ("high", "high", "high")
    assert {last[m] for m in ("deployment_frequency", "lead_time", "change_failure_rate",
                              "failed_deployment_recovery_time")} == {"elite"}
