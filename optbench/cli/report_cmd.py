"""`optbench report`: the tables and figures of result sets as Markdown and offline HTML."""

from __future__ import annotations

from pathlib import Path

import click

from optbench.cli.common import usage_errors


@click.command("report")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder: report.md, report.html, the figures as PNG, leaderboard.csv.",
)
@click.option("--title", help="Page title (default: optbench report).")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Settings shown per landscape in the leaderboard.",
)
@usage_errors
def report_command(results: tuple[Path, ...], out: Path, title: str | None, top: int) -> None:
    """Write a report of one or more RESULTS folders (nothing is re-run)."""
    from optbench.report import report

    html = report(list(results), out, title=title, top=top)
    click.echo(f"report: {html} and {html.with_suffix('.md')}")
