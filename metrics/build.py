"""Build the facts and metric tables from stg_events, in SQL, in dependency order.

The models live in metrics/sql, one per file. Each model is a full rebuild of its table (CREATE OR
REPLACE), so it is idempotent; callers run a build inside the ingest's transaction so readers never see
half a build. `build_metrics` rebuilds every model; `update_metrics` (what jobs run) rebuilds only the
models whose inputs changed since the last build (MODEL_INPUTS), and nothing when nothing changed; of
those, some recompute only the changes or deployments and the period models only the periods whose rows
can differ (ROW_SCOPES, PERIOD_MODELS), running their SQL unchanged on views or copies of what those rows read.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Callable

import duckdb

from core.sql import read_sql, run_sql
from metrics.registry import LEVEL_TIERS

# The version of the definitions (docs/metrics.md, contract): every export row names it, and a build
# records it (MetricSettings.fingerprint), so a warehouse built under another version is rebuilt.
DEFINITIONS_VERSION = "2"
# The periods every model builds and readers choose from, shortest first (weeks start on Monday).
GRAINS = ("day", "week", "month", "quarter")
# Origins synced from an API: their coverage runs to their last successful sync (fct_coverage).
API_ORIGINS = ("github",)

# The SQL macros every model and reader calls (metrics/sql/macro_<name>.sql), in dependency order.
# Stored in the database, so read-only readers of the snapshot have them too.
MACROS = [
    "local_day",
    "period_start_of",
    "period_interval",
    "period_days",
    "observed_days",
    "environment_group",
    "classify_levels",  # the DORA level rules: metric_levels and the team levels read at query time
    "utc_day",  # the day a period-scoped build fingerprints and filters facts by
    "grouped_grain",  # the grain of a grouping-sets row: the period models
]

# Dependency order: each model reads only stg_events and the models before it.
MODELS = [
    "fct_deployments",
    "fct_changes",
    "fct_deployment_changes",
    "fct_rollbacks",
    "fct_incidents",
    "fct_lead_times",
    "fct_failures",
    "fct_change_stages",
    "fct_deployment_batches",
    "fct_stage_runs",
    "fct_pipeline_runs",
    "fct_coverage",
    "metric_periods",
    "metric_survey",
    "metric_levels",
    "metric_lead_time_breakdown",
    "metric_batch_size",
    "metric_pipeline",
    "dq_findings",
]

# What each model reads besides the macros: staged rows of a kind ("stg:<kind>"; "stg:*" any kind),
# the models before it, and the other inputs build_changed_inputs.sql names (survey_responses,
# rejects). A run rebuilds the models whose inputs it changed and every model reading those
# (plan_models); tests/test_incremental.py checks these against the tables and kinds each model's
# SQL names. Sources synced from an API (GitHub replaces rows it reads again) mean a full rebuild.
MODEL_INPUTS: dict[str, tuple[str, ...]] = {
    "fct_deployments": ("stg:deployment",),
    "fct_changes": ("stg:change_merged",),
    "fct_deployment_changes": ("fct_deployments", "fct_changes"),
    "fct_rollbacks": ("stg:rollback", "fct_deployments"),
    "fct_incidents": ("stg:incident_started", "stg:incident_resolved", "stg:deployment",
                      "fct_deployments", "fct_deployment_changes", "fct_changes"),
    "fct_lead_times": ("fct_deployment_changes", "fct_deployments", "fct_changes"),
    "fct_failures": ("fct_rollbacks", "fct_incidents", "fct_deployments", "stg:deployment"),
    "fct_change_stages": ("fct_lead_times", "fct_changes"),
    "fct_deployment_batches": ("fct_deployment_changes", "fct_changes", "fct_deployments", "fct_failures"),
    "fct_stage_runs": ("stg:taskrun",),
    "fct_pipeline_runs": ("stg:pipelinerun", "fct_stage_runs", "fct_deployments", "fct_failures"),
    "fct_coverage": ("stg:*",),
    "metric_periods": ("fct_deployments", "fct_failures", "fct_lead_times", "fct_incidents", "fct_coverage"),
    "metric_survey": ("survey_responses",),
    "metric_levels": ("metric_periods",),
    "metric_lead_time_breakdown": ("fct_change_stages",),
    "metric_batch_size": ("fct_deployment_batches", "fct_lead_times"),
    "metric_pipeline": ("fct_pipeline_runs", "fct_stage_runs"),
    "dq_findings": ("fct_changes", "fct_lead_times", "fct_deployment_changes", "fct_deployments",
                    "fct_incidents", "fct_rollbacks", "fct_failures", "fct_change_stages",
                    "fct_pipeline_runs", "fct_stage_runs", "rejects"),
}
# The metric models whose every row is one period's (grain, period_start) computed from the facts of that
# period alone (and the coverage): a partial build recomputes only the periods whose facts changed
# (build_models, "period-scoped"). Their fact inputs, each with a view of the facts on the days to
# recompute (metrics/sql/scope_<input>.sql) and a fingerprint per day (build_scope_prints.sql).
PERIOD_MODELS = ("metric_periods", "metric_levels", "metric_lead_time_breakdown", "metric_batch_size")
PERIOD_INPUTS = ("fct_deployments", "fct_failures", "fct_lead_times", "fct_incidents", "fct_change_stages",
                 "fct_deployment_batches")
# The models whose every row is one change's (per environment it reached) or one deployment's, computed
# from that change's or deployment's own rows and a few others' (ROW_SCOPES says which): a partial build
# recomputes only the changes or deployments whose rows can differ (build_models, "row-scoped"), when the
# change reports the last build read are all still staged.


@dataclass(frozen=True)
class RowScope:
    """How a row-scoped model runs: the tables in the build_scope schema listing what it recomputes (made
    by metrics/sql/build_scope_<rows>.sql once the facts they are told by are built); which of its rows
    those are (`where`: the rows it replaces, and keeps of its scoped run); and its inputs' rows those
    read, as tables of the inputs' names there (metrics/sql/<copies>_<input>.sql). `guard`: a query
    saying whether this build's data lets it recompute only those rows (else it is rebuilt whole).

    A copy finds its rows by key and then reads them whole by rowid (`WHERE rowid IN (SELECT rowid …
    WHERE key IN …)`): a key filter that is a join reads every column of every row it tests, while the
    rowids are read from the key columns alone, and the few rows found (mostly recent, so close
    together) are then read whole. At 1M deployments this took a day's copy of the staged change
    reports from 0.53 to 0.09 s (docs/performance.md, "Incremental builds")."""

    rows: tuple[str, ...]
    where: str
    copies: str
    inputs: tuple[str, ...]
    guard: str | None = None


_CHANGES = "change_id IN (SELECT change_id FROM build_scope.{})"
ROW_SCOPES = {
    # the tail of each stream with new events, from the first deployment they reach
    "fct_deployments": RowScope(
        ("streams", "deployment_scope"),
        "(service, environment, deployment_id) IN"
        " (SELECT service, environment, deployment_id FROM build_scope.deployment_scope)",
        "deploy_scope", ("stg_events",), guard="build_scope_deployments_scopable"),
    "fct_changes": RowScope(("changes",), _CHANGES.format("changes"), "change_scope", ("stg_events",)),
    # a deployment's links, and the links of a change reported since by the rules that read the change
    # (an explicit list reads the deployment's row only)
    "fct_deployment_changes": RowScope(
        ("changes", "deployments"),
        "deployment_key IN (SELECT deployment_key FROM build_scope.deployments)"
        " OR (change_id IN (SELECT change_id FROM build_scope.changes) AND rule <> 'explicit')",
        "link_scope", ("fct_changes", "fct_deployments")),
    "fct_lead_times": RowScope(("reached",), _CHANGES.format("reached"), "change_scope",
                               ("fct_changes", "fct_deployment_changes", "fct_deployments")),
    "fct_change_stages": RowScope(("reached",), _CHANGES.format("reached"), "change_scope",
                                  ("fct_changes", "fct_lead_times")),
    "fct_deployment_batches": RowScope(("batches",),
                                       "deployment_key IN (SELECT deployment_key FROM build_scope.batches)",
                                       "batch_scope", ("fct_deployment_changes", "fct_changes", "fct_deployments")),
    # a change's or a deployment's findings; the few about incidents, rollbacks, pipeline runs and
    # rejected lines are all recomputed, from the warehouse's tables (they are not copied)
    "dq_findings": RowScope(
        ("reached", "findings_changes", "findings_deployments"),
        "(entity_type = 'change' AND entity_id IN (SELECT change_id FROM build_scope.findings_changes))"
        # EXISTS, not a row IN: beside the other terms of the OR, DuckDB tests a row IN row by row (1 s)
        " OR (entity_type = 'deployment' AND EXISTS (SELECT 1 FROM build_scope.findings_deployments s"
        " WHERE s.service = dq_findings.service AND s.environment = dq_findings.environment"
        " AND s.deployment_id = dq_findings.entity_id))"
        " OR entity_type NOT IN ('change', 'deployment')",
        "finding_scope", ("fct_changes", "fct_lead_times", "fct_change_stages", "fct_deployment_changes",
                          "fct_deployments"),
        guard="build_scope_findings_scopable"),
}
# What a row-scoped build notes of some facts, before and after it builds each (the SQL files run, told
# the fact's name as $model), for build_scope_<rows>.sql to tell the rows to recompute by: the deployments
# whose rows changed (by a hash of every column) and those linked to a change reported since, before and
# after.
_ROWS_CHANGED = ("build_scope_row_prints", "build_scope_rows_changed")
ROW_NOTES = {
    "fct_deployments": _ROWS_CHANGED,
    "fct_deployment_changes": ("build_scope_change_links", "build_scope_change_links"),
    "fct_failures": _ROWS_CHANGED,
}
# Origins whose runs only add staged rows (or stage none): their changes can be told from the rows
# a run added. Any other origin's run since the last build means a full rebuild.
ADDING_ORIGINS = ("eventlog", "survey", "annotations")


@dataclass(frozen=True)
class MetricSettings:
    """The definitions' tunable parts (docs/metrics.md); a change means the facts must be rebuilt."""

    production_environments: tuple[str, ...] = ("production", "prod")
    attribution_window_hours: int = 24
    timezone: str = "UTC"
    ci_budget_minutes: float = 15.0  # pipeline health: a run's CI part over this is over budget
    ci_stages: tuple[str, ...] = ("build", "test")  # the stages (task names) that make a run's CI part
    levels_report: str = "2024"  # the DORA report whose levels readers show (metric_levels has both)

    def __post_init__(self) -> None:
        object.__setattr__(self, "production_environments",
                           tuple(sorted({e.strip().lower() for e in self.production_environments})))
        object.__setattr__(self, "ci_stages", tuple(sorted({s.strip().lower() for s in self.ci_stages})))

    def as_params(self) -> dict:
        """The settings as the models' bound parameters."""
        return {"production_environments": list(self.production_environments),
                "attribution_window_hours": self.attribution_window_hours,
                "timezone": self.timezone,
                "ci_budget_minutes": self.ci_budget_minutes,
                "ci_stages": list(self.ci_stages)}

    def fingerprint(self) -> str:
        """What a build records of its settings: equal fingerprints build equal tables. DuckDB's version
        is part of it: deployment keys are its hash(), which another version may compute otherwise."""
        return json.dumps({"definitions_version": DEFINITIONS_VERSION, "models": models_digest(),
                           "duckdb": duckdb.__version__, **asdict(self)}, sort_keys=True)


