"""The contract's §2 definitions, one edge case per test, with literal events in and exact figures out."""
from __future__ import annotations

from datetime import date

import pytest

from tools import cdevents as c
from metrics.build import MetricSettings, ensure_built, is_current
from metrics.export import Filters, query_summary


def dep(id, at, service="payments", **kw):
    return c.deployed(id=id, at=at, service=service, **kw)


def pr(n, merged, repo="acme/payments", **kw):
    return c.merged(id=f"m{n}-{repo}", at=merged, change=f"{repo}#{n}", repository=repo, **kw)


def inc(id, at, service="payments", **kw):
    return c.incident_detected(id=f"{id}-start", at=at, incident=id, service=service, **kw)


def res(id, at, **kw):
    return c.incident_resolved(id=f"{id}-end", at=at, incident=id, **kw)


def is_missing(value) -> bool:
    return value is None or value != value  # None or NaN


def period(wh, grain="month", service="all", environment="production", start=None):
    q = """SELECT * FROM metric_periods WHERE grain = ? AND service = ? AND environment = ?"""
    params = [grain, service, environment]
    if start:
        q += " AND period_start = ?"
        params.append(start)
    frame = wh.con.execute(q + " ORDER BY period_start", params).df()
    return frame.to_dict("records")


# --- deployments -------------------------------------------------------------------------------

def test_same_day_deploys_each_count_and_per_day_uses_observed_days(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), dep("b", "2026-03-03T09:30:00Z"), dep("c", "2026-03-03T17:00:00Z")])
    [day] = period(wh, "day")
    assert (day["deployments"], day["deploys_per_day"]) == (3, 3.0)
    # the data covers one day: the month and the quarter observed only that day (v1 divided by 31)
    [month] = period(wh, "month")
    assert (month["observed_days"], month["deploys_per_day"]) == (1, 3.0)
    [quarter] = period(wh, "quarter")
    assert quarter["days"] == 90 and quarter["observed_days"] == 1
    assert quarter["period_start"].date() == date(2026, 1, 1)


def test_events_sharing_a_deployment_id_are_one_deployment_finishing_at_the_latest(wh):
    wh.load([
        dep("e1", "2026-03-03T09:00:00Z", deployment_id="rel-1"),
        dep("e2", "2026-03-03T09:20:00Z", deployment_id="rel-1", kind="service.upgraded"),
        dep("e3", "2026-03-03T09:10:00Z", deployment_id="rel-1"),
    ])
    assert wh.rows("SELECT deployment_id, finished_at::VARCHAR, event_count FROM fct_deployments") == [
        ("rel-1", "2026-03-03 09:20:00+00", 3)]


def test_prod_and_Production_are_the_same_production_and_staging_is_separate(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z", environment="prod"),
             dep("b", "2026-03-03T10:00:00Z", environment="Production"),
             dep("c", "2026-03-03T08:00:00Z", environment="staging")])
    assert period(wh, "day")[0]["deployments"] == 2
    assert period(wh, "day", environment="staging")[0]["deployments"] == 1


def test_production_names_are_configurable(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z", environment="Live"), dep("b", "2026-03-03T10:00:00Z", environment="prod")],
            settings=MetricSettings(production_environments=("LIVE",)))
    assert wh.rows("SELECT deployment_id, environment FROM fct_deployments ORDER BY 1") == [
        ("a", "production"), ("b", "prod")]


def test_rollbacks_are_not_deployments(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), c.rolledback(id="rb", at="2026-03-03T09:05:00Z", service="payments")])
    assert period(wh, "day")[0]["deployments"] == 1


def test_offsets_across_a_month_boundary_count_in_the_utc_month(wh):
    # 00:30 on April 1st at +02:00 is 22:30 on March 31st UTC
    wh.load([dep("a", "2026-04-01T00:30:00+02:00")])
    assert [p["period_start"].date() for p in period(wh, "month")] == [date(2026, 3, 1)]


def test_periods_follow_the_configured_time_zone(wh):
    wh.load([dep("a", "2026-03-31T22:30:00Z")], settings=MetricSettings(timezone="Europe/Berlin"))
    assert [p["period_start"].date() for p in period(wh, "month")] == [date(2026, 4, 1)]
    assert [p["period_start"].date() for p in period(wh, "week")] == [date(2026, 3, 30)]  # a Monday


def test_iso_weeks_start_on_monday(wh):
    wh.load([dep("sun", "2026-03-08T23:00:00Z"), dep("mon", "2026-03-09T01:00:00Z")])
    assert [(p["period_start"].date(), p["deployments"]) for p in period(wh, "week")] == [
        (date(2026, 3, 2), 1), (date(2026, 3, 9), 1)]


