"""Benchmark each metric model's memory: wall time, CPU time and peak RSS of one model, alone, under a cap.

Each model runs in its own process (a fresh interpreter, so its peak RSS — the kernel's high-water
mark, from wait4 — is its own) on a built warehouse, inside a transaction that is rolled back, so
the warehouse is unchanged and the runs can be repeated. CPU seconds (user + system, every thread
of the process, around the model alone) are the figure to compare on a shared machine, where the wall
time follows the other work's load. The connection is the writer's
(`core.db.connect`): its default cap (`core.db.WRITER_MEMORY_LIMIT`), or `--cap`. A model that runs
out of memory is reported as failed with DuckDB's message, not raised. Prints a table and writes
<out>/memory_results.json.

Never point it at a warehouse someone else needs: DuckDB spills beside it (<db>.tmp/) and holds its
lock while a model runs. Copy it first.

    .venv/bin/python bench/bench_memory.py --db /tmp/mem12/w.duckdb
    .venv/bin/python bench/bench_memory.py --db /tmp/mem12/w.duckdb --cap 1GB metric_periods metric_batch_size
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_eventlog import LoadSampler, machine_facts, run_phase  # noqa: E402

# The three models whose quantiles used to be held in memory (issue 12), by default.
QUANTILE_MODELS = ["metric_periods", "metric_lead_time_breakdown", "metric_batch_size"]

# One model in one process; prints one JSON line (seconds, CPU seconds, rows, or the error).
RUN_MODEL = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import duckdb
from core.db import connect
from metrics.build import MetricSettings, create_macros, run_model
db, name, cap = sys.argv[2], sys.argv[3], sys.argv[4] or None
con = connect(db, memory_limit=cap)
limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
con.execute("BEGIN")
create_macros(con)  # as a build does: the macros of this code, whatever the warehouse was built with
start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
try:
    run_model(con, "metrics", name, MetricSettings().as_params())
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    error = None
except duckdb.Error as exc:
    rows, error = None, str(exc).splitlines()[0]
seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
con.execute("ROLLBACK")
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rows": rows, "error": error, "memory_limit": limit}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=QUANTILE_MODELS,
                        help="models to run, each alone (default: the three quantile models)")
    parser.add_argument("--db", type=Path, required=True, help="a built warehouse of your own (a copy)")
    parser.add_argument("--cap", default="", help="memory cap, e.g. 1GB (default: the writer's default)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per model (the fastest is kept)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where memory_results.json goes")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "DORA_MEMORY_LIMIT"}  # dora's default cap
    results: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_facts(),
                     "warehouse": str(args.db), "cap": args.cap or "default", "models": {}}
    with LoadSampler() as load:
        for name in args.models:
            runs = []
            for _ in range(args.repeat):
                figures, wall, rss = run_phase(RUN_MODEL, str(ROOT), str(args.db), name, args.cap, env=env)
                runs.append({**figures, "process_wall_seconds": wall, "peak_rss_mb": rss,
                             "load_average": os.getloadavg()[0]})
                print(f"{name:28} {figures['memory_limit']:>10} {figures['seconds']:7.1f} s "
                      f"{figures['cpu_seconds']:7.1f} CPU s {rss:7.0f} MB "
                      f"load {runs[-1]['load_average']:.1f}  {figures['error'] or figures['rows']}", flush=True)
            results["models"][name] = min(runs, key=lambda r: r["seconds"]) | {"runs": runs}
    results["load_average"] = {"min": min(load.samples), "max": max(load.samples),
                               "mean": sum(load.samples) / len(load.samples)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory_results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
