"""The floor under a full build and a backfill: what writing their rows costs, with no logic at all.

Issue 12 asks, on the 1M warehouse, for a full metric build within 10 s and a whole backfill (`dora
ingest events`) within 2x the bare `read_json` load of the same log. This script measures, in one run,
on the same machine, what no change to our queries can take off those times:

- floor:  the bare `read_json` load of the log, exactly as bench_eventlog's floor;
- writes: on a copy of a built warehouse, in one transaction rolled back, `CREATE TABLE .. AS SELECT *`
          of each table the load stores (`raw_events`: every line as received; `stg_events`: its
          typed columns) and of each model's table, in the build's order: the bare cost of writing
          exactly the rows a backfill writes, read from tables already typed and checked (less work
          than the load's parsing and the models' joins, sorts and quantiles).

Each phase runs in its own process through the warehouse's own connection settings (memory cap,
spill directory). `--uncompressed` writes the copies with DuckDB's compression off too, the cheapest
way DuckDB writes a row (the file is then about twice the size).

    .venv/bin/python bench/bench_write_floor.py --db bench/out/bench.duckdb --log bench/out/events.jsonl

Prints a table and one JSON line (the figures).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_eventlog import FLOOR, OUT, TARGETS, LoadSampler, machine_facts, run_phase  # noqa: E402

LOAD_TABLES = ("raw_events", "stg_events")

WRITES = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from core.db import connect
from metrics.build import MODELS
con = connect(sys.argv[1])
if sys.argv[3] == "uncompressed":
    con.execute("SET force_compression = 'uncompressed'")
seconds = {}
con.execute("BEGIN")
for table in sys.argv[4].split(",") + MODELS:
    start = time.perf_counter()
    con.execute(f"CREATE TABLE floor_copy_{table} AS SELECT * FROM {table}")  # our own table names
    seconds[table] = time.perf_counter() - start
con.execute("ROLLBACK")
print(json.dumps(seconds))
"""


def measure_writes(db: Path, compression: str) -> tuple[dict, float]:
    """Each table's copy seconds on a scratch copy of `db`, and the phase's peak RSS in MB."""
    scratch = Path(tempfile.mkdtemp(prefix="dora-write-floor-", dir=db.parent))
    try:
        copy = scratch / "copy.duckdb"
        shutil.copyfile(db, copy)
        seconds, _, rss = run_phase(WRITES, str(copy), str(ROOT), compression, ",".join(LOAD_TABLES))
        return seconds, rss
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=OUT / "bench.duckdb", help="a built warehouse (not changed)")
    parser.add_argument("--log", type=Path, default=OUT / "events.jsonl", help="the log it was built from")
    parser.add_argument("--uncompressed", action="store_true", help="also write the copies uncompressed")
    args = parser.parse_args(argv)
    results: dict = {"machine": machine_facts(), "db": str(args.db), "log": str(args.log)}
    with LoadSampler() as load:
        with tempfile.TemporaryDirectory(dir=args.db.parent) as tmp:
            floor, _, _ = run_phase(FLOOR, str(args.log), str(Path(tmp) / "floor.duckdb"))
        results["read_json_seconds"] = floor["seconds"]
        for compression in ("compressed", "uncompressed") if args.uncompressed else ("compressed",):
            seconds, rss = measure_writes(args.db, compression)
            load_s = sum(seconds[t] for t in LOAD_TABLES)
            build_s = sum(s for t, s in seconds.items() if t not in LOAD_TABLES)
            results[compression] = {"tables": seconds, "load_seconds": load_s, "build_seconds": build_s,
                                    "peak_rss_mb": rss}
    results["load_average"] = {"min": min(load.samples), "max": max(load.samples)}
    print_table(results)
    print(json.dumps(results))
    return 0


def print_table(r: dict) -> None:
    """The floors against issue 12's targets."""
    floor = r["read_json_seconds"]
    print(f"read_json floor {floor:.1f} s; backfill target <= {TARGETS['ingest_vs_floor']:.0f}x = "
          f"{TARGETS['ingest_vs_floor'] * floor:.1f} s; full build target <= {TARGETS['build_seconds']:.0f} s",
          file=sys.stderr)
    for compression in ("compressed", "uncompressed"):
        if compression in r:
            w = r[compression]
            slow = sorted(w["tables"].items(), key=lambda kv: -kv[1])[:5]
            print(f"{compression}: writing the load's rows {w['load_seconds']:.1f} s, the build's rows "
                  f"{w['build_seconds']:.1f} s, both {w['load_seconds'] + w['build_seconds']:.1f} s "
                  f"({(w['load_seconds'] + w['build_seconds']) / floor:.1f}x the floor), peak RSS "
                  f"{w['peak_rss_mb']:.0f} MB; largest: " + ", ".join(f"{t} {s:.1f} s" for t, s in slow),
                  file=sys.stderr)
    print(f"load average {r['load_average']['min']:.2f}-{r['load_average']['max']:.2f}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