def models_digest() -> str:
    """A digest of every macro's and model's SQL: a build by other code is not current, so an upgrade
    rebuilds every model rather than only those whose inputs changed."""
    digest = hashlib.sha256()
    for name in [f"macro_{m}" for m in MACROS] + MODELS:
        digest.update(read_sql("metrics", name).encode())
    return digest.hexdigest()[:16]


def run_model(con: duckdb.DuckDBPyConnection, package: str, name: str, params: dict) -> None:
    """Execute one model, binding only the named parameters its SQL uses; the grains (GRAINS) and
    the DORA reports' level tables (metrics.registry.LEVEL_TIERS) and the API origins (API_ORIGINS)
    are bound wherever a model asks."""
    run_sql(con, package, name, {"grains": list(GRAINS), "level_tiers": [asdict(t) for t in LEVEL_TIERS],
                                 "api_origins": list(API_ORIGINS), **params})


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) every SQL macro in the database."""
    for name in MACROS:
        run_sql(con, "metrics", f"macro_{name}")


OnModel = Callable[[int, int, str], None]  # (models done, models to build, the one starting now)


def build_metrics(con: duckdb.DuckDBPyConnection, settings: MetricSettings, on_model: OnModel | None = None) -> None:
    """Rebuild the macros and every fact and metric table, and record what they were built from."""
    create_macros(con)
    build_models(con, settings, MODELS, on_model)


def build_models(con: duckdb.DuckDBPyConnection, settings: MetricSettings, names: list[str],
                 on_model: OnModel | None = None, *, by_period: bool = False, by_row: bool = False) -> None:
    """Rebuild the named models (in MODELS order) and record the build: its settings, the last run it
    saw, the staged rows it read and its facts' day fingerprints (what the next update_metrics compares
    against). `by_period`: the PERIOD_MODELS among them recompute only the periods whose facts changed
    since the last build; `by_row`: the ROW_SCOPES models only the changes or deployments whose rows
    can differ. `on_model` is told each model as it starts, for a progress display."""
    params = settings.as_params()
    run_sql(con, "metrics", "build_scope_create")
    scope_tables = open_row_scope(con) if by_row else []
    period_models = [n for n in names if n in PERIOD_MODELS]  # planned whenever their facts changed
    for done, name in enumerate(names):
        if on_model:
            on_model(done, len(names), name)
        before, after = ROW_NOTES.get(name, (None, None)) if by_row else (None, None)
        if before:
            run_sql(con, "metrics", before, {"model": name})
        if by_row and name in ROW_SCOPES:
            run_row_scoped(con, name, params, scope_tables)
        elif by_period and name in PERIOD_MODELS:
            if name == period_models[0]:  # the facts are all built by now: MODELS puts them first
                open_period_scope(con)
            run_model_by_period(con, name, params)
            if name == period_models[-1]:  # its views of the facts go before a later model runs there
                close_period_scope(con, period_models)
        else:
            run_model(con, "metrics", name, params)
        if after:
            run_sql(con, "metrics", after, {"model": name})
    for table in scope_tables:  # one object at a time (see close_period_scope); names of ours
        con.execute(f"DROP TABLE build_scope.{table}")
    if period_models and not by_period:  # rebuilt whole: their facts' fingerprints are recorded all the same
        open_period_scope(con, fingerprints_only=True)
        close_period_scope(con, [])
    con.execute("DROP SCHEMA build_scope")
    run_sql(con, "metrics", "build_info_clear")
    run_sql(con, "metrics", "build_info_record", {"settings": settings.fingerprint()})
    run_sql(con, "metrics", "build_inputs_create")
    run_sql(con, "metrics", "build_inputs_clear")
    run_sql(con, "metrics", "build_inputs_record")


def open_row_scope(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Make, in the build_scope schema, the list of changes reported since the last build and the
    tables ROW_NOTES fills; returns the tables made there."""
    run_sql(con, "metrics", "build_scope_changes")
    run_sql(con, "metrics", "build_scope_row_prints_create")
    run_sql(con, "metrics", "build_scope_rows_changed_create")
    return ["changes", "row_prints", "rows_changed"]


