"""The bundled sample: a seeded generator for `data/sample/` (event log, annotations, survey).

Acme runs six services, one repository each (`acme/<service>`), from 2025-12-01 to 2026-11-30 UTC.
For six months they ship once a week in a Thursday window; then four improvement phases over
fourteen weeks take them to continuous, progressive delivery. `data/sample/README.md` tells the
story and lists the quirks the log carries on purpose.

How it is built, so the pipeline's numbers come out of the raw events:

1. Merges: per service, a Poisson stream of pull requests in working hours (lighter at weekends),
   their size and review timings drawn from the date's knobs.
2. Releases: per service, pipeline runs cut at the era's cadence (weekly train, daily trains,
   then one run per merge, serialised); a run that fails its tests deploys nothing and its changes
   wait for the next run. From Phase 3 a production deployment is a progressive rollout (events
   at 5, 25, 50 and 100% of traffic under one deployment id); a rollout a gate stops at 5% or 25%
   is a failed deployment caught in rollout, rolled back within minutes, and a revert follows.
3. Failures: per month, the rollouts a gate caught plus a quota of the month's other production
   deployments make up the era's change fail rate; each gets one recovery mechanism (rollback,
   incident, both), and a share of the escaped ones an unplanned hotfix deployment.
4. Consistency: every implicit reference (rollback without target, incident without cause,
   deployment without `changes`) and every commit or change named as a cause is checked against
   the contract's §2 rule (exposure and finish, first deployment of a commit or change); where the
   rule would not give the intended answer the link is made explicit, so the intended truth and
   the rule always agree.
5. Writing: events in time order, then the deliberate quirks (late lines, one duplicate, a few
   malformed lines, CloudEvents envelopes).

Everything draws from `random.Random` instances seeded from one integer; there is no wall clock
and no global random state, so `python -m tools.samplegen` (run from the repository root) rewrites
the committed files byte for byte.
"""
from __future__ import annotations

import argparse
import bisect
import csv
import io
import json
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from metrics.build import MetricSettings
from tools import cdevents

SEED = 20251201
ORG = "acme"
UTC = timezone.utc
START_AT = datetime(2025, 12, 1, tzinfo=UTC)
END_AT = datetime(2026, 12, 1, tzinfo=UTC)  # exclusive: the log covers up to 2026-11-30 23:59 UTC

# Service -> relative share of the organisation's work (the shares average 1.0).
SERVICES: dict[str, float] = {
    "payments": 0.8,
    "checkout": 1.1,
    "catalog": 1.0,
    "search": 1.15,
    "accounts": 0.85,
    "notifications": 1.1,
}


@dataclass(frozen=True)
class Annotation:
    """A dated process change, drawn on the dashboard's charts (service None = whole organisation)."""

    on: date
    name: str
    description: str
    service: str | None = None


PHASES: tuple[Annotation, ...] = (
    Annotation(date(2026, 5, 25), "Phase 1: remove manual gates",
               "Weekly change-advisory board and the manual approval stage removed; teams release when ready"),
    Annotation(date(2026, 6, 15), "Phase 2: fast reliable tests",
               "CI under 15 minutes; flaky tests quarantined and fixed; a staging stage in every pipeline"),
    Annotation(date(2026, 7, 13), "Phase 3: progressive delivery",
               "Canary at 5% with error-rate and latency gates, then 25/50/100%; automatic rollback"),
    Annotation(date(2026, 8, 10), "Phase 4: feature flags",
               "Unfinished work ships dark behind flags; every merge deploys; incidents mitigated by a flag"),
)
STEADY_ON = date(2026, 8, 31)  # the last ~3 months: the "after" state
NOTIFICATIONS_MIGRATED_ON = date(2026, 6, 22)
ANNOTATIONS: tuple[Annotation, ...] = tuple(sorted(PHASES + (
    Annotation(NOTIFICATIONS_MIGRATED_ON, "notifications joins the shared CD pipeline",
               "Its legacy Jenkins job (environment spelled 'prod', Berlin local times) retired", "notifications"),
), key=lambda a: a.on))


def _at(day: date, hour: float = 0.0) -> datetime:
    return datetime.combine(day, time(), UTC) + timedelta(hours=hour)


P1_AT, P2_AT, P3_AT, P4_AT = (_at(p.on) for p in PHASES)
STEADY_AT = _at(STEADY_ON)
_ANCHORS = (P1_AT, P2_AT, P3_AT, P4_AT, STEADY_AT)

# Knobs: a value at the start of each phase and at the steady state; flat before Phase 1 and
# after the steady date, linear in between, so every metric moves gradually.
#                              P1      P2      P3      P4      steady
MERGES_PER_WEEKDAY = (3.2, 3.3, 3.5, 3.9, 4.35)      # per service (times its share)
MERGES_PER_WEEKEND_DAY = (0.08, 0.1, 0.3, 0.7, 1.3)
TRAINS_PER_WEEKDAY = (0.4, 1.0, 2.0, 3.0, 3.0)       # Phases 1-3; Phase 4 deploys every merge
PR_LINES_MEDIAN = (122, 105, 85, 60, 44)
FIRST_COMMIT_TO_OPEN_HOURS = (36.0, 24.0, 8.0, 1.5, 0.1)
OPEN_TO_REVIEW_HOURS = (5.0, 4.0, 2.0, 0.5, 0.09)
REVIEW_TO_MERGE_HOURS = (5.0, 4.0, 2.0, 0.4, 0.06)
BUILD_MINUTES = (15.0, 15.0, 12.0, 4.0, 3.0)
TEST_MINUTES = (45.0, 45.0, 40.0, 9.0, 7.0)
TEST_FAILURE_SHARE = (0.15, 0.15, 0.12, 0.03, 0.01)  # flaky tests, then real failures only
CANARY_MINUTES = (8.0, 8.0, 8.0, 7.0, 5.5)
CANARY_UNHEALTHY_SHARE = (0.03, 0.03, 0.03, 0.025, 0.02)  # canary pods never healthy: stopped before traffic
CHANGE_FAIL_RATE = (0.18, 0.15, 0.08, 0.035, 0.021)
CAUGHT_SHARE = (0.0, 0.0, 0.3, 0.45, 0.5)  # of failed deployments, those a rollout gate stops (Phase 3 on)
RECOVERY_MINUTES = (42.0, 38.0, 30.0, 8.0, 2.7)
DETECTION_MINUTES = (5.0, 5.0, 4.0, 2.0, 1.0)
HOTFIX_SHARE = (0.45, 0.4, 0.35, 0.3, 0.25)
CAUGHT_AT_25_SHARE = 0.25  # of the rollouts a gate stops, those stopped at 25% rather than at the 5% canary
# Services whose rollout tool reports each step after the canary as `service.upgraded`.
UPGRADED_STEP_SERVICES = ("payments", "search", "accounts")
SURVEY_MEAN = (3.2, 3.4, 3.8, 4.3, 4.7)