# --- failures ----------------------------------------------------------------------------------

def test_one_deployment_with_several_incidents_fails_once(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), dep("b", "2026-03-03T12:00:00Z", service="search"),
             inc("I1", "2026-03-03T09:30:00Z"), res("I1", "2026-03-03T10:00:00Z"),
             inc("I2", "2026-03-03T09:40:00Z"), res("I2", "2026-03-03T11:00:00Z")])
    [day] = period(wh, "day")
    assert (day["deployments"], day["failed_deployments"], day["change_failure_rate"]) == (2, 1, 0.5)
    assert wh.rows("SELECT deployment_id, incident_count, recovery_rule, recovery_minutes FROM fct_failures") == [
        ("a", 2, "last_incident_resolved", 120.0)]


def test_incident_past_the_attribution_window_is_unattributed(wh):
    wh.load([dep("a", "2026-03-01T09:00:00Z"), inc("I1", "2026-03-02T09:00:01Z"), res("I1", "2026-03-02T10:00:00Z")])
    assert wh.rows("SELECT deployment_key, attribution_rule FROM fct_incidents") == [(None, "outside_window")]
    assert period(wh, "day", start="2026-03-01")[0]["failed_deployments"] == 0


def test_incident_exactly_at_the_window_edge_is_attributed(wh):
    wh.load([dep("a", "2026-03-01T09:00:00Z"), inc("I1", "2026-03-02T09:00:00Z")])
    assert wh.one("SELECT attribution_rule FROM fct_incidents") == "latest_deployment_in_window"


def test_attribution_window_is_configurable(wh):
    wh.load([dep("a", "2026-03-01T09:00:00Z"), inc("I1", "2026-03-01T11:00:00Z")],
            settings=MetricSettings(attribution_window_hours=1))
    assert wh.one("SELECT attribution_rule FROM fct_incidents") == "outside_window"


def test_incident_goes_to_the_latest_deployment_of_its_own_service(wh):
    wh.load([dep("p1", "2026-03-03T08:00:00Z"), dep("s1", "2026-03-03T09:00:00Z", service="search"),
             inc("I1", "2026-03-03T10:00:00Z")])
    assert wh.one("SELECT d.deployment_id FROM fct_incidents i JOIN fct_deployments d USING (deployment_key)") == "p1"


def test_explicit_caused_by_deployment_wins_over_the_window(wh):
    wh.load([dep("old", "2026-03-01T09:00:00Z"), dep("new", "2026-03-03T09:00:00Z"),
             inc("I1", "2026-03-03T10:00:00Z", caused_by_deployment="old")])
    assert wh.rows("""SELECT d.deployment_id, i.attribution_rule FROM fct_incidents i
                      JOIN fct_deployments d USING (deployment_key)""") == [("old", "caused_by_deployment")]


def test_caused_by_commit_means_the_first_deployment_of_that_commit_before_the_incident(wh):
    wh.load([dep("first", "2026-03-01T09:00:00Z", commit="abc"), dep("again", "2026-03-02T09:00:00Z", commit="abc"),
             dep("after", "2026-03-05T09:00:00Z", commit="abc"),
             inc("I1", "2026-03-04T10:00:00Z", caused_by_commit="abc")])
    assert wh.rows("""SELECT d.deployment_id, i.attribution_rule FROM fct_incidents i
                      JOIN fct_deployments d USING (deployment_key)""") == [("first", "caused_by_commit")]


def test_explicit_link_matching_nothing_is_unattributed_and_reported(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), inc("I1", "2026-03-03T10:00:00Z", caused_by_deployment="nope"),
             inc("I2", "2026-03-03T10:00:00Z", caused_by_commit="zzz")])
    assert wh.rows("SELECT incident_id, deployment_key, attribution_rule FROM fct_incidents ORDER BY 1") == [
        ("I1", None, "caused_by_deployment_unmatched"), ("I2", None, "caused_by_commit_unmatched")]
    assert wh.rows("SELECT entity_id FROM dq_findings WHERE finding = 'incident_link_unmatched' ORDER BY 1") == [
        ("I1",), ("I2",)]
    assert period(wh, "day")[0]["failed_deployments"] == 0


def test_staging_incidents_do_not_fail_production_deployments(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), inc("I1", "2026-03-03T10:00:00Z", environment="staging")])
    assert period(wh, "day")[0]["failed_deployments"] == 0
    assert period(wh, "day")[0]["incidents"] == 0


