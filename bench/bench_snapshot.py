"""Benchmark the read snapshot: the ways to publish one for readers, and what each read command costs.

A built warehouse (default bench/out/bench.duckdb, which bench/bench_eventlog.py leaves) is published
three ways, each in its own process, timed, with its file size and peak RSS (wait4):

- copy:          ingest.warehouse.publish_snapshot, what `dora` does (CHECKPOINT, then a copy of the
                 file — a clone where the file system shares blocks —, then the link moved; a later
                 publish updates the older of the two files in place, which bench_nightly.py times);
- lean:          only what readers query, written table by table into a fresh file:
                 `ATTACH tmp AS snap; COPY FROM DATABASE w TO snap (SCHEMA)` (the tables, sequences and
                 macros, empty) then `INSERT INTO snap.t SELECT * FROM t` for every table, raw_events
                 without its payloads;
- copy_database: DuckDB's own `COPY FROM DATABASE w TO snap`, every table whole.

Then every read command runs on the published snapshot, each in its own process, with its peak RSS:
metrics, export (week, by service), levels, quality, rejects, explain (a month's lead times and change
fail rate, organisation), compare (the last two quarters of the data). Prints a table and writes
<out>/snapshot_results.json.

    .venv/bin/python bench/bench_snapshot.py --db bench/out/bench.duckdb
    .venv/bin/python bench/bench_snapshot.py --db /tmp/w.duckdb --out /tmp   # a warehouse of your own
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_eventlog import LoadSampler, machine_facts, run_phase  # noqa: E402

PYTHON = sys.executable

# Each way of publishing is a small program run by a fresh interpreter; it prints one JSON line.
PUBLISH = """
import json, os, sys, time
sys.path.insert(0, sys.argv[3])
from core.db import connect
from ingest.warehouse import publish_snapshot
mode, db = sys.argv[1], sys.argv[2]
con = connect(db)
start = time.perf_counter()
if mode == "copy":
    target = str(publish_snapshot(con, db))
else:
    target = db + "." + mode + ".duckdb"
    for p in (target, target + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    con.execute("CHECKPOINT")
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute("ATTACH ? AS snap", [target])
    if mode == "copy_database":
        con.execute(f"COPY FROM DATABASE {source} TO snap")
    else:
        con.execute(f"COPY FROM DATABASE {source} TO snap (SCHEMA)")
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [source]).fetchall()]
        trimmed = {"raw_events": "* REPLACE ('' AS payload)"}
        con.execute("BEGIN")
        for t in tables:
            con.execute(f"INSERT INTO snap.{t} SELECT {trimmed.get(t, '*')} FROM {t}")
        con.execute("COMMIT")
    con.execute("DETACH snap")
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "bytes": os.path.getsize(target), "path": target}))
"""

READ = """
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from dora import cli
# the command's output goes nowhere, at the descriptor: some of it is written to the binary stream
# and flushed at exit; the figures go to the saved one
figures = os.dup(1)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
start = time.perf_counter()
try:
    cli.main(sys.argv[2:], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code or 0
seconds = time.perf_counter() - start
sys.stdout.flush()
os.write(figures, (json.dumps({"seconds": seconds, "exit_code": code}) + "\\n").encode())
"""


def last_full_quarters(db: Path) -> tuple[date, date, date, date]:
    """The last two whole quarters of the snapshot's deployments, for `dora compare`."""
    import duckdb  # noqa: PLC0415 (the bench's own process reads one date)

    from ingest.warehouse import snapshot_path  # noqa: PLC0415

    with duckdb.connect(str(snapshot_path(db)), read_only=True) as con:
        last = con.execute("SELECT max(finished_at)::DATE FROM fct_deployments").fetchall()[0][0]
    q_start = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)  # the quarter in progress: left out
    after_start = date(q_start.year - (q_start.month == 1), (q_start.month - 4) % 12 + 1, 1)
    before_start = date(after_start.year - (after_start.month == 1), (after_start.month - 4) % 12 + 1, 1)
    day = date.fromordinal
    return before_start, day(after_start.toordinal() - 1), after_start, day(q_start.toordinal() - 1)


def read_commands(db: Path) -> dict[str, list[str]]:
    """Every read command the benchmark runs, by name."""
    b0, b1, a0, a1 = last_full_quarters(db)
    month = a0.isoformat()
    common = ["--db", str(db), "-q"]
    return {
        "metrics": ["metrics", *common],
        "export week by service": ["export", "--grain", "week", "--by", "service", *common],
        "levels": ["levels", "--grain", "quarter", *common],
        "quality": ["quality", *common],
        "rejects": ["rejects", *common],
        "explain lead time (a month)": ["explain", "lead_time_median_hours", "--grain", "month", "--period", month,
                                        *common],
        "explain change fail rate (a month)": ["explain", "change_failure_rate", "--grain", "month",
                                               "--period", month, *common],
        "compare two quarters": ["compare", "--before", f"{b0}..{b1}", "--after", f"{a0}..{a1}", *common],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "bench.duckdb",
                        help="a built warehouse (default bench/out/bench.duckdb)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where results.json goes")
    parser.add_argument("--skip", default="", help="comma-separated publish modes to skip (e.g. copy_database)")
    args = parser.parse_args(argv)
    if not args.db.exists():
        raise SystemExit(f"no warehouse at {args.db}: run bench/bench_eventlog.py first, or give --db")
    env = {k: v for k, v in os.environ.items() if k != "DORA_MEMORY_LIMIT"}  # dora's default cap
    results: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_facts(),
                     "warehouse": str(args.db), "warehouse_bytes": args.db.stat().st_size, "publish": {},
                     "read": {}}
    with LoadSampler() as load:
        for mode in ("copy", "lean", "copy_database"):
            if mode in args.skip.split(","):
                continue
            figures, _, rss = run_phase(PUBLISH, mode, str(args.db), str(ROOT), env=env)
            results["publish"][mode] = {"seconds": figures["seconds"], "bytes": figures["bytes"],
                                        "peak_rss_mb": rss}
            if mode != "copy":
                Path(figures["path"]).unlink()
        for name, command in read_commands(args.db).items():
            figures, wall, rss = run_phase(READ, str(ROOT), *command, env=env)
            results["read"][name] = {"seconds": figures["seconds"], "process_wall_seconds": wall,
                                     "exit_code": figures["exit_code"], "peak_rss_mb": rss}
    results["load_average"] = {"min": min(load.samples), "max": max(load.samples),
                               "mean": sum(load.samples) / len(load.samples)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "snapshot_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return 0


def print_table(r: dict) -> None:
    """The figures, publish ways first."""
    print(f"warehouse {r['warehouse_bytes'] / 1e9:.2f} GB; load average {r['load_average']['min']:.1f}-"
          f"{r['load_average']['max']:.1f}")
    for mode, f in r["publish"].items():
        print(f"publish {mode:<15} {f['seconds']:7.1f} s  {f['bytes'] / 1e9:6.2f} GB  {f['peak_rss_mb']:6.0f} MB RSS")
    for name, f in r["read"].items():
        print(f"read {name:<36} {f['seconds']:6.2f} s  {f['peak_rss_mb']:6.0f} MB RSS  exit {f['exit_code']}")


if __name__ == "__main__":
    sys.exit(main())
