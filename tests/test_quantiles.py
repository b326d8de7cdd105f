"""The interpolated quantiles of the metric models (median, p75, p90), from literal events.

metric_periods, metric_lead_time_breakdown and metric_batch_size compute their quantiles from each
group's list of values (so DuckDB can spill them, docs/performance.md "Memory"), with quantile_cont's
interpolation: position (n − 1)·q, between the two values around it. The edge cases: one value, two
values, ties, values left out (NULL: no recovery, an unknown span; negative: a data error).
"""
from __future__ import annotations

import numpy as np
import pytest

from tools import cdevents as c


def pr(n, merged):
    return c.merged(id=f"m{n}", at=merged, change=f"acme/payments#{n}", repository="acme/payments")


def dep(id, at, numbers):
    return c.deployed(id=id, at=at, service="payments", changes=[f"acme/payments#{n}" for n in numbers])


# Per month, the changes' lead times in hours (merge to deployment: no earlier timestamps are given,
# so each is also the change's deploy wait, and its other stages are unknown).
EVENTS = [
    # March: one value
    pr(1, "2026-03-10T10:00:00Z"), dep("d1", "2026-03-10T12:00:00Z", [1]),
    # April: two values, 1 h and 3 h
    pr(2, "2026-04-10T11:00:00Z"), pr(3, "2026-04-10T09:00:00Z"), dep("d2", "2026-04-10T12:00:00Z", [2, 3]),
    # May: ties, 2 h three times and 10 h
    pr(4, "2026-05-10T10:00:00Z"), pr(5, "2026-05-10T10:00:00Z"), pr(6, "2026-05-10T10:00:00Z"),
    pr(7, "2026-05-10T02:00:00Z"), dep("d3", "2026-05-10T12:00:00Z", [4, 5, 6, 7]),
    # June: 1 h, and a change merged an hour after the deployment that lists it (−1 h: a data error)
    pr(8, "2026-06-10T13:00:00Z"), pr(9, "2026-06-10T11:00:00Z"), dep("d4", "2026-06-10T12:00:00Z", [8, 9]),
    # incidents on a service without deployments (none is attributed to one): 60 min, unresolved, 30 min
    c.incident_detected(id="i1", at="2026-03-11T10:00:00Z", incident="INC-1", service="search"),
    c.incident_resolved(id="r1", at="2026-03-11T11:00:00Z", incident="INC-1", service="search"),
    c.incident_detected(id="i2", at="2026-03-12T10:00:00Z", incident="INC-2", service="search"),
    c.incident_detected(id="i3", at="2026-03-13T10:00:00Z", incident="INC-3", service="search"),
    c.incident_resolved(id="r3", at="2026-03-13T10:30:00Z", incident="INC-3", service="search"),
]

# What quantile_cont gives, worked by hand: (count, median, p75, p90)
LEAD_TIMES = {
    "2026-03-01": (1, 2.0, 2.0, 2.0),   # one value: every quantile is that value
    "2026-04-01": (2, 2.0, 2.5, 2.8),   # [1, 3]: positions 0.5, 0.75, 0.9 between the two
    "2026-05-01": (4, 2.0, 4.0, 7.6),   # [2, 2, 2, 10]: 2 + 0.25·8 at position 2.25, 2 + 0.7·8 at 2.7
    "2026-06-01": (1, 1.0, 1.0, 1.0),   # the negative span left out
}
VALUES = {"2026-03-01": [2.0], "2026-04-01": [1.0, 3.0], "2026-05-01": [2.0, 2.0, 2.0, 10.0], "2026-06-01": [1.0]}


@pytest.fixture
def loaded(wh):
    wh.load(EVENTS)
    # the June change with a negative lead time is in the facts, so the models must leave it out
    assert wh.one("SELECT lead_time_hours FROM fct_lead_times WHERE change_id = 'acme/payments#8'") == -1.0
    return wh


def test_the_hand_worked_quantiles_are_numpys_linear_interpolation():
    for month, (n, *quantiles) in LEAD_TIMES.items():
        assert len(VALUES[month]) == n
        assert quantiles == pytest.approx(list(np.quantile(VALUES[month], [0.5, 0.75, 0.9])), abs=1e-12)


