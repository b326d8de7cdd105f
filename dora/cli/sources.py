"""What `dora ingest github` and `dora nightly` share: the token, the repositories, the options and the report.

Output: on a terminal, progress on stderr and one readable summary line per source on stdout; under
cron (`--quiet`, or stdout not a terminal) one JSON object per line per source, then one for the
metric build. The GitHub token is read here, from GITHUB_TOKEN or GH_TOKEN, and only passed on.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Mapping

import click

from core.errors import ConfigError
from core.text import register_secret
from dora.cli.base import EXIT_FAILED, EXIT_REJECTS, clean_message
from dora.config import Config
from dora.nightly import NightlyResult, RunOptions, SourceResult
from ingest.github import GitHubSettings

TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")


def read_token(env: Mapping[str, str] = os.environ) -> str:
    """The GitHub token from the environment; one clear message if there is none."""
    for name in TOKEN_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            register_secret(value)  # redacted from every message printed or stored from now on
            return value
    raise ConfigError(
        "no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token that can read the repositories "
        "(fine-grained: Contents, Pull requests, Issues, Deployments, Actions: read-only); see docs/github.md"
    )


def choose_repositories(config: Config, names: tuple[str, ...]) -> GitHubSettings:
    """The configured repositories, or the ones named on the command line (configured or not)."""
    github = config.github
    if not names:
        if not github.repositories:
            raise ConfigError("no GitHub repositories: list them under [[github.repositories]] in dora.toml "
                              "or name them, e.g. `dora ingest github acme/payments`")
        return github
    configured = {r.name.lower(): r for r in github.repositories}
    chosen = tuple(configured.get(n.lower()) or config.name_repository(n) for n in names)
    return GitHubSettings(chosen, github.client, github.lookback_days, github.checkpoint_pages)


class Reporter:
    """Renders the job's events: progress and text lines on a terminal, JSON lines otherwise."""

    def __init__(self, fmt: str, quiet: bool):
        if fmt == "auto":
            fmt = "json" if quiet or not sys.stdout.isatty() else "text"
        self.fmt = fmt
        self.progress = fmt == "text" and sys.stderr.isatty()
        self.last_progress = ""

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "progress" and self.progress:
            total = event.get("total")
            what = f"{event['source']} {event.get('stream', 'files')}"
            line = f"{what}: {event['done']}" + (f"/{total}" if total else "")
            if total:
                width = 30
                filled = min(width, int(width * event["done"] / max(total, 1)))
                line = f"{what} [{'#' * filled}{'-' * (width - filled)}] {event['done']}/{total}"
            self.last_progress = line
            click.echo("\r" + line.ljust(78)[:160], nl=False, err=True)
        elif kind == "source_done":
            self.clear()
            self.source_line(event["result"])
        elif kind == "metrics_done":
            self.clear()
            if self.fmt == "json":
                say(json.dumps({"kind": "metrics", "outcome": "ok" if event["ok"] else "failed",
                                **({"message": event["message"]} if event["message"] else {})}))
            else:
                say("metrics: rebuilt" if event["ok"] else f"metrics: FAILED: {event['message']}")

    def clear(self) -> None:
        if self.progress and self.last_progress:
            click.echo("\r" + " " * 78 + "\r", nl=False, err=True)
            self.last_progress = ""

    def source_line(self, r: SourceResult) -> None:
        if self.fmt == "json":
            say(json.dumps(r.as_dict()))
            return
        say(format_source_line(r))
        for file, line_no, reason in r.reject_samples[:5]:
            where = f"{file}:{line_no}" if line_no else file
            say(f"  rejected {where}: {reason}")
        if r.rejected > 5:
            say(f"  … and {r.rejected - 5} more: `dora rejects --run {r.run_id}`")


def say(line: str) -> None:
    """One summary line on stdout: what GitHub or a log said is redacted and its controls escaped."""
    click.echo(clean_message(line))


def format_source_line(r: SourceResult) -> str:
    """The one human line for a source."""
    head = f"{r.kind} {r.name}: "
    if r.outcome in ("failed", "skipped"):
        return head + f"{r.outcome.upper()}: {r.message}"
    parts = []
    if r.kind == "eventlog":
        parts.append(f"{r.files} file{'s' if r.files != 1 else ''}, {r.records} new lines "
                     f"({r.loaded} events loaded, {r.duplicates} duplicates ignored)")
    else:
        parts.append(f"{r.records} records ({r.loaded} new, {r.replaced} seen before and replaced)")
    parts.append(f"{r.rejected} rejected")
    text = head + r.outcome + ", " + ", ".join(parts)
    if r.kind == "github":
        budget = [f"REST {r.rest_remaining}" if r.rest_remaining is not None else "",
                  f"GraphQL {r.graphql_remaining}" if r.graphql_remaining is not None else ""]
        budget = [b for b in budget if b]
        text += f"; {r.calls} API calls" + (f"; rate limit left: {', '.join(budget)}" if budget else "")
    if r.message:
        text += f" ({r.message})"
    return text + f"; {r.seconds:.1f} s"


def finish(result: NightlyResult) -> None:
    """Exit 1 if any source (or the build) failed, after all ran; 3 if only rejects."""
    if result.failed:
        sys.exit(EXIT_FAILED)
    if result.rejected:
        sys.exit(EXIT_REJECTS)


def run_options(since, full_refresh: bool) -> RunOptions:
    if since and full_refresh:
        raise click.UsageError("--since and --full-refresh cannot be combined")
    return RunOptions(since=since.date() if since else None, full_refresh=full_refresh)


def source_options(func):
    """--since, --full-refresh and --format, shared by both commands."""
    options = [
        click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
                     help="Backfill GitHub data updated since this day (UTC), whatever was read before."),
        click.option("--full-refresh", is_flag=True, help="Re-read everything from GitHub (keys are replaced, not duplicated)."),
        click.option("--format", "fmt", type=click.Choice(["auto", "text", "json"]), default="auto",
                     show_default=True, help="Summary lines: text on a terminal, JSON lines under cron (auto)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
