"""Build the facts and metric tables from stg_events, in SQL, in dependency order.

The models live in metrics/sql, one per file. A build is a full rebuild (CREATE OR REPLACE), so it is
idempotent; callers run it inside the ingest's transaction so readers never see half a build.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import duckdb

from core.sql import run_sql
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
        """What a build records of its settings: equal fingerprints build equal tables."""
        return json.dumps({"definitions_version": DEFINITIONS_VERSION, **asdict(self)}, sort_keys=True)


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


def build_metrics(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> None:
    """Rebuild the macros and every fact and metric table, and record what they were built from."""
    create_macros(con)
    params = settings.as_params()
    for name in MODELS:
        run_model(con, "metrics", name, params)
    run_sql(con, "metrics", "build_info_clear")
    run_sql(con, "metrics", "build_info_record", {"settings": settings.fingerprint()})


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
        build_metrics(con, settings)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return True
