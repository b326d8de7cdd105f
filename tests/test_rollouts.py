"""Progressive rollouts (contract §2, definitions v2): exposure and finish, untargeted rollbacks,
incident attribution by exposure and by explicit cause, recovery from exposure, blast radius and
"caught in rollout" — literal events in, exact rows out."""
from __future__ import annotations

from datetime import date

from tools import cdevents as c
from metrics.explain import compute_figure, explain_figure


def step(id, at, percent, deployment="rel-2", service="payments", **kw):
    """One step of a progressive rollout: the deployment now serves `percent` of traffic."""
    return c.deployed(id=id, at=at, service=service, deployment_id=deployment, traffic_percent=percent, **kw)


def dep(id, at, service="payments", **kw):
    return c.deployed(id=id, at=at, service=service, **kw)


def inc(id, at, service="payments", **kw):
    return c.incident_detected(id=f"{id}-start", at=at, incident=id, service=service, **kw)


def res(id, at):
    return c.incident_resolved(id=f"{id}-end", at=at, incident=id)


def rollback(at, service="payments", **kw):
    return c.rolledback(id=f"rb-{at}", at=at, service=service, **kw)


def pr(n, merged, repo="acme/payments", **kw):
    return c.merged(id=f"m{n}-{repo}", at=merged, change=f"{repo}#{n}", repository=repo, **kw)


# A stable deployment, then a canary rolled out 5% → 25% → 100% over two hours.
PREVIOUS = dep("rel-1", "2026-03-03T08:00:00Z", commit="a" * 40)
CANARY = [step("s1", "2026-03-03T10:00:00Z", 5), step("s2", "2026-03-03T11:00:00Z", 25),
          step("s3", "2026-03-03T12:00:00Z", 100)]


def failure(wh):
    return wh.one("""SELECT deployment_id, reason, recovery_from, recovery_minutes, blast_radius_percent,
                            caught_in_rollout FROM fct_failures""")


def month(wh, start="2026-03-01"):
    rows = wh.con.execute("""SELECT * FROM metric_periods WHERE grain = 'month' AND service = 'all'
                             AND environment = 'production' AND period_start = ?""", [start]).df()
    return rows.to_dict("records")[0]


# --- exposure and finish --------------------------------------------------------------------------

def test_a_rollout_is_one_deployment_exposed_at_its_first_event_and_finished_at_its_last(wh):
    wh.load([PREVIOUS, *CANARY])
    assert wh.rows("""SELECT deployment_id, exposed_at::VARCHAR, finished_at::VARCHAR, max_traffic_percent,
                             full_traffic_at::VARCHAR, reached_full_traffic, event_count
                      FROM fct_deployments ORDER BY finished_at""") == [
        ("rel-1", "2026-03-03 08:00:00+00", "2026-03-03 08:00:00+00", 100.0, "2026-03-03 08:00:00+00", True, 1),
        ("rel-2", "2026-03-03 10:00:00+00", "2026-03-03 12:00:00+00", 100.0, "2026-03-03 12:00:00+00", True, 3)]
    assert month(wh)["deployments"] == 2


def test_a_rollout_stopped_at_25_percent_is_still_a_deployment_finished_at_its_last_event(wh):
    wh.load([PREVIOUS, *CANARY[:2]])
    assert wh.rows("""SELECT deployment_id, finished_at::VARCHAR, max_traffic_percent, reached_full_traffic
                      FROM fct_deployments WHERE deployment_id = 'rel-2'""") == [
        ("rel-2", "2026-03-03 11:00:00+00", 25.0, False)]
    assert month(wh)["deployments"] == 2
    frame = explain_figure(wh.con, "deployments", "month", date(2026, 3, 1), "all", "production", wh.settings)
    assert frame.set_index("record_id").loc["rel-2", "detail"].endswith(
        "exposed 2026-03-03 10:00; stopped at 25% of traffic")


def test_a_single_event_at_a_partial_share_never_reached_full_traffic(wh):
    wh.load([dep("d1", "2026-03-03T10:00:00Z", traffic_percent=50)])
    assert wh.rows("SELECT max_traffic_percent, full_traffic_at, reached_full_traffic FROM fct_deployments") == [
        (50.0, None, False)]


