"""`dora export --table pipeline|quality` with a team: the team's services one by one, never the
organisation's rows under the team's name; a team's own figures are refused with what to ask instead."""
from __future__ import annotations

import pytest

from core.errors import DoraError
from metrics.build import MetricSettings
from metrics.export import query_table
from metrics.filters import Filters, Team
from tools import cdevents as c

TEAMS = (Team("shop", ("checkout", "payments")),)


@pytest.fixture
def warehouse(wh):
    events = []
    for i, service in enumerate(["checkout", "payments", "search"]):
        for n, outcome in enumerate(["success", "failure"]):
            run = f"run-{service}-{n}"
            events += [c.pipelinerun(id=f"{run}-s", at=f"2026-03-0{2 + n}T10:00:00Z", run=run, pipeline="ci",
                                     predicate="started", service=service),
                       c.pipelinerun(id=f"{run}-f", at=f"2026-03-0{2 + n}T10:12:00Z", run=run, pipeline="ci",
                                     outcome=outcome, service=service)]
        events.append(c.deployed(id=f"d-{service}", at=f"2026-03-0{5 + i}T10:00:00Z", service=service))
        # resolved before it was detected: a data-quality finding naming the service
        events += [c.incident_detected(id=f"i-{service}-d", at=f"2026-03-0{5 + i}T12:00:00Z", incident=f"i-{service}",
                                       service=service),
                   c.incident_resolved(id=f"i-{service}-r", at=f"2026-03-0{5 + i}T11:00:00Z", incident=f"i-{service}",
                                       service=service)]
    wh.load(events)
    return wh.con


def services_of(frame) -> list[str]:
    return sorted(frame["service"].dropna().unique())


def test_a_team_s_pipeline_lists_only_its_services(warehouse):
    frame = query_table(warehouse, "pipeline", Filters(grain="month", team="shop", teams=TEAMS, by_service=True),
                        MetricSettings())
    assert services_of(frame) == ["checkout", "payments"]
    everyone = query_table(warehouse, "pipeline", Filters(grain="month", teams=TEAMS, by_service=True), MetricSettings())
    assert services_of(everyone) == ["checkout", "payments", "search"]


def test_a_team_s_findings_are_its_services_own(warehouse):
    frame = query_table(warehouse, "quality", Filters(grain="month", team="shop", teams=TEAMS, by_service=True),
                        MetricSettings())
    assert services_of(frame) == ["checkout", "payments"]
    everyone = query_table(warehouse, "quality", Filters(grain="month", by_service=True), MetricSettings())
    assert services_of(everyone) == ["checkout", "payments", "search"]


def test_the_services_no_team_owns_are_a_team_too(warehouse):
    frame = query_table(warehouse, "pipeline", Filters(grain="month", team="no team", teams=TEAMS, by_service=True),
                        MetricSettings())
    assert services_of(frame) == ["search"]


@pytest.mark.parametrize("table", ["pipeline", "quality"])
@pytest.mark.parametrize("filters", [Filters(grain="month", team="shop", teams=TEAMS),
                                     Filters(grain="month", by_team=True, teams=TEAMS)])
def test_a_team_s_own_figures_are_refused_not_replaced_by_the_organisation_s(warehouse, table, filters):
    with pytest.raises(DoraError, match="--team NAME --by service"):
        query_table(warehouse, table, filters, MetricSettings())


def test_an_unknown_team_is_named(warehouse):
    with pytest.raises(DoraError, match="no team 'ops'"):
        query_table(warehouse, "quality", Filters(grain="month", team="ops", teams=TEAMS, by_service=True),
                    MetricSettings())
