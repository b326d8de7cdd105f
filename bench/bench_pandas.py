"""The four keys by hand in pandas vs our pipeline, on the same event log, in one run.

The pandas side is what a user would write by hand: read the JSON lines (skipping the lines that do
not parse — `pd.read_json(lines=True)` stops at the first malformed one), keep the fields the four keys
need, then group by month and take medians. It implements the simple reading of each definition:
a deployment is a production `service.deployed`/`upgraded` event (one per `deployment_id`); lead time
joins the changes a deployment lists to their first commit; a deployment failed if a rollback or an
incident names it; MTTR is the median incident open → resolved time.

Our side is the real thing: `run_eventlog_ingest` into a fresh DuckDB file (parse, validate, dedupe,
store, then every fact and metric model), then the summary query. Both sides' monthly figures are
printed together so the differences in definitions show (docs/performance.md discusses them).

    .venv/bin/python bench/make_dataset.py --no-warehouse     # once: bench/out/events.jsonl
    .venv/bin/python bench/bench_pandas.py                    # both, on the whole log
    .venv/bin/python bench/bench_pandas.py --events other.jsonl --months 3
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dora.jobs import run_eventlog_ingest  # noqa: E402
from ingest.warehouse import open_warehouse  # noqa: E402
from metrics.build import MODELS, MetricSettings, run_model  # noqa: E402
from metrics.export import Filters, query_summary  # noqa: E402

PRODUCTION = {"production", "prod"}


def read_events(path: Path) -> dict[str, list[tuple]]:
    """One pass over the log with json.loads, keeping per kind the fields the four keys need."""
    rows: dict[str, list[tuple]] = {"deploy": [], "change": [], "rollback": [], "start": [], "end": []}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            if "context" not in event and isinstance(event.get("data"), dict):  # a CloudEvent envelope
                event = event["data"]
            ctx, subject = event.get("context"), event.get("subject") or {}
            if not isinstance(ctx, dict) or "type" not in ctx or "timestamp" not in ctx:
                continue
            kind = ".".join(ctx["type"].split(".")[2:4])
            custom = event.get("customData") or {}
            content = subject.get("content") or {}
            env = (content.get("environment") or {}).get("id", "")
            key = (ctx.get("source"), ctx.get("id"))
            if kind in ("service.deployed", "service.upgraded"):
                rows["deploy"].append((*key, subject.get("id"), env, ctx["timestamp"],
                                       custom.get("deployment_id") or ctx.get("id"), custom.get("changes")))
            elif kind == "change.merged":
                rows["change"].append((*key, subject.get("id"), custom.get("first_commit_at") or ctx["timestamp"]))
            elif kind == "service.rolledback":
                rows["rollback"].append((*key, custom.get("rolled_back_deployment")))
            elif kind in ("incident.detected", "incident.reported"):
                rows["start"].append((*key, subject.get("id"), env, ctx["timestamp"],
                                      custom.get("caused_by_deployment")))
            elif kind == "incident.resolved":
                rows["end"].append((*key, subject.get("id"), ctx["timestamp"]))
    return rows


def four_keys_pandas(path: Path) -> pd.DataFrame:
    """Monthly deployments, median lead time (h), change failure rate, median MTTR (min), by hand."""
    rows = read_events(path)
    deploys = pd.DataFrame(rows["deploy"], columns=["source", "id", "service", "env", "at", "deployment_id", "changes"])
    deploys = deploys.drop_duplicates(["source", "id"])
    deploys = deploys[deploys["env"].str.lower().isin(PRODUCTION)]
    deploys["at"] = pd.to_datetime(deploys["at"], utc=True, format="ISO8601")
    deploys = (deploys.sort_values("at").groupby(["service", "deployment_id"], as_index=False)
               .agg(at=("at", "last"), changes=("changes", "last")))
    deploys["month"] = deploys["at"].dt.strftime("%Y-%m")

    changes = pd.DataFrame(rows["change"], columns=["source", "id", "change_id", "first_commit_at"])
    changes = changes.drop_duplicates(["source", "id"]).drop_duplicates("change_id", keep="last")
    changes["first_commit_at"] = pd.to_datetime(changes["first_commit_at"], utc=True, format="ISO8601")
    shipped = deploys[["at", "month", "changes"]].explode("changes").dropna(subset=["changes"])
    shipped = shipped.sort_values("at").drop_duplicates("changes")  # a change's first deployment
    lead = shipped.merge(changes, left_on="changes", right_on="change_id")
    lead["hours"] = (lead["at"] - lead["first_commit_at"]).dt.total_seconds() / 3600

    starts = pd.DataFrame(rows["start"], columns=["source", "id", "incident", "env", "at", "cause"])
    starts = starts.drop_duplicates(["source", "id"])
    starts = starts[starts["env"].str.lower().isin(PRODUCTION)]
    ends = pd.DataFrame(rows["end"], columns=["source", "id", "incident", "at"]).drop_duplicates(["source", "id"])
    rollbacks = pd.DataFrame(rows["rollback"], columns=["source", "id", "target"]).drop_duplicates(["source", "id"])
    failed_ids = set(rollbacks["target"].dropna()) | set(starts["cause"].dropna())
    deploys["failed"] = deploys["deployment_id"].isin(failed_ids)

    incidents = starts.groupby("incident", as_index=False)["at"].min().merge(
        ends.groupby("incident", as_index=False)["at"].min(), on="incident", suffixes=("_start", "_end"))
    for col in ("at_start", "at_end"):
        incidents[col] = pd.to_datetime(incidents[col], utc=True, format="ISO8601")
    incidents["minutes"] = (incidents["at_end"] - incidents["at_start"]).dt.total_seconds() / 60
    incidents["month"] = incidents["at_start"].dt.strftime("%Y-%m")

    out = deploys.groupby("month").agg(deployments=("at", "size"), change_failure_rate=("failed", "mean"))
    out["lead_time_median_hours"] = lead.groupby("month")["hours"].median()
    out["incident_recovery_median_minutes"] = incidents.groupby("month")["minutes"].median()
    return out


def four_keys_ours(path: Path, workdir: Path, memory_limit: str) -> tuple[pd.DataFrame, float, float, dict[str, float]]:
    """Our pipeline into a fresh file; returns the monthly summary, ingest+build seconds, build seconds,
    and each model's seconds in a second, timed rebuild."""
    db = workdir / "bench.duckdb"
    con = open_warehouse(db)
    # on a shared machine DuckDB's default (80% of RAM) can meet the OOM killer: cap it, it spills
    con.execute("SET memory_limit = ?", [memory_limit])
    settings = MetricSettings()
    start = time.perf_counter()
    run_eventlog_ingest(con, db, [str(path)], settings)
    total = time.perf_counter() - start
    params, per_model = settings.as_params(), {}
    con.execute("BEGIN TRANSACTION")
    for name in MODELS:
        t = time.perf_counter()
        run_model(con, "metrics", name, params)
        per_model[name] = time.perf_counter() - t
    con.execute("COMMIT")
    summary = query_summary(con, Filters(grain="month"), settings)
    summary["month"] = pd.to_datetime(summary["period_start"]).dt.strftime("%Y-%m")
    con.close()
    return summary.set_index("month"), total, sum(per_model.values()), per_model


