"""`dora report`: the quarterly review pack, one self-contained HTML file."""
from __future__ import annotations

import click

from dashboard.report import build_review, parse_quarter
from dora.cli.base import common_options, open_snapshot
from dora.cli.output import write_output
from dora.config import Config


@click.command()
@click.option("--quarter", metavar="YEARQn",
              help="The quarter to review, e.g. 2026Q3 (default: the last complete quarter).")
@click.option("--service", help="Only this service (default: the whole organisation).")
@click.option("--team", help='One team of dora.toml ([[teams]]) as a whole; "no team": the services none owns.')
@click.option("--environment", default="production", show_default=True, help="Environment.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the HTML here (default, or `-`: stdout). Never over the warehouse.")
@common_options
def report(config: Config, quiet: bool, quarter: str | None, service: str | None, team: str | None,
           environment: str, output: str | None) -> None:
    """Write the quarterly review: one HTML file that opens offline, anywhere.

    For the organisation, one service (--service) or one team's services together (--team). It holds
    the quarter's numbers, the phase story table up to the quarter's end (`dora story`),
    the quarter against the previous one and against the baseline with
    verdicts, monthly trends with the annotations, DORA levels, batch size and risk, and the
    quarter's CSVs (as `dora export` writes them) attached. Plotly's script is inside the file: no
    network is needed to open it. Every figure and table names its definitions version.

    \b
    Examples:
      dora report -o review.html                        # the last complete quarter
      dora report --quarter 2026Q3 -o review-2026Q3.html
      dora report --quarter 2026Q3 --service payments -o payments-2026Q3.html
      dora report --quarter 2026Q3 --team checkout -o checkout-2026Q3.html
    """
    chosen = parse_quarter(quarter) if quarter else None
    con = open_snapshot(config)
    page = build_review(con, config.metrics, chosen, service, environment, team=team, teams=config.teams)
    write_output(output, lambda out: out.write(page), db_path=config.db_path)
    if output and output != "-" and not quiet:
        click.echo(f"wrote the review to {output} ({len(page.encode('utf-8')) / 1e6:.1f} MB)", err=True)