@pytest.mark.parametrize("service", ["payments", "all"])
def test_lead_time_quantiles_per_month(loaded, service):
    rows = loaded.rows(
        """SELECT period_start::VARCHAR, changes_deployed, lead_time_median_hours, lead_time_p75_hours,
                  lead_time_p90_hours FROM metric_periods
           WHERE grain = 'month' AND service = ? AND environment = 'production' AND changes_deployed > 0
           ORDER BY 1""", [service])
    assert {r[0]: r[1:] for r in rows} == {m: pytest.approx(q, abs=1e-9) for m, q in LEAD_TIMES.items()}


def test_lead_time_quantiles_per_day_and_quarter(loaded):
    rows = loaded.rows(
        """SELECT grain, period_start::VARCHAR, lead_time_median_hours, lead_time_p75_hours, lead_time_p90_hours
           FROM metric_periods WHERE grain IN ('day', 'quarter') AND service = 'all' AND changes_deployed > 0
           ORDER BY 1, 2""")
    got = {(r[0], r[1]): r[2:] for r in rows}
    assert got[("day", "2026-05-10")] == pytest.approx((2.0, 4.0, 7.6), abs=1e-9)
    # the second quarter: April, May and June together: [1, 3, 2, 2, 2, 10, 1]
    q2 = np.quantile([1.0, 3.0, 2.0, 2.0, 2.0, 10.0, 1.0], [0.5, 0.75, 0.9])
    assert got[("quarter", "2026-04-01")] == pytest.approx(tuple(q2), abs=1e-9)
    assert got[("quarter", "2026-01-01")] == (2.0, 2.0, 2.0)


def test_incident_recovery_quantiles_leave_out_the_unresolved(loaded):
    row = loaded.one(
        """SELECT incidents, incidents_resolved, incident_recovery_median_minutes, incident_recovery_p75_minutes,
                  incident_recovery_p90_minutes FROM metric_periods
           WHERE grain = 'month' AND period_start = DATE '2026-03-01' AND service = 'search'""")
    # [60, 30]: the unresolved incident (no recovery: NULL) counts as an incident, not in the quantiles
    assert row == pytest.approx((3, 2, 45.0, 52.5, 57.0), abs=1e-9)


def test_breakdown_quantiles_leave_out_unknown_and_negative_spans(loaded):
    rows = loaded.rows(
        """SELECT period_start::VARCHAR, stage, changes, missing, negative, median_hours, p75_hours, p90_hours
           FROM metric_lead_time_breakdown WHERE grain = 'month' AND service = 'all'
           ORDER BY period_start, stage_order""")
    got = {(r[0], r[1]): r[2:] for r in rows}
    for month, (n, *quantiles) in LEAD_TIMES.items():
        delivered = len(VALUES[month]) + (month == "2026-06-01")
        # merge to deployment is the deploy wait; the other stages are unknown: no values, no quantiles
        negative = int(month == "2026-06-01")
        assert got[(month, "deploy_wait")][:3] == (n, 0, negative)
        assert got[(month, "deploy_wait")][3:] == pytest.approx(tuple(quantiles), abs=1e-9)
        assert got[(month, "coding")] == (0, delivered, 0, None, None, None)


def test_batch_size_quantiles(loaded):
    rows = loaded.rows(
        """SELECT period_start::VARCHAR, changes_deployed, lead_time_median_hours, lead_time_p90_hours,
                  changes_per_deployment_median
           FROM metric_batch_size WHERE grain = 'month' AND service = 'all' AND dimension = 'all'
           ORDER BY 1""")
    got = {r[0]: r[1:] for r in rows}
    for month, (n, median, _, p90) in LEAD_TIMES.items():
        assert got[month][:3] == pytest.approx((n, median, p90), abs=1e-9)
    # one deployment a month: its number of linked changes is the median
    assert [got[m][3] for m in sorted(got)] == [1.0, 2.0, 4.0, 2.0]
    quarter = loaded.one(
        """SELECT changes_per_deployment_median FROM metric_batch_size
           WHERE grain = 'quarter' AND period_start = DATE '2026-04-01' AND service = 'all' AND dimension = 'all'""")
    assert quarter == 2.0  # [2, 4, 2]