# --- rollbacks ------------------------------------------------------------------------------------

def test_a_rollback_during_a_canary_rolls_back_the_canary_not_the_deployment_before_it(wh):
    wh.load([PREVIOUS, *CANARY[:1], rollback("2026-03-03T10:20:00Z")])
    assert wh.rows("""SELECT d.deployment_id, r.rule FROM fct_rollbacks r
                      JOIN fct_deployments d USING (deployment_key)""") == [("rel-2", "latest_deployment_before")]
    # stopped at its canary: finished at 10:00, rolled back 20 minutes later, 5% of users saw it
    assert failure(wh) == ("rel-2", "rollback", "finish", 20.0, 5.0, True)


# --- incident attribution -------------------------------------------------------------------------

def test_an_incident_during_a_canary_goes_to_the_canary_not_the_previous_deployment(wh):
    wh.load([PREVIOUS, *CANARY, inc("I1", "2026-03-03T10:30:00Z"), res("I1", "2026-03-03T10:50:00Z")])
    assert wh.rows("""SELECT d.deployment_id, i.attribution_rule FROM fct_incidents i
                      JOIN fct_deployments d USING (deployment_key)""") == [("rel-2", "latest_deployment_in_rollout")]


def test_an_incident_after_the_rollout_finished_is_in_the_window_from_its_finish(wh):
    wh.load([*CANARY, inc("I1", "2026-03-04T11:59:00Z"), inc("I2", "2026-03-04T12:00:01Z", service="payments")])
    assert wh.rows("SELECT incident_id, deployment_key IS NOT NULL, attribution_rule FROM fct_incidents ORDER BY 1") == [
        ("I1", True, "latest_deployment_in_window"), ("I2", False, "outside_window")]


def test_caused_by_change_is_the_first_deployment_that_shipped_it_exposed_before_the_incident(wh):
    wh.load([pr(7, "2026-03-02T09:00:00Z"),
             dep("first", "2026-03-02T10:00:00Z", changes=["acme/payments#7"]),
             dep("again", "2026-03-02T12:00:00Z", changes=["acme/payments#7"]),
             dep("other-service", "2026-03-02T09:30:00Z", service="search", changes=["acme/payments#7"]),
             dep("later", "2026-03-05T10:00:00Z", changes=["acme/payments#8"]),
             inc("I1", "2026-03-04T10:00:00Z", caused_by_change="acme/payments#7"),
             # the only deployment that shipped #8 was exposed after the incident started
             inc("I2", "2026-03-04T10:00:00Z", caused_by_change="acme/payments#8")])
    assert wh.rows("""SELECT i.incident_id, d.deployment_id, i.attribution_rule, i.cause_rule FROM fct_incidents i
                      LEFT JOIN fct_deployments d USING (deployment_key) ORDER BY 1""") == [
        ("I1", "first", "caused_by_change", "event field"),
        ("I2", None, "caused_by_change_unmatched", "event field")]
    assert wh.rows("SELECT entity_id, detail FROM dq_findings WHERE finding = 'incident_link_unmatched'") == [
        ("I2", 'caused_by_change "acme/payments#8" matches no deployment that shipped it before the incident '
               "(read by: event field)")]


def test_caused_by_change_of_a_canary_goes_to_the_canary_as_soon_as_it_is_exposed(wh):
    rollout = [step(s["context"]["id"], s["context"]["timestamp"], s["customData"]["traffic_percent"],
                    changes=["acme/payments#9"]) for s in CANARY]
    wh.load([pr(9, "2026-03-03T09:00:00Z"), PREVIOUS, *rollout, inc("I1", "2026-03-03T10:05:00Z",
                                                                     caused_by_change="acme/payments#9")])
    assert wh.rows("""SELECT d.deployment_id, i.attribution_rule FROM fct_incidents i
                      JOIN fct_deployments d USING (deployment_key)""") == [("rel-2", "caused_by_change")]