def run_side(side: str, events: Path, workdir: Path | None, memory_limit: str) -> dict:
    """One side in this process: its monthly figures, seconds and peak memory, as JSON-able data."""
    start = time.perf_counter()
    result: dict = {"side": side}
    if side == "pandas":
        frame = four_keys_pandas(events)
    else:
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            frame, total, build, per_model = four_keys_ours(events, Path(tmp), memory_limit)
        result.update(ingest_build_seconds=total, build_seconds=build, models=per_model)
    result["seconds"] = time.perf_counter() - start
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # Linux: KiB
    cols = ["deployments", "lead_time_median_hours", "change_failure_rate", "incident_recovery_median_minutes"]
    result["months"] = {m: [None if pd.isna(v) else float(v) for v in row]
                        for m, row in zip(frame.index, frame[cols].itertuples(index=False))}
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=Path, default=ROOT / "bench" / "out" / "events.jsonl")
    p.add_argument("--months", type=int, default=3, help="months of figures to print side by side")
    p.add_argument("--workdir", type=Path, help="where our DuckDB file goes (default: a temp dir)")
    p.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit for our side (default 6GB)")
    p.add_argument("--side", choices=["pandas", "ours"], help=argparse.SUPPRESS)  # a child process
    args = p.parse_args(argv)
    if not args.events.exists():
        sys.exit(f"{args.events} not found: run `.venv/bin/python bench/make_dataset.py --no-warehouse` first")
    if args.side:
        print(json.dumps(run_side(args.side, args.events, args.workdir, args.memory_limit)))
        return
    print(f"event log: {args.events} ({args.events.stat().st_size / 1e9:.2f} GB)", flush=True)
    # each side in its own process, one after the other: clean peak memory, no contention
    results = {}
    for side in ("pandas", "ours"):
        cmd = [sys.executable, __file__, "--side", side, "--events", str(args.events),
               "--memory-limit", args.memory_limit]
        if args.workdir:
            cmd += ["--workdir", str(args.workdir)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{side} side failed (exit {done.returncode}; -9 is the OOM killer):\n{done.stderr[-2000:]}")
        results[side] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[side]
        print(f"{side:>6}: {r['seconds']:6.1f} s, peak RSS {r['peak_rss_gb']:.1f} GB", flush=True)
    ours = results["ours"]
    print(f"ours: ingest and build {ours['ingest_build_seconds']:.1f} s; then every fact and metric model "
          f"rebuilt once more, alone: {ours['build_seconds']:.1f} s")
    for name, seconds in ours["models"].items():
        print(f"  {name:<30} {seconds:6.2f} s")
    names = ["deployments", "lead_time_median_hours", "change_failure_rate", "incident_recovery_median_minutes"]
    months = sorted(set(results["pandas"]["months"]) & set(ours["months"]))[1:args.months + 1]
    print(f"\n{'month':<8} {'figure':<34} {'pandas':>10} {'ours':>10}")
    for m in months:
        for i, name in enumerate(names):
            hand, mine = results["pandas"]["months"][m][i], ours["months"][m][i]
            fmt = lambda v: "" if v is None else f"{v:,.0f}" if i == 0 else f"{v:.4g}"  # noqa: E731
            print(f"{m:<8} {name:<34} {fmt(hand):>10} {fmt(mine):>10}")


if __name__ == "__main__":
    main()
