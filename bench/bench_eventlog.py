"""Benchmark the event-log path on the 1M-deployment log: bare DuckDB load, `dora ingest events`
(load, metric build, snapshot), `dora export` for every grain, and each phase's peak memory.

Every phase runs in its own process, so its peak RSS (the kernel's high-water mark, from wait4) is
its own. The phases, in one run:

- floor:  the bare DuckDB load of the same file into a fresh database file, exactly
          CREATE TABLE t AS SELECT * FROM read_json(<file>, format='newline_delimited', ignore_errors=true)
          (ignore_errors: without it read_json stops at the log's first malformed line);
- ingest: `dora ingest events <file> --db <fresh file>` through the real CLI, with timers wrapped
          around the event-log load, the metric build (each model) and the snapshot;
- export: `dora export --grain G [--by service]` for every grain, organisation and per service.

The dataset is bench/out/events.jsonl from bench/make_dataset.py (generated first if missing or of
another scale). The ingested warehouse is kept as bench/out/bench.duckdb for the other benches.
Prints a table and writes bench/out/results.json.

    .venv/bin/python bench/bench_eventlog.py                  # `make bench`
    .venv/bin/python bench/bench_eventlog.py --scale 0.01     # a quick check
    DORA_MEMORY_LIMIT=1.5GB .venv/bin/python bench/bench_eventlog.py
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db import WRITER_MEMORY_LIMIT  # noqa: E402
from ingest.warehouse import link_snapshot, snapshot_files, snapshot_path  # noqa: E402

OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
GRAINS = ("day", "week", "month", "quarter")
TARGETS = {"ingest_vs_floor": 2.0, "build_seconds": 10.0, "peak_rss_mb": 1536, "read_rss_mb": 1024}

# Each phase is a small program run by a fresh interpreter; it prints one JSON line of figures.
FLOOR = """
import json, sys, time, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")  # as every connection of ours (core.db); its bar shares stdout with the JSON
start = time.perf_counter()
con.execute("CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited', ignore_errors=true)", [sys.argv[1]])
seconds = time.perf_counter() - start
rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
print(json.dumps({"seconds": seconds, "rows": rows, "duckdb": duckdb.__version__}))
"""

INGEST = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from dora import cli, jobs
from ingest import eventlog
from metrics import build
times = {"models": {}}

def timed(name, func):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            times[name] = times.get(name, 0.0) + time.perf_counter() - start
    return wrapper

def run_model(con, package, name, params, _run=build.run_model):
    start = time.perf_counter()
    _run(con, package, name, params)
    times["models"][name] = time.perf_counter() - start

# the real code path, with timers around its three parts
eventlog.ingest_event_logs = timed("load", eventlog.ingest_event_logs)
jobs.build_metrics = timed("build", jobs.build_metrics)
jobs.publish_snapshot = timed("snapshot", jobs.publish_snapshot)
build.run_model = run_model
start = time.perf_counter()
try:
    cli.main(["ingest", "events", sys.argv[1], "--db", sys.argv[2], "-q"], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code
times["total"] = time.perf_counter() - start
times["exit_code"] = code
print(json.dumps(times))
"""

EXPORT = """
import io, json, sys, time, contextlib
sys.path.insert(0, sys.argv[2])
from dora import cli
grains, out, times = sys.argv[3].split(","), sys.argv[4], {}
for grain in grains:
    for by in (None, "service"):
        name = grain + ("-by-service" if by else "")
        args = ["export", "--grain", grain, "--db", sys.argv[1], "-q", "-o", f"{out}/export-{name}.csv"]
        start = time.perf_counter()
        cli.main(args + (["--by", by] if by else []), standalone_mode=False)
        times[name] = time.perf_counter() - start
print(json.dumps(times))
"""


def run_phase(code: str, *args: str, env: dict | None = None) -> tuple[dict, float, float]:
    """Run one phase in a fresh interpreter: (its JSON figures, wall seconds, peak RSS in MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-c", code, *args], stdout=subprocess.PIPE, env=env, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"phase failed (exit {proc.returncode}); output:\n{out}")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024


class LoadSampler:
    """The 1-minute load average every few seconds while the benchmark runs (others share the cores)."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(every)

    def __enter__(self) -> "LoadSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def machine_facts() -> dict:
    """What the figures were measured on."""
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    import duckdb  # noqa: PLC0415 (only for its version)

    return {"nproc": os.cpu_count(), "ram_gib": round(mem_kb / 2**20, 1), "cpu": model,
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "load_average_at_start": os.getloadavg()}


def ensure_dataset(out: Path, scale: float) -> dict:
    """out/events.jsonl at `scale`, generated (log only) if missing or of another scale."""
    manifest = out / "dataset.json"
    if manifest.exists() and (out / "events.jsonl").exists():
        shape = json.loads(manifest.read_text())
        if shape.get("scale") == scale:
            return shape
    subprocess.run([PYTHON, str(ROOT / "bench" / "make_dataset.py"), "--scale", str(scale), "--no-warehouse",
                    "--out", str(out)], check=True)
    return json.loads(manifest.read_text())


def fresh(path: Path) -> Path:
    """`path` with no database, WAL, snapshot or spill directory left from an earlier run."""
    for p in (path, Path(f"{path}.wal"), snapshot_path(path), *snapshot_files(path)):
        p.unlink(missing_ok=True)
    shutil.rmtree(Path(f"{path}.tmp"), ignore_errors=True)
    return path