def test_caused_by_commit_takes_a_whole_sha_or_a_prefix_of_seven_hex_digits(wh):
    sha = "0123456789abcdef0123456789abcdef01234567"
    wh.load([dep("d1", "2026-03-02T10:00:00Z", commit=sha), dep("d2", "2026-03-03T10:00:00Z", commit=sha),
             dep("s1", "2026-03-01T10:00:00Z", service="search", commit=sha),
             inc("I1", "2026-03-04T10:00:00Z", caused_by_commit=sha),
             inc("I2", "2026-03-04T10:00:00Z", caused_by_commit=sha[:7]),
             inc("I3", "2026-03-04T10:00:00Z", caused_by_commit=sha[:6]),  # too short to be an abbreviation
             inc("I4", "2026-03-02T09:00:00Z", caused_by_commit=sha)])    # before any payments deployment of it
    assert wh.rows("""SELECT i.incident_id, d.deployment_id, i.attribution_rule FROM fct_incidents i
                      LEFT JOIN fct_deployments d USING (deployment_key) ORDER BY 1""") == [
        ("I1", "d1", "caused_by_commit"), ("I2", "d1", "caused_by_commit"),
        ("I3", None, "caused_by_commit_unmatched"), ("I4", None, "caused_by_commit_unmatched")]
    assert [r[0] for r in wh.rows(
        "SELECT entity_id FROM dq_findings WHERE finding = 'incident_link_unmatched' ORDER BY 1")] == ["I3", "I4"]


def test_caused_by_deployment_wins_and_an_unknown_one_is_unattributed_and_reported(wh):
    wh.load([PREVIOUS, *CANARY,
             inc("I1", "2026-03-03T10:30:00Z", caused_by_deployment="rel-1"),
             inc("I2", "2026-03-03T10:30:00Z", caused_by_deployment="rel-404")])
    assert wh.rows("""SELECT i.incident_id, d.deployment_id, i.attribution_rule, i.cause_rule FROM fct_incidents i
                      LEFT JOIN fct_deployments d USING (deployment_key) ORDER BY 1""") == [
        ("I1", "rel-1", "caused_by_deployment", "event field"),
        ("I2", None, "caused_by_deployment_unmatched", "event field")]
    assert wh.rows("SELECT entity_id FROM dq_findings WHERE finding = 'incident_link_unmatched'") == [("I2",)]


def test_an_incident_without_an_explicit_cause_has_no_cause_rule(wh):
    wh.load([PREVIOUS, inc("I1", "2026-03-03T09:00:00Z")])
    assert wh.one("SELECT (attribution_rule, cause_rule IS NULL) FROM fct_incidents") == (
        "latest_deployment_in_window", True)


# --- recovery, blast radius, caught in rollout ----------------------------------------------------

def test_recovered_before_the_rollout_finished_runs_from_first_exposure(wh):
    wh.load([PREVIOUS, *CANARY, inc("I1", "2026-03-03T10:10:00Z"), res("I1", "2026-03-03T10:40:00Z")])
    assert failure(wh) == ("rel-2", "incident", "exposure", 40.0, 5.0, True)
    frame = explain_figure(wh.con, "failed_deployment_recovery_median_minutes", "month", date(2026, 3, 1), "all",
                           "production", wh.settings)
    assert frame[["record_id", "value", "recovery_from", "blast_radius_percent", "caught_in_rollout"]].values.tolist() \
        == [["rel-2", 40.0, "exposure", 5.0, True]]
    assert frame["detail"].iloc[0] == ("incidents I1; recovered before it finished: from its first exposure "
                                       "2026-03-03 10:00; blast radius 5% of traffic; caught in rollout")


def test_blast_radius_is_the_highest_share_reached_before_recovery(wh):
    # the same 5 → 25 → 100% rollout in three services, each recovered at a different step
    events = []
    for service, resolved in (("five", "10:59"), ("twentyfive", "11:30"), ("hundred", "12:30")):
        events += [step(f"{service}-{s['context']['id']}", s["context"]["timestamp"],
                        s["customData"]["traffic_percent"], service=service) for s in CANARY]
        events += [inc(f"I-{service}", "2026-03-03T10:30:00Z", service=service),
                   res(f"I-{service}", f"2026-03-03T{resolved}:00Z")]
    wh.load(events)
    assert wh.rows("""SELECT service, recovery_from, recovery_minutes, blast_radius_percent, caught_in_rollout
                      FROM fct_failures ORDER BY blast_radius_percent""") == [
        ("five", "exposure", 59.0, 5.0, True), ("twentyfive", "exposure", 90.0, 25.0, True),
        ("hundred", "finish", 30.0, 100.0, False)]