def run_row_scoped(con: duckdb.DuckDBPyConnection, name: str, params: dict, scope_tables: list[str]) -> None:
    """Make the lists of rows a ROW_SCOPES model is told by that this build has not made yet (adding them
    to `scope_tables`), then run the model by row, or whole where its guard says this build's data
    cannot be scoped."""
    scope = ROW_SCOPES[name]
    for rows in scope.rows:
        if rows not in scope_tables:  # the facts it is told by are built by now (MODELS order)
            run_sql(con, "metrics", f"build_scope_{rows}", params)
            scope_tables.append(rows)
    if scope.guard is None or run_sql(con, "metrics", scope.guard).fetchone()[0]:
        run_model_by_row(con, name, params)
    else:
        run_model(con, "metrics", name, params)


def run_model_by_row(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    """Run a ROW_SCOPES model in the build_scope schema, on its inputs' rows that the rows it recomputes
    read, then replace those rows in the warehouse with the ones computed for them."""
    scope = ROW_SCOPES[name]
    for table in scope.inputs:
        run_sql(con, "metrics", f"{scope.copies}_{table}", params)
    run_in_scope(con, name, params)
    # Table names and conditions cannot be bound as parameters: they all come from ROW_SCOPES.
    con.execute(f"DELETE FROM main.{name} WHERE {scope.where}")
    con.execute(f"INSERT INTO main.{name} BY NAME SELECT * FROM build_scope.{name} WHERE {scope.where}")
    for table in (name, *scope.inputs):
        con.execute(f"DROP TABLE build_scope.{table}")


def run_in_scope(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    """Run a model with the build_scope schema first: it reads the views and tables there under its
    inputs' names (the warehouse's tables for the rest), and creates its table there."""
    con.execute("SET schema = 'build_scope'")
    con.execute("SET search_path = 'build_scope,main'")
    try:
        run_model(con, "metrics", name, params)
    finally:
        con.execute("RESET search_path")
        con.execute("RESET schema")


def open_period_scope(con: duckdb.DuckDBPyConnection, *, fingerprints_only: bool = False) -> None:
    """Fingerprint the period metrics' facts per day; unless `fingerprints_only`, work out the periods
    whose facts changed since the last build and the days they span, and view the facts of those days
    under their own names in the build_scope schema, where run_model_by_period runs the models."""
    run_sql(con, "metrics", "build_scope_prints")
    if fingerprints_only:
        return
    run_sql(con, "metrics", "build_scope_periods", {"grains": list(GRAINS)})
    run_sql(con, "metrics", "build_scope_days")
    for name in PERIOD_INPUTS:
        run_sql(con, "metrics", f"scope_{name}")


def run_model_by_period(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    """Run a PERIOD_MODEL in the build_scope schema — it reads the facts of the changed periods' days (and
    the rows of the period models before it, computed there), and creates its table there — then
    replace its rows of the changed periods in the warehouse with the rows computed for them."""
    run_in_scope(con, name, params)
    # Table names cannot be bound as parameters; `name` is one of PERIOD_MODELS, never input.
    changed = "(grain, period_start) IN (SELECT grain, period_start FROM build_scope.periods)"
    con.execute(f"DELETE FROM main.{name} WHERE {changed}")
    con.execute(f"INSERT INTO main.{name} BY NAME SELECT * FROM build_scope.{name} WHERE {changed}")


def close_period_scope(con: duckdb.DuckDBPyConnection, scoped_models: list[str]) -> None:
    """Record the facts' day fingerprints for the next build, and drop what open_period_scope made: the
    fingerprints, and when models ran there (`scoped_models`) their tables, the periods, the days and
    the fact views. One object at a time: a DROP SCHEMA … CASCADE of a table named like a warehouse
    table written in the same transaction makes DuckDB 2.0 refuse the commit."""
    run_sql(con, "metrics", "build_day_prints_create")
    run_sql(con, "metrics", "build_day_prints_clear")
    run_sql(con, "metrics", "build_day_prints_record")
    # names from PERIOD_INPUTS and PERIOD_MODELS, never input
    for name in PERIOD_INPUTS if scoped_models else ():
        con.execute(f"DROP VIEW build_scope.{name}")
    for name in [*scoped_models, *(("periods", "days") if scoped_models else ()), "prints"]:
        con.execute(f"DROP TABLE build_scope.{name}")


def plan_models(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> list[str] | None:
    """The models a build must run now, in MODELS order: None when the tables are current (no run
    since the last build), all of them when they were built under other settings or code (or never),
    else the models whose inputs changed since the last build and every model reading those —
    possibly none (a run that added nothing the models read)."""
    rows = run_sql(con, "metrics", "build_info_current", {"macros": MACROS}).fetchall()
    if not rows or not rows[0][2] or json.loads(rows[0][0]) != json.loads(settings.fingerprint()):
        return list(MODELS)
    if rows[0][1]:
        return None
    run_sql(con, "metrics", "build_inputs_create")
    changed = {r[0] for r in run_sql(con, "metrics", "build_changed_inputs",
                                     {"known_origins": list(ADDING_ORIGINS)}).fetchall()}
    if "everything" in changed:
        return list(MODELS)
    if any(c.startswith("stg:") for c in changed):
        changed.add("stg:*")
    planned: list[str] = []
    for name in MODELS:
        if changed.intersection(MODEL_INPUTS[name]):
            planned.append(name)
            changed.add(name)
    return planned


def update_metrics(con: duckdb.DuckDBPyConnection, settings: MetricSettings,
                   on_model: OnModel | None = None) -> list[str]:
    """Bring the facts and metrics up to date with the data, rebuilding only what changed since the
    last build (plan_models), and record the build; returns the models rebuilt (none when the tables
    were current or the runs since added nothing they read). Run inside the caller's transaction,
    like build_metrics."""
    planned = plan_models(con, settings)
    if planned is None:
        return []
    if planned == MODELS:
        build_metrics(con, settings, on_model)
    else:
        build_models(con, settings, planned, on_model, by_period=has_day_prints(con),
                     by_row=changes_added_only(con))
    return planned


def has_day_prints(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the last build recorded its facts' day fingerprints (a build by older code did not): a
    period-scoped build needs them, else its period models are rebuilt whole."""
    return bool(run_sql(con, "metrics", "build_day_prints_exist").fetchone()[0])


def changes_added_only(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the change reports the last build read are all still staged as it read them (no
    re-staging since): a row-scoped build needs it, else the ROW_SCOPES models are rebuilt whole."""
    return bool(run_sql(con, "metrics", "build_changes_added_only").fetchone()[0])


def is_current(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> bool:
    """True if the last build used these settings, saw every ingest run since and left the macros."""
    rows = run_sql(con, "metrics", "build_info_current", {"macros": MACROS}).fetchall()
    return (bool(rows) and rows[0][1] and rows[0][2]
            and json.loads(rows[0][0]) == json.loads(settings.fingerprint()))


def ensure_built(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> bool:
    """Rebuild if stale (new data or other settings); returns True if it rebuilt."""
    if is_current(con, settings):
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        update_metrics(con, settings)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return True