def move_snapshot(src: Path, dst: Path) -> None:
    """Move the read snapshot a load published for warehouse `src` to where readers of `dst` find it:
    its file under dst's first snapshot name, and dst's link to it."""
    file = snapshot_files(dst)[0]
    os.replace(snapshot_path(src).resolve(), file)
    snapshot_path(src).unlink()
    link_snapshot(snapshot_path(dst), file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (1.0 = 1M deployments)")
    parser.add_argument("--out", type=Path, default=OUT, help="dataset and results directory (default bench/out)")
    args = parser.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    shape = ensure_dataset(out, args.scale)
    log = str(out / "events.jsonl")
    results: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "machine": machine_facts(), "dataset": shape,
                     "memory_limit": os.environ.get("DORA_MEMORY_LIMIT") or f"dora's default for a writer ({WRITER_MEMORY_LIMIT})",
                     "targets": TARGETS}
    print(f"dataset: {shape['lines']:,} lines, {shape['bytes'] / 1e9:.2f} GB; "
          f"load average {results['machine']['load_average_at_start'][0]:.2f}", file=sys.stderr)

    with LoadSampler() as load:
        floor, floor_wall, floor_rss = run_phase(FLOOR, log, str(fresh(out / "floor.duckdb")))
        fresh(out / "floor.duckdb")
        db = fresh(out / "bench.building.duckdb")
        ingest, ingest_wall, ingest_rss = run_phase(INGEST, log, str(db), str(ROOT))
        # the ingested warehouse is the one the other benches read
        os.replace(db, fresh(out / "bench.duckdb"))
        move_snapshot(db, out / "bench.duckdb")  # what the export reads
        fresh(db)
        export, export_wall, export_rss = run_phase(EXPORT, str(out / "bench.duckdb"), str(ROOT), ",".join(GRAINS),
                                                    str(out))
    loads = load.samples or [os.getloadavg()[0]]
    results["load_average"] = {"min": min(loads), "mean": sum(loads) / len(loads), "max": max(loads),
                               "samples": len(loads)}
    results["floor"] = {"call": "CREATE TABLE t AS SELECT * FROM read_json(file, format='newline_delimited', "
                                "ignore_errors=true)", "seconds": floor["seconds"], "rows": floor["rows"],
                        "peak_rss_mb": floor_rss}
    other = ingest["total"] - ingest["load"] - ingest["build"] - ingest.get("snapshot", 0.0)
    results["ingest"] = {"seconds": ingest["total"], "load_seconds": ingest["load"],
                         "build_seconds": ingest["build"], "snapshot_seconds": ingest.get("snapshot", 0.0),
                         "other_seconds": other, "exit_code": ingest["exit_code"], "peak_rss_mb": ingest_rss,
                         "models": ingest["models"], "process_wall_seconds": ingest_wall}
    results["export"] = {"seconds": export, "peak_rss_mb": export_rss, "process_wall_seconds": export_wall}
    peak = max(floor_rss, ingest_rss, export_rss)
    results["verdict"] = {
        "load_vs_floor": ingest["load"] / floor["seconds"],
        "ingest_vs_floor": ingest["total"] / floor["seconds"],
        "build_under_10s": ingest["build"] < TARGETS["build_seconds"],
        "ingest_peak_rss_within_target": ingest_rss <= TARGETS["peak_rss_mb"],
        "export_peak_rss_within_target": export_rss <= TARGETS["read_rss_mb"],
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results, peak, out)
    return 0


def print_table(r: dict, peak: float, out: Path) -> None:
    """The figures against their targets."""
    f, i, e, v = r["floor"], r["ingest"], r["export"], r["verdict"]
    rows = [
        ("bare DuckDB read_json load (floor)", f"{f['seconds']:.1f} s", f"{f['peak_rss_mb']:.0f} MB", ""),
        ("dora ingest events, total", f"{i['seconds']:.1f} s", f"{i['peak_rss_mb']:.0f} MB",
         f"{v['ingest_vs_floor']:.1f}x floor (target <= 2x); RSS target <= {TARGETS['peak_rss_mb']} MB"),
        ("  load (parse, check, store)", f"{i['load_seconds']:.1f} s", "", f"{v['load_vs_floor']:.1f}x floor"),
        ("  metric build (all models)", f"{i['build_seconds']:.1f} s", "", "target < 10 s"),
        ("  snapshot + commit + other", f"{i['snapshot_seconds'] + i['other_seconds']:.1f} s", "", ""),
    ]
    rows += [(f"dora export --grain {name.replace('-by-service', ' --by service')}", f"{s:.2f} s", "", "")
             for name, s in e["seconds"].items()]
    rows.append(("exports (one process)", "", f"{e['peak_rss_mb']:.0f} MB", f"target <= {TARGETS['read_rss_mb']} MB"))
    width = max(len(row[0]) for row in rows)
    for label, seconds, rss, note in rows:
        print(f"{label:<{width}}  {seconds:>9}  {rss:>8}  {note}")
    slow = sorted(i["models"].items(), key=lambda kv: -kv[1])[:6]
    print("slowest models: " + ", ".join(f"{name} {s:.1f} s" for name, s in slow))
    load = r["load_average"]
    print(f"load average during the run: {load['min']:.2f}-{load['max']:.2f} (mean {load['mean']:.2f}); "
          f"peak RSS {peak:.0f} MB; results in {out / 'results.json'}")


if __name__ == "__main__":
    sys.exit(main())