def test_recovered_exactly_as_the_rollout_reached_100_percent_was_not_caught(wh):
    wh.load([PREVIOUS, *CANARY, rollback("2026-03-03T12:00:00Z")])
    assert failure(wh) == ("rel-2", "rollback", "finish", 0.0, 100.0, False)


def test_an_unrecovered_failure_has_the_radius_it_reached_and_was_not_caught(wh):
    wh.load([PREVIOUS, *CANARY[:2], inc("I1", "2026-03-03T10:30:00Z")])
    assert failure(wh) == ("rel-2", "incident", None, None, 25.0, False)


def test_a_failure_of_a_one_step_deployment_has_its_traffic_as_blast_radius(wh):
    wh.load([dep("d1", "2026-03-03T10:00:00Z"), rollback("2026-03-03T10:30:00Z"),
             dep("d2", "2026-03-04T10:00:00Z", traffic_percent=10), rollback("2026-03-04T10:30:00Z")])
    assert wh.rows("""SELECT deployment_id, recovery_from, recovery_minutes, blast_radius_percent, caught_in_rollout
                      FROM fct_failures ORDER BY 1""") == [
        ("d1", "finish", 30.0, 100.0, False), ("d2", "finish", 30.0, 10.0, True)]


def test_caught_in_rollout_share_per_period(wh):
    wh.load([
        *CANARY, rollback("2026-03-03T10:20:00Z"),                       # caught at 5%
        dep("d3", "2026-03-05T10:00:00Z"), rollback("2026-03-05T10:30:00Z"),   # full rollout: not caught
        dep("d4", "2026-03-06T10:00:00Z"),                                # did not fail
        dep("d5", "2026-04-06T10:00:00Z"),                                # April: no failures
    ])
    march = month(wh)
    assert (march["failed_deployments"], march["failed_deployments_caught_in_rollout"],
            march["caught_in_rollout_share"]) == (2, 1, 0.5)
    april = month(wh, "2026-04-01")
    assert april["failed_deployments_caught_in_rollout"] == 0
    assert april["caught_in_rollout_share"] != april["caught_in_rollout_share"]  # NaN: undefined without failures
    for figure in ("caught_in_rollout_share", "failed_deployments_caught_in_rollout"):
        frame = explain_figure(wh.con, figure, "month", date(2026, 3, 1), "all", "production", wh.settings)
        assert compute_figure(frame) == frame.attrs["figure"] == march[figure]


def test_recovery_p75_for_both_recovery_times(wh):
    events = []
    for n, minutes in enumerate((10, 20, 30, 40), start=1):
        events += [dep(f"d{n}", f"2026-03-0{n}T10:00:00Z"), inc(f"I{n}", f"2026-03-0{n}T10:00:00Z"),
                   res(f"I{n}", f"2026-03-0{n}T10:{minutes:02d}:00Z")]
    wh.load(events)
    march = month(wh)
    assert (march["incident_recovery_p75_minutes"], march["failed_deployment_recovery_p75_minutes"]) == (32.5, 32.5)


def test_a_failed_deployment_recovered_before_it_was_exposed_is_a_finding_not_a_fast_recovery(wh):
    wh.load([dep("d1", "2026-03-03T10:00:00Z"),
             rollback("2026-03-03T09:00:00Z", rolled_back_deployment="d1")])
    assert failure(wh) == ("d1", "rollback", "exposure", -60.0, None, False)
    assert wh.rows("SELECT entity_id, detail FROM dq_findings WHERE finding = 'negative_failed_deployment_recovery'") \
        == [("d1", "recovered (rollback) 60.0 min before it was first exposed: left out of failed-deployment "
                   "recovery times")]
    march = month(wh)
    assert (march["failed_deployments"], march["failed_deployment_recoveries"]) == (1, 0)
