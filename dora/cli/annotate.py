"""`dora annotate add|list|remove|import`: the dated process changes charts and comparisons are named by."""
from __future__ import annotations

import sys
from datetime import datetime

import click
import pandas as pd

from dora.cli.base import EXIT_REJECTS, common_options, open_snapshot
from dora.cli.output import format_rows, report_counts
from dora.config import Config
from dora.jobs_context import run_annotation_add, run_annotation_remove, run_annotations_import
from ingest.warehouse import open_warehouse
from metrics.compare import query_annotations
from metrics.export import write_csv


@click.group()
def annotate() -> None:
    """Dated, named process changes ("Phase 1: remove manual gates"), optionally for one service.

    They are drawn on the dashboard's charts and name the windows of `dora compare`.
    """


@annotate.command("add")
@click.argument("name")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The day the change took effect (its window starts at 00:00 in the configured time zone).")
@click.option("--service", help="Only this service (default: the whole organisation).")
@click.option("--description", help="What changed, in a sentence.")
@common_options
def annotate_add(config: Config, quiet: bool, name: str, on: datetime, service: str | None,
                 description: str | None) -> None:
    """Add one annotation.

    \b
    Examples:
      dora annotate add "Phase 1: remove manual gates" --date 2026-05-25
      dora annotate add "payments on Kubernetes" --date 2026-03-02 --service payments \\
          --description "Moved from VMs to the shared cluster"
    """
    con = open_warehouse(config.db_path)
    ident = run_annotation_add(con, config.db_path, config.metrics, name, on.date(), service, description)
    if not quiet:
        click.echo(f"added annotation {ident}: {on:%Y-%m-%d} {name.strip()}"
                   + (f" (service {service.strip()})" if service and service.strip() else ""))


@annotate.command("list")
@click.option("--service", help="Only the annotations that apply to this service (its own and the organisation's).")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV to stdout.")
@common_options
def annotate_list(config: Config, quiet: bool, service: str | None, as_csv: bool) -> None:
    """List the annotations in date order.

    \b
    Examples:
      dora annotate list
      dora annotate list --service notifications --csv > annotations.csv
    """
    con = open_snapshot(config, metrics=False)
    frame = query_annotations(con, service, every_service=service is None)
    if as_csv:
        out = frame.rename(columns={"starts_on": "date"})[["id", "date", "name", "service", "description"]]
        write_csv(out, sys.stdout)
        return
    if frame.empty:
        click.echo("No annotations yet: add one with `dora annotate add NAME --date YYYY-MM-DD`.")
        return
    rows = [[str(r.id), f"{r.starts_on:%Y-%m-%d}", r.service or "(all)", r.name, r.description or ""]
            for r in frame.itertuples()]
    click.echo(format_rows(["id", "date", "service", "name", "description"], rows, right={0}))


@annotate.command("remove")
@click.argument("ref", metavar="ID|NAME")
@common_options
def annotate_remove(config: Config, quiet: bool, ref: str) -> None:
    """Remove one annotation, by its id or its name.

    \b
    Examples:
      dora annotate remove 3
      dora annotate remove "Phase 1: remove manual gates"
    """
    con = open_warehouse(config.db_path)
    removed = run_annotation_remove(con, config.db_path, config.metrics, ref)
    if not quiet:
        r = removed.iloc[0]
        click.echo(f"removed annotation {r['id']}: {pd.Timestamp(r['starts_on']):%Y-%m-%d} {r['name']}")


@annotate.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@common_options
def annotate_import(config: Config, quiet: bool, file: str) -> None:
    """Load annotations from a CSV file with columns date,name,service,description.

    An empty service means the whole organisation. Bad rows are rejected with their line and reason
    (`dora rejects`); valid rows still load. Importing the same file again changes nothing; a name
    already stored for the same service moves to the file's date and description.

    \b
    Examples:
      dora annotate import data/sample/annotations.csv
    """
    con = open_warehouse(config.db_path)
    run = run_annotations_import(con, config.db_path, file, config.metrics)
    report_counts(run, "annotations", quiet)
    if run.counts.rejected:
        sys.exit(EXIT_REJECTS)