def test_rollback_without_target_marks_the_latest_deployment_before_it(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), dep("b", "2026-03-03T10:00:00Z"),
             c.rolledback(id="rb", at="2026-03-03T10:07:00Z", service="payments"),
             dep("c", "2026-03-03T11:00:00Z")])
    assert wh.rows("""SELECT d.deployment_id, f.reason, f.recovery_minutes FROM fct_failures f
                      JOIN fct_deployments d USING (deployment_key)""") == [("b", "rollback", 7.0)]
    assert wh.one("SELECT rule FROM fct_rollbacks") == "latest_deployment_before"


def test_rollback_with_explicit_target(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), dep("b", "2026-03-03T10:00:00Z"),
             c.rolledback(id="rb", at="2026-03-03T10:30:00Z", service="payments", rolled_back_deployment="a")])
    assert wh.one("SELECT deployment_id FROM fct_failures") == "a"


def test_rollback_before_any_deployment_marks_nothing(wh):
    wh.load([c.rolledback(id="rb", at="2026-03-03T08:00:00Z", service="payments"), dep("a", "2026-03-03T09:00:00Z")])
    assert wh.one("SELECT rule FROM fct_rollbacks") == "no_deployment_before"
    assert wh.one("SELECT count(*) FROM fct_failures") == 0


def test_recovery_is_the_rollback_or_the_last_incident_whichever_first(wh):
    wh.load([
        dep("a", "2026-03-03T09:00:00Z"),
        inc("I1", "2026-03-03T09:10:00Z"), res("I1", "2026-03-03T09:50:00Z"),
        c.rolledback(id="rb", at="2026-03-03T09:30:00Z", service="payments"),
        dep("b", "2026-03-04T09:00:00Z"),
        inc("I2", "2026-03-04T09:10:00Z"), res("I2", "2026-03-04T09:20:00Z"),
        c.rolledback(id="rb2", at="2026-03-04T09:40:00Z", service="payments"),
    ])
    assert wh.rows("SELECT deployment_id, reason, recovery_rule, recovery_minutes FROM fct_failures ORDER BY 1") == [
        ("a", "rollback+incident", "rollback", 30.0), ("b", "rollback+incident", "last_incident_resolved", 20.0)]


def test_unresolved_incident_leaves_recovery_unknown_and_is_reported(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), inc("I1", "2026-03-03T09:10:00Z"),
             inc("I2", "2026-03-03T09:20:00Z"), res("I2", "2026-03-03T09:30:00Z")])
    assert wh.rows("SELECT recovery_minutes FROM fct_failures") == [(None,)]
    [day] = period(wh, "day")
    assert (day["incidents"], day["incidents_resolved"], day["incident_recovery_median_minutes"]) == (2, 1, 10.0)
    assert is_missing(day["failed_deployment_recovery_median_minutes"])
    assert wh.rows("SELECT entity_id FROM dq_findings WHERE finding = 'incident_unresolved'") == [("I1",)]


def test_incident_recovery_belongs_to_the_period_it_started(wh):
    wh.load([inc("I1", "2026-03-31T23:00:00Z"), res("I1", "2026-04-01T01:00:00Z")])
    assert [(p["period_start"].date(), p["incident_recovery_median_minutes"]) for p in period(wh, "month")] == [
        (date(2026, 3, 1), 120.0)]


def test_incident_without_service_counts_only_for_the_organisation(wh):
    wh.load([inc("I1", "2026-03-03T09:00:00Z", service=None), res("I1", "2026-03-03T09:45:00Z")])
    assert period(wh, "day")[0]["incident_recovery_median_minutes"] == 45.0
    assert wh.one("SELECT count(*) FROM metric_periods WHERE service <> 'all'") == 0
    assert wh.one("SELECT attribution_rule FROM fct_incidents") == "no_service"


def test_rework_rate_counts_unplanned_deployments(wh):
    wh.load([dep("a", "2026-03-03T09:00:00Z"), dep("b", "2026-03-03T10:00:00Z", unplanned=True),
             dep("c", "2026-03-03T11:00:00Z"), dep("d", "2026-03-03T12:00:00Z")])
    assert period(wh, "day")[0]["rework_rate"] == 0.25


# --- lead time ---------------------------------------------------------------------------------

