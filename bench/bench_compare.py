"""Benchmark before/after, DORA levels and the survey on the 1M-deployment warehouse.

Copies bench/out/bench.duckdb (written by bench/make_dataset.py) to a temporary file, so the shared
warehouse is never changed, adds survey responses (200 teams x 24 monthly pulses x 8 respondents)
and two annotations, then times in one run:

- metric_survey and metric_levels alone (and the whole build with --full-build, or when the copy has
  no metric tables yet);
- `dora compare`'s work (compare_windows): the first year against the second, for the organisation
  (every lead time, failure and incident of two years) and for one service;
- the export tables `before-after` and `levels` (month grain, by service).

    .venv/bin/python bench/bench_compare.py                 # bench/out/bench.duckdb
    .venv/bin/python bench/bench_compare.py --db other.duckdb

Not a test: figures go into docs/performance.md by hand.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.warehouse import open_warehouse  # noqa: E402
from metrics import compare  # noqa: E402
from metrics.build import MODELS, MetricSettings, build_metrics, run_model  # noqa: E402
from metrics.export import Filters, query_table  # noqa: E402


def timed(label: str, results: list, func, *args, **kwargs):
    """Run func once, record (label, seconds, what it returned in brief)."""
    start = time.perf_counter()
    out = func(*args, **kwargs)
    seconds = time.perf_counter() - start
    size = f"{len(out):,} rows" if hasattr(out, "__len__") else ""
    results.append((label, seconds, size))
    print(f"{label:<62} {seconds:7.2f} s  {size}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=str(ROOT / "bench" / "out" / "bench.duckdb"))
    parser.add_argument("--full-build", action="store_true",
                        help="also time the whole build (always done if the copy has no metric tables)")
    args = parser.parse_args(argv)
    source = Path(args.db)
    if not source.exists():
        print(f"{source} not found: run bench/make_dataset.py first", file=sys.stderr)
        return 1
    settings = MetricSettings()
    results: list = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench-compare.duckdb"
        shutil.copyfile(source, db)
        con = open_warehouse(db)
        # Survey responses in bulk (seeded): 200 teams named like the services, monthly, 8 people each.
        con.execute("SELECT setseed(0.42)")
        con.execute(
            """
            INSERT INTO survey_responses  -- unless the warehouse has answers already
            WITH existing AS (SELECT count(*) AS n FROM survey_responses)
            SELECT (DATE '2024-01-15' + to_months(m))::DATE, s.service, 'r' || r,
                   least(5, greatest(1, round(3 + m / 12 + (random() - 0.5) * 3))), 1, 5, 0, 'bench', NULL
            FROM (SELECT DISTINCT service FROM stg_events WHERE kind = 'deployment') s, range(24) t(m), range(8) p(r)
            WHERE (SELECT n FROM existing) = 0
            """
        )
        responses = con.execute("SELECT count(*) FROM survey_responses").fetchall()[0][0]
        con.execute("INSERT INTO annotations (name, starts_on, service, description, created_at) VALUES "
                    "('Year two', DATE '2025-01-01', NULL, 'bench', now()), "
                    "('Midway', DATE '2024-12-01', NULL, 'bench', now())")
        print(f"warehouse copy {db} ({db.stat().st_size / 1e9:.1f} GB), {responses:,} survey responses", flush=True)

        built = con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = 'metric_periods'").fetchall()[0][0]
        if args.full_build or not built:
            timed("build_metrics: every model (one transaction)", results, build_all, con, settings)
        for model in ("metric_survey", "metric_levels"):
            for attempt in (1, 2, 3):  # three runs: the machine is shared, the best is the model's cost
                timed(f"  {model} alone, run {attempt}", results, run_model, con, "metrics", model,
                      settings.as_params())
        periods = con.execute("SELECT count(*) FROM metric_periods").fetchall()[0][0]
        levels = con.execute("SELECT count(*) FROM metric_levels").fetchall()[0][0]
        print(f"  (metric_periods {periods:,} rows -> metric_levels {levels:,} rows)", flush=True)

        services = [r[0] for r in con.execute(
            "SELECT service FROM fct_deployments GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchall()]
        year1, year2 = compare.parse_window("2024-01-01..2024-12-31"), compare.parse_window("2025-01-01..2025-12-31")
        timed("compare_windows, organisation, 2024 vs 2025 (cold: imports)", results,
              compare.compare_windows, con, year1, year2, settings)
        frame = timed("compare_windows, organisation, 2024 vs 2025", results,
                      compare.compare_windows, con, year1, year2, settings)
        print(frame[["metric", "before_n", "after_n", "before_value", "after_value", "verdict"]].to_string(index=False))
        timed(f"compare_windows, service {services[0]}, 2024 vs 2025", results,
              compare.compare_windows, con, year1, year2, settings, services[0])
        timed("query_window_samples (distributions), organisation", results,
              compare.query_window_samples, con, year1, year2, settings)
        timed("export --table before-after (organisation)", results,
              query_table, con, "before-after", Filters(), settings)
        timed("export --table levels --grain month --by service", results,
              query_table, con, "levels", Filters(grain="month", by_service=True), settings)
        con.close()
    return 0


def build_all(con, settings: MetricSettings) -> list[str]:
    con.execute("BEGIN TRANSACTION")
    build_metrics(con, settings)
    con.execute("COMMIT")
    return MODELS


if __name__ == "__main__":
    raise SystemExit(main())
