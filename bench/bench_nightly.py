"""Benchmark the nightly job on a big warehouse: a day of new events, and a night with nothing new.

Writes the bench log (bench/make_dataset.py at --scale, into --out), holds its last 2 × --day-events
lines back as two days, then runs the real `dora nightly` four times over one [eventlog] glob, each in
its own process with its peak RSS (its VmHWM), its CPU seconds and timers around its phases (the
event-log load, the metric build, publishing the read snapshot):
  1. backfill: every line but two days' (the base warehouse; a full build);
  2. the day: the first held-back day as a new file (what the build rebuilds: the models it reached);
     its publish fills the snapshot's second file, so it copies the whole warehouse;
  3. the next day: the second held-back day, as every night after: the publish brings the older
     snapshot file up to date in place ("in_place" says whether it could);
  4. no change: nothing new anywhere.
Prints one JSON object per run and writes them to OUT/nightly-results.json (docs/performance.md).
--keep-base keeps a copy of the warehouse after the backfill (OUT/base/); --from-base starts from that
copy instead of running the backfill, to time the day again (after a change to the build, say).

    .venv/bin/python bench/bench_nightly.py --scale 0.1
    .venv/bin/python bench/bench_nightly.py --scale 1 --log bench/out/events.jsonl   # a log written before
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One nightly run with timers around its phases (the real code path, patched in this process only).
RUN = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from dora import cli, nightly
times, models = {}, []
def timed(name, func):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            result = func(*args, **kwargs)
        finally:
            times[name] = times.get(name, 0.0) + time.perf_counter() - start
        if name == "build":
            models.extend(result)
        return result
    return wrapper
nightly.ingest_eventlog_source = timed("load", nightly.ingest_eventlog_source)
nightly.update_metrics = timed("build", nightly.update_metrics)
nightly.publish_snapshot = timed("publish", nightly.publish_snapshot)
nightly.keep_snapshot = timed("keep_snapshot", nightly.keep_snapshot)  # a run that changed nothing
from ingest import warehouse
in_place = []
refresh = warehouse.refresh_in_place
warehouse.refresh_in_place = lambda *args: in_place.append(refresh(*args)) or in_place[-1]
# each model's time in the build (whole, or scoped to the changed periods), and the scope's own work
from metrics import build
per_model, inside = {}, []
def timed_model(func, scoped):
    def wrapper(con, *args):
        name = args[0] if scoped else args[1]
        if inside:  # the whole model a scoped run runs: counted in the scoped run's time
            return func(con, *args)
        inside.append(name)
        start = time.perf_counter()
        try:
            return func(con, *args)
        finally:
            inside.pop()
            per_model[name + (" (scoped)" if scoped else "")] = time.perf_counter() - start
    return wrapper
build.run_model = timed_model(build.run_model, False)
build.run_model_by_period = timed_model(build.run_model_by_period, True)
build.run_model_by_row = timed_model(build.run_model_by_row, True)
for step in ("open_period_scope", "close_period_scope", "open_row_scope"):
    setattr(build, step, timed(step, getattr(build, step)))
# the row scopes' notes before and after a fact is rebuilt, and their lists of rows to recompute
row_sql = ({n for pair in build.ROW_NOTES.values() for n in pair}
           | {f"build_scope_{r}" for s in build.ROW_SCOPES.values() for r in s.rows}
           | {s.guard for s in build.ROW_SCOPES.values() if s.guard})
run_sql = build.run_sql
build.run_sql = lambda con, package, name, *rest: (timed("row notes and sets", run_sql) if name in row_sql else run_sql)(con, package, name, *rest)
start = time.perf_counter()
try:
    cli.main(["nightly", "--config", sys.argv[2], "-q"], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code
times["total"] = time.perf_counter() - start
# this process's own high-water mark: wait4's maxrss would also count the parent's pages at the fork
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
usage = resource.getrusage(resource.RUSAGE_SELF)  # CPU seconds: steadier than wall time on a shared machine
print(json.dumps({"times": times, "models_rebuilt": models, "model_seconds": per_model, "exit_code": code,
                  "in_place": any(in_place), "cpu_s": usage.ru_utime + usage.ru_stime, "vm_hwm_kb": hwm}))
"""


def run_nightly(config: Path) -> dict:
    """One `dora nightly` in its own process: phases, models rebuilt, wall time, peak RSS (its VmHWM)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(ROOT), str(config)], stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate()
    result = json.loads(out.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - start
    result["peak_rss_gb"] = result.pop("vm_hwm_kb") / 1024 / 1024
    result["load_average"] = os.getloadavg()
    return result


def copy_warehouse(src: Path, dst: Path) -> None:
    """Copy the bench's warehouse and its snapshot (the link as a link) from folder `src` to `dst`."""
    for path in [*src.glob("nightly.duckdb"), *src.glob("nightly.snapshot*")]:
        (dst / path.name).unlink(missing_ok=True)
        shutil.copy2(path, dst / path.name, follow_symlinks=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=0.1)
    p.add_argument("--day-events", type=int, default=6000)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "nightly")
    p.add_argument("--log", type=Path, help="an existing bench log (make_dataset.py at --scale) instead of "
                                            "writing it again")
    p.add_argument("--keep-base", action="store_true", help="keep a copy of the warehouse after the backfill")
    p.add_argument("--from-base", action="store_true", help="start from the copy --keep-base kept")
    args = p.parse_args(argv)
    out = args.out / f"scale-{args.scale}"
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if args.log is None:
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_dataset.py"), "--scale", str(args.scale),
                        "--out", str(out), "--no-warehouse"], check=True)
    lines = (args.log or out / "events.jsonl").read_bytes().splitlines(keepends=True)
    # the base warehouse kept read 1-base.jsonl as it is: written again, it would be a new file to the job
    keep = {logs / "1-base.jsonl"} if args.from_base else set()
    for stale in [*logs.glob("*.jsonl"), *out.glob("nightly.duckdb*"), *out.glob("nightly.snapshot*")]:
        if stale not in keep:
            stale.unlink()
    if not keep:
        (logs / "1-base.jsonl").write_bytes(b"".join(lines[:-2 * args.day_events]))
    days = [out / "day.pending", out / "next-day.pending"]  # outside the glob until their runs
    days[0].write_bytes(b"".join(lines[-2 * args.day_events:-args.day_events]))
    days[1].write_bytes(b"".join(lines[-args.day_events:]))
    base_lines = len(lines) - 2 * args.day_events
    del lines
    config = out / "dora.toml"
    config.write_text(f'[warehouse]\npath = "{out / "nightly.duckdb"}"\n\n[eventlog]\npaths = ["{logs}/*.jsonl"]\n',
                      encoding="utf-8")
    results = {"scale": args.scale, "base_lines": base_lines, "day_lines": args.day_events}
    base = out / "base"
    if args.from_base:
        copy_warehouse(base, out)
    else:
        results["backfill"] = run_nightly(config)
    if args.keep_base:
        base.mkdir(exist_ok=True)
        copy_warehouse(out, base)
    os.replace(days[0], logs / "2-day.jsonl")
    results["day"] = run_nightly(config)
    os.replace(days[1], logs / "3-next-day.jsonl")
    results["next_day"] = run_nightly(config)
    results["no_change"] = run_nightly(config)
    results["warehouse_gb"] = (out / "nightly.duckdb").stat().st_size / 1e9
    print(json.dumps(results, indent=1))
    (out / "nightly-results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