# Size budget: pipeline runs (with every stage, and the staging deployment) are written for about
# TRACED_PER_MONTH runs a month, evenly spread, and every CANARY_TRACE_EVERY-th run stopped by its
# canary gate; the deployments and changes are all there.
TRACED_PER_MONTH = 8
CANARY_TRACE_EVERY = 3

# The pipeline's default settings decide which links the log may leave implicit (finalise), so the
# sample is read as intended with a plain `dora.toml`; taken from metrics, not copied.
DEFAULT_SETTINGS = MetricSettings()

SOURCE_GITHUB = "/github/acme"
SOURCE_CI = "/ci/acme"
SOURCE_JENKINS = "/jenkins/acme"  # notifications' legacy deploy job
SOURCE_PAGER = "/pagerduty/acme"
SOURCE_SUPPORT = "/support/acme"  # the support desk posts structured CloudEvents

_TEAMS = {
    "payments": ("amara", "bjorn", "chen", "dara", "emeka", "farah", "gus"),
    "checkout": ("hana", "ivan", "jules", "kofi", "lena", "mateo", "nia"),
    "catalog": ("oren", "priya", "quinn", "rosa", "sami", "tariq", "uma"),
    "search": ("vera", "wei", "xavi", "yara", "zane", "anouk", "bram"),
    "accounts": ("carla", "dev", "elif", "femi", "greta", "hugo", "ines"),
    "notifications": ("jonas", "kira", "luca", "maya", "niko", "olga", "pablo"),
}
_NOUNS = {
    "payments": ("card capture", "refund flow", "3DS challenge", "ledger export", "payout retries"),
    "checkout": ("basket totals", "address form", "promo codes", "order summary", "shipping quotes"),
    "catalog": ("product import", "price history", "variant images", "stock sync", "category tree"),
    "search": ("ranking weights", "typo tolerance", "facet counts", "query cache", "synonyms"),
    "accounts": ("password reset", "session expiry", "2FA enrolment", "profile API", "login audit"),
    "notifications": ("email templates", "push batching", "SMS fallback", "digest schedule", "unsubscribe"),
}
_VERBS = ("Add", "Fix", "Refactor", "Update", "Remove", "Speed up", "Handle", "Log", "Test", "Tidy")


# ---------------------------------------------------------------------------------------------
# Model


@dataclass
class Change:
    """A merged pull request."""

    service: str
    number: int
    merged_at: datetime
    first_commit_at: datetime
    opened_at: datetime
    first_review_at: datetime
    commit: str
    additions: int
    deletions: int
    author: str
    title: str

    @property
    def id(self) -> str:
        return f"{ORG}/{self.service}#{self.number}"

    @property
    def repository(self) -> str:
        return f"{ORG}/{self.service}"


@dataclass
class Stage:
    """One stage (task run) of a pipeline run."""

    name: str
    started_at: datetime
    finished_at: datetime
    outcome: str


@dataclass
class Deployment:
    """A production deployment: one deployment id, one event per step of its rollout.

    `steps` are (traffic_percent, time) pairs: one (None, time) before Phase 3 (the whole
    environment at once), then 5, 25, 50, 100 — or fewer when a gate stopped the rollout.
    """

    id: str
    service: str
    started_at: datetime
    steps: list[tuple[int | None, datetime]]
    commit: str
    changes: list[Change]
    unplanned: bool = False
    environment: str = "production"
    kind: str = "service.deployed"
    source: str = SOURCE_CI
    report_changes: bool = True
    stopped_at: datetime | None = None  # when a rollout gate stopped it (caught in rollout)
    failure: str | None = None  # recovery mechanism when the deployment failed

    @property
    def exposed_at(self) -> datetime:
        """Its first event: users saw it from then on (contract §2, exposure)."""
        return self.steps[0][1]

    @property
    def finished_at(self) -> datetime:
        """Its last event: 100% of traffic, or the step a gate stopped it at."""
        return self.steps[-1][1]


@dataclass
class Run:
    """A pipeline run; `deployment` is set when it reached production."""

    id: str
    service: str
    pipeline: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    stages: list[Stage]
    commit: str
    staging_at: datetime | None = None
    deployment: Deployment | None = None
    source: str = SOURCE_CI


@dataclass
class Rollback:
    """A rollback of `target` in production; `explicit` writes `rolled_back_deployment`."""

    service: str
    at: datetime
    target: Deployment
    explicit: bool
    environment: str


@dataclass
class Incident:
    """An incident; `cause` is the intended deployment, `link` how the log says so."""

    id: str
    service: str | None
    started_at: datetime
    resolved_at: datetime | None
    cause: Deployment | None
    link: str  # "deployment", "commit", "change", "window" (no explicit cause), "none", "bogus"
    kind: str = "incident.detected"
    environment: str = "production"
    severity: str = "sev2"
    change: Change | None = None  # the change named by caused_by_change (link "change")


@dataclass
class Sample:
    """What the generator produces: the event log lines and the two CSV tables."""

    events_jsonl: str
    annotations_csv: str
    survey_csv: str
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Helpers


def knob(at: datetime, values: Sequence[float]) -> float:
    """The knob's value at `at`: flat before Phase 1 and after the steady date, linear between."""
    if at <= _ANCHORS[0]:
        return values[0]
    for i in range(1, len(_ANCHORS)):
        if at <= _ANCHORS[i]:
            lo, hi = _ANCHORS[i - 1], _ANCHORS[i]
            share = (at - lo) / (hi - lo)
            return values[i - 1] + share * (values[i] - values[i - 1])
    return values[-1]