def test_lead_time_starts_at_first_commit_else_opened_else_merged(wh):
    wh.load([
        pr(1, "2026-03-03T08:00:00Z", first_commit_at="2026-03-01T08:00:00Z", opened_at="2026-03-02T08:00:00Z"),
        pr(2, "2026-03-03T08:00:00Z", opened_at="2026-03-02T08:00:00Z"),
        pr(3, "2026-03-03T08:00:00Z"),
        dep("a", "2026-03-03T10:00:00Z", changes=["acme/payments#1", "acme/payments#2", "acme/payments#3"]),
    ])
    assert wh.rows("SELECT change_id, lead_start_field, lead_time_hours FROM fct_lead_times ORDER BY 1") == [
        ("acme/payments#1", "first_commit_at", 50.0), ("acme/payments#2", "opened_at", 26.0),
        ("acme/payments#3", "merged_at", 2.0)]
    [day] = period(wh, "day")
    assert day["lead_time_median_hours"] == 26.0 and day["lead_time_mean_hours"] == pytest.approx(26.0)


def test_median_is_interpolated_for_an_even_count(wh):
    wh.load([pr(1, "2026-03-03T09:00:00Z"), pr(2, "2026-03-03T08:00:00Z"),
             dep("a", "2026-03-03T10:00:00Z", changes=["acme/payments#1", "acme/payments#2"])])
    assert period(wh, "day")[0]["lead_time_median_hours"] == 1.5


def test_p75_p90_interpolate(wh):
    merges = [pr(i, f"2026-03-03T{10 - i:02d}:00:00Z") for i in range(1, 5)]  # lead times 1, 2, 3, 4 h
    wh.load(merges + [dep("a", "2026-03-03T10:00:00Z", changes=[f"acme/payments#{i}" for i in range(1, 5)])])
    [day] = period(wh, "day")
    assert (day["lead_time_p75_hours"], day["lead_time_p90_hours"]) == (pytest.approx(3.25), pytest.approx(3.7))


def test_first_deployment_of_a_service_ships_nothing_by_the_window_rule(wh):
    wh.load([pr(1, "2025-06-01T10:00:00Z"), pr(2, "2026-03-02T10:00:00Z"),
             dep("first", "2026-03-02T12:00:00Z", repository="acme/payments"),
             pr(3, "2026-03-03T08:00:00Z"),
             dep("second", "2026-03-03T10:00:00Z", repository="acme/payments")])
    assert wh.rows("""SELECT d.deployment_id, l.change_id, l.rule FROM fct_deployment_changes l
                      JOIN fct_deployments d USING (deployment_key)""") == [("second", "acme/payments#3", "merge_window")]
    assert wh.rows("SELECT entity_id FROM dq_findings WHERE finding = 'change_not_deployed' ORDER BY 1") == [
        ("acme/payments#1",), ("acme/payments#2",)]


def test_merge_window_is_after_previous_finish_and_up_to_this_finish(wh):
    wh.load([dep("d1", "2026-03-02T10:00:00Z", repository="acme/payments"),
             pr(1, "2026-03-02T10:00:00Z"),          # merged exactly when d1 finished: d1's window, not d2's
             pr(2, "2026-03-02T10:00:01Z"),
             pr(3, "2026-03-03T10:00:00Z"),          # merged exactly when d2 finished: d2's window
             dep("d2", "2026-03-03T10:00:00Z", repository="acme/payments"),
             pr(4, "2026-03-03T11:00:00Z", repo="acme/other")])
    assert wh.rows("""SELECT d.deployment_id, l.change_id FROM fct_deployment_changes l
                      JOIN fct_deployments d USING (deployment_key) ORDER BY 2""") == [
        ("d2", "acme/payments#2"), ("d2", "acme/payments#3")]


def test_explicit_change_list_is_taken_as_given_even_on_a_first_deployment(wh):
    wh.load([pr(1, "2025-06-01T10:00:00Z"), dep("first", "2026-03-02T12:00:00Z", changes=["acme/payments#1"])])
    assert wh.rows("SELECT change_id, rule FROM fct_deployment_changes") == [("acme/payments#1", "explicit")]


def test_a_change_shipped_twice_counts_at_its_first_production_deployment(wh):
    wh.load([pr(1, "2026-03-02T10:00:00Z"),
             dep("a", "2026-03-02T12:00:00Z", changes=["acme/payments#1"]),
             dep("b", "2026-03-05T12:00:00Z", service="checkout", changes=["acme/payments#1"]),
             dep("s", "2026-03-02T11:00:00Z", environment="staging", changes=["acme/payments#1"])])
    assert wh.rows("SELECT environment, lead_time_hours FROM fct_lead_times ORDER BY 1") == [
        ("production", 2.0), ("staging", 1.0)]


