"""Benchmark: GitHub ingest against the fake server (no network beyond loopback).

One repository with 5,000 merged PRs (squash, merge and rebase), 2,000 deployments and 300
incident issues, built by the same history builder the tests use. Measures API calls (as the
server counts them) and wall time for the full backfill, then for nightly runs with no new data.

    .venv/bin/python bench/bench_github.py [--prs 5000 --deployments 2000 --incidents 300]

Targets (issue 4): at most 15 calls per 1,000 merged PRs including first-commit and review times;
a nightly run with no new data at most 3 calls per repository and stream.
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.github import RepoSettings  # noqa: E402
from ingest.warehouse import open_warehouse  # noqa: E402
from tests.fakegithub import FakeGitHub, build_history, run_github  # noqa: E402


def by_route(fake: "RemoteFake") -> dict[str, int]:
    counts: dict[str, int] = {}
    for route, status in fake.calls:
        key = route + (" (304)" if status == 304 else "")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


class RemoteFake:
    """The fake server in its own process, so the measured time is the client's, not a GIL shared
    with the server. Same history (the builder is deterministic), same counters."""

    def __init__(self, args: argparse.Namespace):
        self.conn, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=serve, args=(child, args.prs, args.deployments, args.incidents),
                                            daemon=True)
        self.proc.start()
        self.base_url, self.token = self.conn.recv()
        self.calls: list[tuple[str, int]] = []

    def ask(self, command: str):
        self.conn.send(command)
        return self.conn.recv()

    def reset_counts(self) -> None:
        self.ask("reset")

    def fetch_calls(self) -> None:
        self.calls = self.ask("calls")

    def count(self, include_304: bool = True) -> int:
        return sum(1 for _, status in self.calls if include_304 or status != 304)

    def stop(self) -> None:
        self.ask("stop")
        self.proc.join(10)


def serve(conn, prs: int, deployments: int, incidents: int) -> None:
    history = build_history(n_prs=prs, n_deployments=deployments, n_incidents=incidents)
    with FakeGitHub() as fake:
        fake.add(history.repo)
        conn.send((fake.base_url, fake.token))
        while True:
            command = conn.recv()
            if command == "reset":
                fake.reset_counts()
                conn.send(None)
            elif command == "calls":
                with fake.lock:
                    conn.send(list(fake.calls))
            else:
                conn.send(None)
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=5000)
    parser.add_argument("--deployments", type=int, default=2000)
    parser.add_argument("--incidents", type=int, default=300)
    args = parser.parse_args()

    started = time.monotonic()
    history = build_history(n_prs=args.prs, n_deployments=args.deployments, n_incidents=args.incidents)
    built = time.monotonic() - started
    repo = RepoSettings("acme/payments", service="payments")
    streams = len(repo.streams())
    fake = RemoteFake(args)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        con = open_warehouse(db)
        rows = []
        for label, kwargs in [("full backfill", {}), ("nightly, no new data (1st)", {}),
                              ("nightly, no new data (steady)", {})]:
            fake.reset_counts()
            t0, c0 = time.monotonic(), time.process_time()
            result = run_github(con, db, fake, [repo], seconds_between_requests=0, **kwargs)
            seconds, cpu = time.monotonic() - t0, time.process_time() - c0
            fake.fetch_calls()
            source = result.sources[0]
            assert source.outcome == "ok", source.message
            rows.append((label, fake.count(), fake.count(include_304=False), seconds, cpu, source.records,
                         by_route(fake)))
        stored = con.execute(
            "SELECT event_type, count(*) FROM raw_events GROUP BY 1 ORDER BY 1").fetchall()
        linked = con.execute("SELECT count(*) FROM fct_deployment_changes").fetchall()[0][0]
        con.close()
    fake.stop()

    print(f"history built in {built:.1f} s: {args.prs} merged PRs, {args.deployments} deployments, "
          f"{args.incidents} incidents; {len(history.repo.commits)} commits")
    print(f"stored: {dict(stored)}; deployment→PR links: {linked}")
    print()
    print("| run | API calls | counted against the budget | calls per stream | wall time | client CPU | records |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, calls, charged, seconds, cpu, records, _ in rows:
        print(f"| {label} | {calls} | {charged} | {calls / streams:.1f} | {seconds:.1f} s | {cpu:.1f} s | {records} |")
    print()
    backfill = rows[0][6]
    pr_calls = backfill.get("graphql:PullRequests", 0)
    print(f"PR calls in the backfill: {pr_calls} = {1000 * pr_calls / args.prs:.1f} per 1,000 merged PRs "
          f"(first-commit and first-review times included; target ≤ 15)")
    for label, *_, routes in rows:
        print(f"{label}: {routes}")


if __name__ == "__main__":
    main()