def _lognormal_minutes(rng: random.Random, median: float, sigma: float) -> timedelta:
    return timedelta(minutes=rng.lognormvariate(math.log(median), sigma))


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _seconds(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def _days(start: datetime, end: datetime) -> Iterator[date]:
    day = start.date()
    while _at(day) < end:
        yield day
        day += timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# The generator


class _Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.merges: dict[str, list[Change]] = {}
        self.next_pr: dict[str, int] = {}
        self.runs: list[Run] = []
        self.deployments: list[Deployment] = []
        self.rollbacks: list[Rollback] = []
        self.incidents: list[Incident] = []

    def rng(self, name: str) -> random.Random:
        """An independent, reproducible stream per concern, so tuning one leaves the others alone."""
        return random.Random(f"{self.seed}:{name}")

    # -- 1. merges -------------------------------------------------------------------------------

    def make_change(self, rng: random.Random, service: str, merged_at: datetime,
                    title: str | None = None, small: bool = False) -> Change:
        merged_at = _seconds(merged_at)
        review_h = rng.lognormvariate(math.log(knob(merged_at, REVIEW_TO_MERGE_HOURS)), 0.8)
        open_h = rng.lognormvariate(math.log(knob(merged_at, OPEN_TO_REVIEW_HOURS)), 0.8)
        commit_h = rng.lognormvariate(math.log(knob(merged_at, FIRST_COMMIT_TO_OPEN_HOURS)), 0.8)
        if small:  # a revert or a hotfix: written and reviewed in minutes
            review_h, open_h, commit_h = (rng.uniform(0.03, 0.1) for _ in range(3))
        first_review_at = _seconds(merged_at - timedelta(hours=review_h))
        opened_at = _seconds(first_review_at - timedelta(hours=open_h))
        first_commit_at = _seconds(opened_at - timedelta(hours=commit_h))
        lines = max(2, round(rng.lognormvariate(math.log(knob(merged_at, PR_LINES_MEDIAN)), 0.7)))
        if small:
            lines = rng.randint(2, 30)
        additions = max(1, round(lines * rng.uniform(0.5, 0.85)))
        number = self.next_pr[service]
        self.next_pr[service] += 1
        return Change(
            service=service, number=number, merged_at=merged_at, first_commit_at=first_commit_at,
            opened_at=opened_at, first_review_at=first_review_at, commit=_sha(rng),
            additions=additions, deletions=lines - additions, author=rng.choice(_TEAMS[service]),
            title=title or f"{rng.choice(_VERBS)} {rng.choice(_NOUNS[service])}",
        )

    def generate_merges(self) -> None:
        for service, share in SERVICES.items():
            rng = self.rng(f"merges:{service}")
            self.next_pr[service] = 1000 + rng.randint(0, 4000)
            changes = []
            for day in _days(START_AT, END_AT):
                noon = _at(day, 12)
                if day.weekday() < 5:
                    lam, first_h, last_h = knob(noon, MERGES_PER_WEEKDAY) * share, 8.0, 18.0
                else:
                    lam, first_h, last_h = knob(noon, MERGES_PER_WEEKEND_DAY) * share, 9.0, 20.0
                hours = sorted(rng.uniform(first_h, last_h) for _ in range(_poisson(rng, lam)))
                changes.extend(self.make_change(rng, service, _at(day, h)) for h in hours)
            self.merges[service] = changes

    # -- 2. releases -----------------------------------------------------------------------------

    def stage_names(self, at: datetime) -> tuple[str, ...]:
        if at < P1_AT:
            return ("build", "test", "approval", "deploy")
        if at < P2_AT:
            return ("build", "test", "deploy")
        if at < P3_AT:
            return ("build", "test", "staging", "deploy")
        return ("build", "test", "staging", "canary-5", "rollout-25", "rollout-50", "rollout-100")

    def run_pipeline(self, rng: random.Random, service: str, started_at: datetime,
                     changes: list[Change], *, approval_at: datetime | None = None,
                     hotfix: bool = False) -> Run:
        """Simulate one pipeline run; returns it with `deployment` set when production was reached.

        From Phase 3 a deployment rolls out in steps (an event at 5, 25, 50 and 100% of traffic). A
        run the canary's health checks stop before any traffic deploys nothing; one a rollout gate
        stops (at the 5% canary, or at 25%) is a deployment caught in rollout, to be rolled back.
        """
        number = len(self.runs) + 1
        run_id = f"{service}-run-{number:05d}"
        commit = changes[-1].commit if changes else _sha(rng)
        t = _seconds(started_at)
        stages: list[Stage] = []
        outcome = "success"
        staging_at = None
        deploy_started_at = None
        steps: list[tuple[int | None, datetime]] = []
        caught_at = None  # the traffic step whose gate will stop this rollout
        if not hotfix and started_at >= P3_AT and rng.random() < knob(t, CHANGE_FAIL_RATE) * knob(t, CAUGHT_SHARE):
            caught_at = 25 if rng.random() < CAUGHT_AT_25_SHARE else 5
        for name in self.stage_names(started_at):
            if name == "build":
                end = t + _lognormal_minutes(rng, knob(t, BUILD_MINUTES), 0.15)
            elif name == "test":
                staging_at = staging_at or (t if "staging" not in self.stage_names(started_at) else None)
                end = t + _lognormal_minutes(rng, knob(t, TEST_MINUTES) * (0.5 if hotfix else 1), 0.15)
                if not hotfix and rng.random() < knob(t, TEST_FAILURE_SHARE):
                    end = t + (end - t) * rng.uniform(0.3, 0.95)
                    stages.append(Stage(name, t, _seconds(end), "failure"))
                    t, outcome = _seconds(end), "failure"
                    break
            elif name == "approval":
                wait = timedelta(minutes=rng.uniform(5, 20))
                end = max(t + wait, approval_at) if approval_at and not hotfix else t + wait
            elif name == "staging":
                end = t + _lognormal_minutes(rng, 3.2, 0.15)
                staging_at = _seconds(end)
            elif name == "deploy":
                deploy_started_at = t
                end = t + _lognormal_minutes(rng, 22 if t < P2_AT else 12, 0.2)
            elif name.startswith(("canary-", "rollout-")):
                percent = int(name.split("-")[1])
                if name == "canary-5":
                    deploy_started_at = t
                    end = t + _lognormal_minutes(rng, knob(t, CANARY_MINUTES), 0.1)
                    if not hotfix and rng.random() < knob(t, CANARY_UNHEALTHY_SHARE):
                        end = t + (end - t) * rng.uniform(0.2, 0.6)
                        stages.append(Stage(name, t, _seconds(end), "failure"))
                        t, outcome = _seconds(end), "failure"
                        break
                else:
                    end = t + _lognormal_minutes(rng, 2.5, 0.1)
                # traffic shifts early in a step (the gate then watches it); 100% ends the run
                shifted_at = end if percent == 100 else t + timedelta(seconds=rng.uniform(20, 60))
                steps.append((percent, _seconds(shifted_at)))
                if percent == caught_at:  # error rate or latency over the gate's limit: stop here
                    end = shifted_at + timedelta(minutes=rng.uniform(1.0, 3.5) if percent == 5 else rng.uniform(0.8, 2.0))
                    stages.append(Stage(name, t, _seconds(end), "failure"))
                    t, outcome = _seconds(end), "failure"
                    break
            stages.append(Stage(name, t, _seconds(end), "success"))
            t = _seconds(end)
        pipeline = f"{service}-hotfix" if hotfix else f"{service}-cd"
        legacy = service == "notifications" and started_at < _at(NOTIFICATIONS_MIGRATED_ON)
        run = Run(run_id, service, pipeline, _seconds(started_at), t, outcome, stages, commit,
                  staging_at=_seconds(staging_at) if staging_at else None,
                  source=SOURCE_JENKINS if legacy else SOURCE_CI)
        if outcome == "success" or steps:
            run.deployment = Deployment(
                id="", service=service, started_at=_seconds(deploy_started_at), steps=steps or [(None, t)],
                commit=commit, changes=list(changes), unplanned=hotfix,
                environment="prod" if legacy else "production",
                source=SOURCE_JENKINS if legacy else SOURCE_CI,
                stopped_at=t if outcome == "failure" else None,
            )
        self.runs.append(run)
        return run

    def train_cuts(self, rng: random.Random, service: str) -> list[datetime]:
        """Release cut times before Phase 4: Thursday trains, then trains on working days."""
        cuts = []
        for day in _days(START_AT, P4_AT):
            if day.weekday() >= 5:
                continue
            noon = _at(day, 12)
            if noon < P1_AT:
                if day.weekday() == 3:  # Thursday window
                    cuts.append(_at(day, 13 + rng.uniform(0, 0.75)))
                continue
            rate = knob(noon, TRAINS_PER_WEEKDAY)
            count = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
            if count:
                span = 7.5 / count
                cuts.extend(_at(day, 9.5 + span * (i + rng.uniform(0.15, 0.85))) for i in range(count))
        return cuts

    def release(self, service: str) -> None:
        rng = self.rng(f"release:{service}")
        merges = self.merges[service]
        merge_times = [c.merged_at for c in merges]
        revert_at = [START_AT]  # when the latest revert lands
        taken = 0  # merges[:taken] are in a run that deployed, or waiting in `queue`
        queue: list[Change] = []
        free_at = START_AT

        def take(until: datetime) -> None:
            nonlocal taken
            while taken < len(merges) and merges[taken].merged_at <= until:
                queue.append(merges[taken])
                taken += 1

        def revert(run: Run) -> datetime:
            """A canary caught a bad change: a revert lands and the next run ships both."""
            at = run.finished_at + _lognormal_minutes(rng, 20, 0.3)
            bad = queue[-1]
            change = self.make_change(rng, service, at, title=f'Revert "{bad.title}"', small=True)
            i = bisect.bisect_right(merge_times, change.merged_at)
            merges.insert(i, change)
            merge_times.insert(i, change.merged_at)
            return change.merged_at

        def attempt(start: datetime, approval_at: datetime | None = None) -> Run | None:
            run = None
            for _ in range(4):  # a failed test is rerun on the same commit
                run = self.run_pipeline(rng, service, start, list(queue), approval_at=approval_at)
                if run.finished_at >= END_AT:
                    self.runs.pop()
                    return None
                if run.outcome == "success":
                    queue.clear()
                    self.deployments.append(run.deployment)
                    return run
                if run.stages[-1].name != "test":
                    if run.deployment:  # users saw it before the gate stopped it: caught in rollout
                        self.deployments.append(run.deployment)
                    revert_at[0] = revert(run)
                    return run
                start = run.finished_at + timedelta(minutes=rng.uniform(3, 12))
            return run

        for cut in self.train_cuts(rng, service):
            if cut < free_at:
                continue
            take(cut)
            if not queue:
                continue
            approval_at = None
            if cut < P1_AT:  # the change-advisory board signs off Thursday afternoon
                approval_at = _seconds(_at(cut.date(), 15 + rng.uniform(0, 1.0)))
            run = attempt(cut, approval_at)
            if run is None:
                return
            free_at = run.finished_at
        # Phase 4 on: every merge triggers a run; runs for one service are serialised.
        t = max(free_at, P4_AT)
        while True:
            take(t)
            if not queue:
                if taken >= len(merges):
                    return
                t = merges[taken].merged_at
                take(t)
            start = t + timedelta(seconds=rng.uniform(30, 120))
            take(start)
            run = attempt(start)
            if run is None:
                return
            t = run.finished_at
            if run.outcome != "success" and run.stages[-1].name != "test":
                t = max(t, revert_at[0])  # wait for the revert rather than ship the bad change again

    # -- 3. failures -----------------------------------------------------------------------------

    # How failures that escaped every gate are found and recovered, before and from Phase 3.
    BEFORE_MIX = (("rollback", 0.25), ("rollback_implicit", 0.12), ("rollback_incident", 0.10),
                  ("incident_deployment", 0.16), ("incident_commit", 0.08), ("incident_change", 0.04),
                  ("incident_window", 0.20), ("incident_pair", 0.05))
    AFTER_MIX = (("rollback", 0.30), ("rollback_implicit", 0.08), ("rollback_incident", 0.05),
                 ("incident_deployment", 0.14), ("incident_commit", 0.07), ("incident_change", 0.10),
                 ("incident_window", 0.08), ("incident_midrollout", 0.15), ("incident_pair", 0.03))
    # How rollouts a gate stopped are rolled back: naming the deployment or not, with an alert or not.
    CAUGHT_MIX = (("caught", 0.45), ("caught_implicit", 0.25), ("caught_incident", 0.30))

    def choose_failures(self) -> None:
        """Mark each month's failed deployments: the rollouts a gate stopped, plus a quota of others.

        The month's expected failures follow the era's change fail rate; rollouts caught by a gate
        count towards it (they are failed deployments: users saw them), the rest escape.
        """
        rng = self.rng("failures")
        by_month: dict[tuple[int, int], list[Deployment]] = {}
        for d in sorted(self.deployments, key=lambda d: (d.finished_at, d.service)):
            by_month.setdefault((d.finished_at.year, d.finished_at.month), []).append(d)
        carry = 0.0
        for month, deployments in sorted(by_month.items()):
            # Hotfixes add deployments; aim the quota so failed / (planned + hotfixes) hits the rate.
            weights = []
            for d in deployments:
                rate, share = knob(d.finished_at, CHANGE_FAIL_RATE), knob(d.finished_at, HOTFIX_SHARE)
                weights.append(rate / (1 - rate * share))
            caught = [d for d in deployments if d.stopped_at]
            expected = sum(weights) + carry  # carry the rounding so the year adds up too
            quota = max(0, round(expected) - len(caught))
            carry = expected - quota - len(caught)
            keyed = sorted(((rng.random() ** (1 / w), i) for i, w in enumerate(weights)
                            if not deployments[i].stopped_at), reverse=True)
            chosen = [deployments[i] for _, i in sorted(keyed[:quota], key=lambda k: k[1])]
            # Each month gets the era's mix of mechanisms in proportion, in a shuffled order.
            for mix, group in ((self.BEFORE_MIX, [d for d in chosen if d.finished_at < P3_AT]),
                               (self.AFTER_MIX, [d for d in chosen if d.finished_at >= P3_AT]),
                               (self.CAUGHT_MIX, caught)):
                mechanisms = _apportion(rng, len(group), mix)
                for d, mechanism in zip(group, mechanisms):
                    d.failure = mechanism

    def recover(self) -> None:
        """Turn each failure into rollbacks / incidents, and some into hotfix deployments."""
        rng = self.rng("recovery")
        failed = sorted((d for d in self.deployments if d.failure), key=lambda d: d.finished_at)
        escaped = [d for d in failed if not d.stopped_at]
        unresolved = {id(d) for d in escaped[-2:]}  # the last two escaped failures are still open at the end
        hotfixes = []
        owed = rng.random()  # hotfixes owed: systematic sampling keeps the rework rate on its knob
        for d in failed:
            f = d.finished_at
            recovery = _lognormal_minutes(rng, knob(f, RECOVERY_MINUTES), 0.3)
            detect = _lognormal_minutes(rng, knob(f, DETECTION_MINUTES), 0.5)
            severity = rng.choice(("sev1", "sev2", "sev2", "sev3"))
            env = d.environment  # rollbacks come from the deploy tool, spelled its way
            inc_env = "prod" if rng.random() < 0.04 else "production"
            mech = d.failure
            if mech.startswith("caught"):
                # the rollout tool rolls back automatically, within a minute of the gate tripping;
                # the revert that follows ships with the next run, so no hotfix
                at = d.stopped_at + timedelta(seconds=rng.uniform(15, 60))
                self.rollbacks.append(Rollback(d.service, _seconds(at), d, mech != "caught_implicit", env))
                if mech == "caught_incident":  # the alert fired during the rollout, before the gate
                    start = d.exposed_at + (d.stopped_at - d.exposed_at) * rng.uniform(0.2, 0.8)
                    self.add_incident(d.service, start, at + timedelta(minutes=rng.uniform(0.3, 1.5)), d,
                                      "window", severity="sev3", environment=inc_env)
                continue
            if id(d) in unresolved:
                self.add_incident(d.service, f + detect, None, d, "window" if d is failed[-1] else "deployment",
                                  kind="incident.reported" if d is failed[-1] else "incident.detected",
                                  severity="sev3", environment=inc_env)
                continue
            if mech.startswith("rollback"):
                at = f + recovery
                self.rollbacks.append(Rollback(d.service, _seconds(at), d, mech != "rollback_implicit", env))
                if mech == "rollback_incident":
                    start = f + min(detect, recovery / 2)
                    self.add_incident(d.service, start, at + timedelta(minutes=rng.uniform(0.5, 2)), d,
                                      "deployment", severity=severity, environment=inc_env)
                recovered_at = at
            else:
                start = f + detect
                end = start + recovery
                if mech == "incident_window" and f < P3_AT and rng.random() < 0.15:
                    start = f + timedelta(hours=rng.uniform(2, 20))  # noticed the next morning
                    end = start + recovery
                elif mech == "incident_midrollout" and len(d.steps) > 1:
                    # users reported it at 50%, in a path no gate watches: the rollout went on to 100%
                    half_at = d.steps[-2][1]
                    start = half_at + (f - half_at) * rng.uniform(0.1, 0.9)
                    end = max(start + recovery, f + timedelta(seconds=rng.uniform(20, 60)))
                link = {"incident_deployment": "deployment", "incident_commit": "commit",
                        "incident_change": "change"}.get(mech, "window")
                kind = "incident.reported" if rng.random() < 0.15 else "incident.detected"
                self.add_incident(d.service, start, end, d, link, kind=kind, severity=severity, environment=inc_env)
                if mech == "incident_pair":  # support reports the same outage: still one failed deployment
                    self.add_incident(d.service, start + timedelta(minutes=rng.uniform(2, 8)),
                                      end + timedelta(minutes=rng.uniform(0, 5)), d, "commit",
                                      kind="incident.reported", severity="sev3", environment=inc_env)
                recovered_at = end
            owed += knob(f, HOTFIX_SHARE)
            if owed >= 1:
                owed -= 1
                hotfixes.append((d, recovered_at))
        for d, recovered_at in hotfixes:
            self.hotfix(rng, d, recovered_at)

    def hotfix(self, rng: random.Random, failed: Deployment, recovered_at: datetime) -> None:
        """An unplanned fix-forward: a small fix merged and deployed through the hotfix pipeline."""
        slow = failed.finished_at < P3_AT
        merged_at = recovered_at + _lognormal_minutes(rng, 90 if slow else 15, 0.4)
        fix = self.make_change(rng, failed.service, merged_at,
                               title=f"Hotfix: {rng.choice(_NOUNS[failed.service])}", small=True)
        start = fix.merged_at + timedelta(minutes=rng.uniform(1, 5))
        run = self.run_pipeline(rng, failed.service, start, [fix], hotfix=True)
        if run.finished_at >= END_AT or run.deployment is None:
            self.runs.pop()
            return
        self.merges[failed.service].append(fix)
        dep = run.deployment
        if failed.finished_at < P2_AT:  # the old hotfix script spells the environment its own way
            dep.environment = "Production"
        self.deployments.append(dep)

    def add_incident(self, service: str | None, started_at: datetime, resolved_at: datetime | None,
                     cause: Deployment | None, link: str, *, kind: str = "incident.detected",
                     severity: str = "sev2", environment: str = "production") -> Incident:
        incident = Incident("", service, _seconds(started_at),
                            _seconds(resolved_at) if resolved_at else None, cause, link, kind=kind,
                            severity=severity, environment=environment)
        self.incidents.append(incident)
        return incident

    def other_incidents(self) -> None:
        """Incidents no deployment caused, one with no service, two in staging, one bad link."""
        rng = self.rng("other-incidents")
        for day in _days(START_AT, P2_AT):
            if day.day == 1 or rng.random() > 2.5 / 30:
                continue
            if day.weekday() > 2:  # Monday to Wednesday: days after the weekly window
                continue
            start = _at(day, rng.uniform(8, 17))
            service = rng.choice(list(SERVICES))
            end = start + _lognormal_minutes(rng, knob(start, RECOVERY_MINUTES), 0.3)
            self.add_incident(service, start, end, None, "none", severity="sev3")
        start = _at(date(2026, 6, 24), 10.2)
        self.add_incident(None, start, start + timedelta(minutes=38), None, "none", severity="sev1")
        start = _at(date(2026, 2, 17), 11.4)
        self.add_incident("payments", start, start + timedelta(minutes=51), None, "bogus")
        for day, service in ((date(2026, 1, 20), "checkout"), (date(2026, 9, 15), "catalog")):
            start = _at(day, rng.uniform(9, 16))
            self.add_incident(service, start, start + timedelta(minutes=rng.uniform(20, 90)), None,
                              "none", environment="staging", severity="sev3")

    # -- 4. consistency --------------------------------------------------------------------------

    def finalise(self) -> None:
        """Number everything, add the quirks, and make implicit links explicit where a rule would miss.

        The rules are contract §2's, as docs/metrics.md states them: a rollback without a target →
        the service's latest deployment exposed before it; an incident → the named deployment, the
        first deployment of the named commit or change, or the latest deployment exposed before it
        started, within the attribution window of its finish; changes → the merge window. They are
        replayed here only to choose what the log states explicitly, never to compute figures.
        """
        rng = self.rng("quirks")
        self.deployments.sort(key=lambda d: (d.finished_at, d.service))
        counters: dict[str, int] = {}
        for d in self.deployments:
            prefix = f"{d.service}-hotfix" if d.unplanned else d.service
            counters[prefix] = counters.get(prefix, 0) + 1
            d.id = f"{prefix}-{counters[prefix]:04d}"
            if not d.unplanned and d.steps[0][0] is None and rng.random() < 0.03:
                d.kind = "service.upgraded"
        for m in self.merges.values():
            m.sort(key=lambda c: c.merged_at)

        by_service: dict[str, list[Deployment]] = {s: [] for s in SERVICES}
        for d in sorted(self.deployments, key=lambda d: (d.exposed_at, d.finished_at)):
            by_service[d.service].append(d)
        exposure_times = {s: [d.exposed_at for d in ds] for s, ds in by_service.items()}

        def latest_exposed_before(service: str, at: datetime) -> Deployment | None:
            i = bisect.bisect_left(exposure_times[service], at)
            return by_service[service][i - 1] if i else None

        # Deployments that omit `changes`: only where the repository/merge-window rule names the same
        # changes whether the window is cut at exposure, finish or start times, and the deployment
        # does not overlap the one before it.
        for service, deployments in by_service.items():
            merged = self.merges[service]
            times = [c.merged_at for c in merged]
            for i, d in enumerate(deployments):
                if i == 0:
                    # search's first deployment omits its list: the contract credits it with nothing
                    d.report_changes = service != "search"
                    continue
                if rng.random() > 0.14:
                    continue
                prev = deployments[i - 1]
                truth = {c.id for c in d.changes}
                ok = prev.finished_at < d.exposed_at
                for lo, hi in ((prev.finished_at, d.finished_at), (prev.started_at, d.started_at),
                               (prev.exposed_at, d.exposed_at)):
                    window = merged[bisect.bisect_right(times, lo):bisect.bisect_right(times, hi)]
                    ok = ok and {c.id for c in window} == truth
                d.report_changes = not ok

        # What an explicit commit or change names: the first deployment (by exposure) that shipped it.
        first_of_commit: dict[tuple[str, str], Deployment] = {}
        first_of_change: dict[str, Deployment] = {}
        for service, deployments in by_service.items():
            for d in deployments:
                first_of_commit.setdefault((service, d.commit), d)
                if d.report_changes or d is not deployments[0]:
                    for c in d.changes:
                        first_of_change.setdefault(c.id, d)

        for rb in self.rollbacks:
            if not rb.explicit and latest_exposed_before(rb.service, rb.at) is not rb.target:
                rb.explicit = True
        self.incidents.sort(key=lambda i: i.started_at)
        kept = []
        for incident in self.incidents:
            cause = incident.cause
            if incident.link == "commit" and not (first_of_commit[(cause.service, cause.commit)] is cause
                                                  and cause.exposed_at < incident.started_at):
                incident.link = "deployment"
            if incident.link == "change":
                named = [c for c in cause.changes if first_of_change.get(c.id) is cause]
                if named and cause.exposed_at < incident.started_at:
                    incident.change = named[-1]  # the latest merge it shipped: the likeliest culprit
                else:
                    incident.link = "deployment"
            production = incident.environment.lower() in DEFAULT_SETTINGS.production_environments
            if incident.link in ("window", "none") and incident.service and production:
                found = latest_exposed_before(incident.service, incident.started_at)
                window = timedelta(hours=DEFAULT_SETTINGS.attribution_window_hours)
                if found and incident.started_at - found.finished_at > window:
                    found = None
                if found is not cause:
                    if cause is None:
                        continue  # a deployment would be blamed by the window rule: leave it out
                    incident.link = "deployment"
            kept.append(incident)
        self.incidents = kept
        for n, incident in enumerate(self.incidents, start=1):
            incident.id = f"INC-{n:04d}"

    # -- 5. events -------------------------------------------------------------------------------

    def events(self) -> list[tuple[datetime, dict[str, Any]]]:
        rng = self.rng("events")
        out: list[tuple[datetime, dict[str, Any]]] = []

        def add(event: dict[str, Any]) -> None:
            out.append((_parse(event["context"]["timestamp"]), event))

        for changes in self.merges.values():
            for c in changes:
                add(cdevents.merged(  # GitHub's timestamps: whole seconds
                    id=f"merge-{c.service}-{c.number}", at=_utc_seconds(c.merged_at), change=c.id,
                    repository=c.repository, first_commit_at=_utc_seconds(c.first_commit_at),
                    opened_at=_utc_seconds(c.opened_at), first_review_at=_utc_seconds(c.first_review_at),
                    merged_at=_utc_seconds(c.merged_at), commit=c.commit,
                    additions=c.additions, deletions=c.deletions, author=c.author, title=c.title,
                    source=SOURCE_GITHUB))
        for run in self.traced_runs():
            svc = run.service
            add(cdevents.pipelinerun(id=f"{run.id}-started", at=run.started_at, run=run.id,
                                     pipeline=run.pipeline, predicate="started", service=svc, source=run.source,
                                     commit=run.commit))
            add(cdevents.pipelinerun(id=f"{run.id}-finished", at=run.finished_at, run=run.id,
                                     pipeline=run.pipeline, outcome=run.outcome, service=svc, source=run.source,
                                     commit=run.commit))
            for st in run.stages:
                task_run = f"{run.id}-{st.name}"
                add(cdevents.taskrun(id=f"{task_run}-started", at=st.started_at, task_run=task_run,
                                     task=st.name, pipeline_run=run.id, predicate="started", source=run.source))
                add(cdevents.taskrun(id=f"{task_run}-finished", at=st.finished_at, task_run=task_run,
                                     task=st.name, pipeline_run=run.id, outcome=st.outcome, source=run.source))
            if run.started_at < P1_AT and len(run.stages) > 1:
                # a release artifact: a valid CDEvent type the metrics don't use
                add(cdevents.make_event("artifact.published", id=f"{run.id}-artifact", at=run.stages[0].finished_at,
                                        subject_id=f"pkg:oci/{ORG}/{svc}@sha256:{run.commit[:16]}",
                                        source=run.source, version="0.1.1"))
            if run.staging_at:
                add(cdevents.deployed(id=f"{run.id}-staging", at=run.staging_at, service=svc,
                                      environment="staging", deployment_id=f"{run.id}-staging",
                                      commit=run.commit, repository=f"{ORG}/{svc}", source=run.source))
        for d in self.deployments:
            if d.steps[0][0] is None:  # the whole environment at once: one event says it all
                at: datetime | str = d.finished_at
                started_at: datetime | str = d.started_at
                if d.source == SOURCE_JENKINS:  # the legacy job writes Berlin local time with its offset
                    at, started_at = _berlin_time(d.finished_at), _berlin_time(d.started_at)
                add(cdevents.deployed(
                    id=f"deploy-{d.id}", at=at, service=d.service, environment=d.environment,
                    deployment_id=d.id, commit=d.commit, repository=f"{ORG}/{d.service}",
                    changes=[c.id for c in d.changes] if d.report_changes else None, started_at=started_at,
                    unplanned=True if d.unplanned else None, source=d.source, kind=d.kind))
                continue
            # A rollout: the canary's event carries what was deployed; each later step only says which
            # deployment moved and to what share of traffic (size budget: most of the log's
            # deployment events are steps).
            for n, (percent, at) in enumerate(d.steps):
                first = n == 0
                add(cdevents.deployed(
                    id=f"deploy-{d.id}-{percent}", at=at, service=d.service, environment=d.environment,
                    deployment_id=d.id, traffic_percent=percent,
                    commit=d.commit if first else None, repository=f"{ORG}/{d.service}" if first else None,
                    changes=[c.id for c in d.changes] if first and d.report_changes else None,
                    started_at=d.started_at if first else None,
                    unplanned=True if first and d.unplanned else None, source=d.source,
                    kind="service.upgraded" if not first and d.service in UPGRADED_STEP_SERVICES else d.kind))
        for n, rb in enumerate(sorted(self.rollbacks, key=lambda r: r.at), start=1):
            at = _berlin_time(rb.at) if rb.target.source == SOURCE_JENKINS else rb.at
            add(cdevents.rolledback(id=f"rollback-{n:04d}", at=at, service=rb.service,
                                    environment=rb.environment,
                                    rolled_back_deployment=rb.target.id if rb.explicit else None,
                                    source=rb.target.source))
        for inc in self.incidents:
            source = SOURCE_SUPPORT if inc.kind == "incident.reported" else SOURCE_PAGER
            by_dep = inc.cause.id if inc.cause and inc.link == "deployment" else None
            by_commit = inc.cause.commit if inc.cause and inc.link == "commit" else None
            by_change = inc.change.id if inc.change and inc.link == "change" else None
            if inc.link == "bogus":
                by_dep = "payments-legacy-0007"  # names no deployment: a data-quality finding
            add(cdevents.incident_detected(
                id=f"{inc.id}-start", at=_utc_seconds(inc.started_at), incident=inc.id, service=inc.service,
                environment=inc.environment, severity=inc.severity, caused_by_deployment=by_dep,
                caused_by_change=by_change, caused_by_commit=by_commit, source=source, kind=inc.kind))
            if inc.resolved_at:
                add(cdevents.incident_resolved(id=f"{inc.id}-resolved", at=_utc_seconds(inc.resolved_at),
                                               incident=inc.id, service=inc.service,
                                               environment=inc.environment, source=source))
        out.sort(key=lambda pair: (pair[0], pair[1]["context"]["source"], pair[1]["context"]["id"]))
        for i, (at, event) in enumerate(out):
            if event["context"]["source"] == SOURCE_SUPPORT or rng.random() < 0.03:
                out[i] = (at, cdevents.wrap_cloudevent(event))
        return out

    def traced_runs(self) -> list[Run]:
        """The runs written to the log (size budget): TRACED_PER_MONTH a month, evenly spread, plus
        every CANARY_TRACE_EVERY-th run a canary or rollout gate stopped."""
        by_month: dict[tuple[int, int], list[Run]] = {}
        canary_failures = 0
        traced = []
        for run in sorted(self.runs, key=lambda r: (r.started_at, r.id)):
            if run.outcome == "failure" and run.stages[-1].name in ("canary-5", "rollout-25"):
                canary_failures += 1
                if canary_failures % CANARY_TRACE_EVERY == 1:
                    traced.append(run)
                continue
            by_month.setdefault((run.started_at.year, run.started_at.month), []).append(run)
        for runs in by_month.values():
            step = math.ceil(len(runs) / TRACED_PER_MONTH)
            traced.extend(runs[step // 2::step])
        return traced

    def lines(self) -> list[str]:
        """The log's lines: time order, then late arrivals, a duplicate, malformed lines."""
        rng = self.rng("lines")
        events = self.events()
        lines = [cdevents.to_jsonl([e]) for _, e in events]
        # Late arrivals: ~1.5% of lines land up to a few hundred lines after their place.
        for i in sorted(rng.sample(range(len(lines) - 400), len(lines) * 15 // 1000), reverse=True):
            line = lines.pop(i)
            lines.insert(i + rng.randint(5, 300), line)
        # One exact duplicate of a production deployment line.
        candidates = [i for i, line in enumerate(lines) if '"deployment_id":"checkout-0' in line
                      and '"environment":{"id":"production"}' in line]
        i = candidates[len(candidates) // 3]
        lines.insert(i + 37, lines[i])
        self.kinds: dict[str, int] = {}
        for line in lines:
            obj = json.loads(line)
            kind = ".".join(obj.get("data", obj)["context"]["type"].split(".")[2:4])
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
        bad_lines = self.malformed(lines)
        self.kinds["(malformed)"] = len(bad_lines) - 1
        self.kinds["(blank)"] = 1
        for at_share, bad in zip((0.07, 0.2, 0.33, 0.46, 0.58, 0.7, 0.81, 0.93), bad_lines):
            lines.insert(int(len(lines) * at_share), bad)
        return lines

    def malformed(self, lines: list[str]) -> list[str]:
        """Lines the ingester must reject (and one blank line it must skip)."""
        deploy_line = next(line for line in lines[len(lines) // 2:] if "service.deployed." in line)
        cut = deploy_line[: len(deploy_line) * 3 // 5] + "\n"  # a write cut short
        pair = [json.loads(line) for line in lines[100:102]]
        no_id = cdevents.deployed(id="x", at="2026-03-12T15:40:00.000Z", service="catalog",
                                  deployment_id="catalog-manual-0001", source=SOURCE_CI)
        del no_id["context"]["id"]
        no_env = cdevents.deployed(id="deploy-accounts-manual-0001", at="2026-07-02T11:05:00.000Z",
                                   service="accounts", deployment_id="accounts-manual-0001", source=SOURCE_CI)
        del no_env["subject"]["content"]["environment"]
        bad_time = cdevents.incident_detected(id="INC-BADTIME-start", at="2026-02-30T09:15:00Z",
                                              incident="INC-BADTIME", service="catalog", source=SOURCE_PAGER)
        not_cdevent = {"specversion": "1.0", "id": "hb-0001", "source": "/monitoring/acme",
                       "type": "com.acme.heartbeat", "time": "2026-10-01T00:00:00Z",
                       "data": {"status": "ok"}}
        return [
            cut,
            cdevents.to_jsonl([pair]),  # a JSON array, not one event
            cdevents.to_jsonl([no_id]),
            cdevents.to_jsonl([no_env]),
            cdevents.to_jsonl([bad_time]),
            '"dev.cdevents.service.deployed payments production"\n',  # valid JSON, not an object
            cdevents.to_jsonl([not_cdevent]),  # a CloudEvent whose data is not a CDEvent
            "\n",  # a blank line: ignored, not rejected
        ]

    # -- tables ----------------------------------------------------------------------------------

    def survey_rows(self) -> list[dict[str, Any]]:
        rng = self.rng("survey")
        rows = []
        day = date(START_AT.year, START_AT.month, 15)
        while _at(day) < END_AT:
            pulse = day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)
            mean = knob(_at(pulse), SURVEY_MEAN)
            weights = _score_weights(mean)
            for team in SERVICES:
                people = [f"{team}-r{n:02d}" for n in range(1, 9)]
                for person in sorted(rng.sample(people, rng.randint(5, 8))):
                    score = rng.choices(range(1, 6), weights)[0]
                    rows.append({"date": pulse.isoformat(), "team": team, "respondent": person,
                                 "score": score, "scale": "1-5"})
            day = date(day.year + (day.month == 12), day.month % 12 + 1, 15)
        return rows


def _apportion(rng: random.Random, count: int, mix: Sequence[tuple[str, float]]) -> list[str]:
    """`count` labels in the mix's proportions (largest remainder, ties at random), shuffled."""
    exact = [(name, count * share) for name, share in mix]
    labels = [name for name, x in exact for _ in range(int(x))]
    rest = sorted(exact, key=lambda nx: (nx[1] - int(nx[1]), rng.random()), reverse=True)
    labels += [name for name, _ in rest[: count - len(labels)]]
    rng.shuffle(labels)
    return labels


def _score_weights(mean: float) -> list[float]:
    """Weights over scores 1..5 (a discretised bell of width 0.8) whose expected value is `mean`."""
    def weights(centre: float) -> list[float]:
        return [math.exp(-((k - centre) ** 2) / (2 * 0.8**2)) for k in range(1, 6)]

    lo, hi = 0.0, 8.0
    for _ in range(60):
        mid = (lo + hi) / 2
        w = weights(mid)
        if sum(k * x for k, x in zip(range(1, 6), w)) / sum(w) < mean:
            lo = mid
        else:
            hi = mid
    w = weights(lo)
    return [x / sum(w) for x in w]


def _utc_seconds(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _berlin_time(value: datetime) -> str:
    """Europe/Berlin local time with its offset (summer time from 2026-03-29 01:00 UTC)."""
    hours = 2 if datetime(2026, 3, 29, 1, tzinfo=UTC) <= value < datetime(2026, 10, 25, 1, tzinfo=UTC) else 1
    return (value + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S") + f"+0{hours}:00"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _csv(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def generate_sample(seed: int = SEED) -> Sample:
    """Build the whole sample in memory; the same seed always gives the same text."""
    gen = _Generator(seed)
    gen.generate_merges()
    for service in SERVICES:
        gen.release(service)
    gen.choose_failures()
    gen.recover()
    gen.other_incidents()
    gen.finalise()
    lines = gen.lines()
    annotations = [{"date": a.on.isoformat(), "name": a.name, "service": a.service or "",
                    "description": a.description} for a in ANNOTATIONS]
    return Sample(
        events_jsonl="".join(lines),
        annotations_csv=_csv(annotations, ("date", "name", "service", "description")),
        survey_csv=_csv(gen.survey_rows(), ("date", "team", "respondent", "score", "scale")),
        counts=dict(sorted(gen.kinds.items())),
    )


SAMPLE_FILES = ("events.jsonl", "annotations.csv", "survey.csv")


def write_sample(directory: Path | str, seed: int = SEED) -> Sample:
    """Write events.jsonl, annotations.csv and survey.csv into `directory` (UTF-8, LF line ends)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sample = generate_sample(seed)
    for name, text in zip(SAMPLE_FILES, (sample.events_jsonl, sample.annotations_csv, sample.survey_csv)):
        (directory / name).write_bytes(text.encode("utf-8"))
    return sample


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the bundled sample: `python -m tools.samplegen [--out data/sample] [--seed N]`."""
    parser = argparse.ArgumentParser(prog="python -m tools.samplegen", description=main.__doc__)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "data" / "sample"),
                        help="directory to write into (default: the repository's data/sample)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = parser.parse_args(argv)
    sample = write_sample(args.out, args.seed)
    size = len(sample.events_jsonl.encode("utf-8"))
    print(f"wrote {args.out}: {sum(sample.counts.values())} lines, {size / 1e6:.1f} MB")
    for kind, count in sample.counts.items():
        print(f"  {kind:<24} {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