def test_changes_listed_but_never_merged_are_reported(wh):
    wh.load([dep("a", "2026-03-02T12:00:00Z", changes=["acme/payments#404"])])
    assert wh.rows("SELECT finding, entity_id FROM dq_findings") == [("change_unknown", "acme/payments#404")]
    assert is_missing(period(wh, "day")[0]["lead_time_median_hours"])


def test_negative_lead_time_is_a_finding_not_a_fast_change(wh):
    # the deployment lists a change first committed, and merged, after the deployment finished
    wh.load([pr(1, "2026-03-03T14:00:00Z", first_commit_at="2026-03-03T13:00:00Z"),
             dep("a", "2026-03-03T12:00:00Z", changes=["acme/payments#1"])])
    # its deploy-wait stage (merge → deployment) is negative too
    assert wh.rows("SELECT finding FROM dq_findings WHERE finding LIKE 'negative%' ORDER BY 1") == [
        ("negative_lead_time",), ("negative_span",)]
    assert period(wh, "day")[0]["changes_deployed"] == 0


def test_a_first_commit_dated_after_the_merge_is_a_finding_and_the_lead_time_starts_at_the_merge(wh):
    # definitions v2: rebased or amended commits carry rewritten dates; not a negative lead time
    wh.load([pr(1, "2026-03-03T10:00:00Z", first_commit_at="2026-03-04T10:00:00Z"),
             dep("a", "2026-03-03T12:00:00Z", changes=["acme/payments#1"])])
    assert wh.rows("SELECT finding, entity_id, detail FROM dq_findings WHERE finding <> 'span_missing'") == [
        ("first_commit_after_merge", "acme/payments#1",
         "first commit dated 24.0 h after the merge (rewritten or amended commits): lead time starts at merged_at")]
    assert wh.rows("SELECT lead_start_field, lead_time_hours FROM fct_lead_times") == [("merged_at", 2.0)]


def test_repository_comes_from_the_change_id_when_not_given(wh):
    wh.load([c.merged(id="m", at="2026-03-03T09:00:00Z", change="acme/payments#9"),
             dep("a", "2026-03-02T10:00:00Z", repository="acme/payments"),
             dep("b", "2026-03-03T10:00:00Z")])  # b names no repository: its service's other deployments do
    assert wh.rows("SELECT change_id, rule FROM fct_deployment_changes") == [("acme/payments#9", "merge_window")]


# --- periods and export ------------------------------------------------------------------------

def test_empty_periods_are_exported_with_zero_deployments_and_empty_rates(wh):
    wh.load([dep("a", "2026-01-15T09:00:00Z"), dep("b", "2026-03-15T09:00:00Z")])
    frame = query_summary(wh.con, Filters(grain="month"), wh.settings)
    rows = frame[["period_start", "deployments", "deploys_per_day", "change_failure_rate"]].to_dict("records")
    assert [r["period_start"].date() for r in rows] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert rows[1]["deployments"] == 0 and rows[1]["deploys_per_day"] == 0
    assert is_missing(rows[1]["change_failure_rate"])  # undefined: an empty cell in the CSV


def test_by_service_lists_every_service_for_every_period(wh):
    wh.load([dep("a", "2026-01-15T09:00:00Z"), dep("b", "2026-02-15T09:00:00Z", service="search")])
    frame = query_summary(wh.con, Filters(grain="month", by_service=True), wh.settings)
    assert [(r.period_start.date().month, r.service, r.deployments) for r in frame.itertuples()] == [
        (1, "payments", 1), (1, "search", 0), (2, "payments", 0), (2, "search", 1)]


def test_from_and_to_clip_the_periods(wh):
    wh.load([dep(f"d{m}", f"2026-{m:02d}-10T09:00:00Z") for m in range(1, 7)])
    frame = query_summary(wh.con, Filters(grain="quarter", from_date=date(2026, 2, 1), to_date=date(2026, 3, 31)),
                          wh.settings)
    assert [(r.period_start.date(), r.deployments) for r in frame.itertuples()] == [(date(2026, 1, 1), 3)]


def test_a_warehouse_without_the_macros_is_rebuilt(wh):
    wh.load([dep("d1", "2026-03-02T10:00:00Z")])
    assert is_current(wh.con, wh.settings)
    wh.con.execute("DROP MACRO period_days")  # as a file built before the macros existed
    assert not is_current(wh.con, wh.settings)
    assert ensure_built(wh.con, wh.settings) and is_current(wh.con, wh.settings)
    assert period(wh)[0]["deploys_per_day"] == 1.0  # one deployment on the one observed day
