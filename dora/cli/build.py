"""`dora build`: rebuild the facts and metrics for the current settings and publish the read snapshot."""
from __future__ import annotations

import click

from core.errors import WarehouseError
from dora.cli.base import common_options, connect
from dora.config import Config
from dora.jobs import committed, deferred_interrupts
from ingest.warehouse import publish_snapshot, snapshot_path
from metrics.build import ensure_built


@click.command()
@common_options
def build(config: Config, quiet: bool) -> None:
    """Rebuild the metrics for the current dora.toml and publish the read snapshot.

    Read commands (metrics, export, rejects, quality, explain, levels, compare) read only the
    snapshot every load publishes, and never rebuild it themselves: after changing the [metrics]
    settings, run this (or wait for the next load). One transaction: it lands whole or not at all.

    \b
    Examples:
      dora build
      dora build --db /var/lib/dora/dora.duckdb --config /etc/dora/dora.toml
    """
    if not config.db_path.exists():
        raise WarehouseError(f"no warehouse at {config.db_path}: load data first, e.g. `dora ingest events FILE`")
    con = connect(config)
    rebuilt = ensure_built(con, config.metrics)
    if rebuilt:
        committed.append("the metric build")
    published = rebuilt or not snapshot_path(config.db_path).exists()
    if published:
        with deferred_interrupts():
            publish_snapshot(con, config.db_path)
    if not quiet:
        click.echo(("metrics rebuilt" if rebuilt else "metrics already up to date")
                   + ("; read snapshot published" if published else ""), err=True)
