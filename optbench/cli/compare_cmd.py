"""`optbench compare BASE NEW`: cell-by-cell tests; exit 1 on significant regressions."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from optbench.cli.common import echo_table, usage_errors

COLUMNS = ["problem", "setting", "metric", "base", "new", "change", "p_adj", "a12", "verdict"]
SETTING_WIDTH = 34


@click.command("compare")
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--fail-on",
    default=None,
    metavar="METRIC:±N[%],...",
    help="Thresholds that make a significant change a regression (exit 1), e.g. "
    '"success_rate:-0.05,ert:+10%,test_acc:-0.002,wall_s:+25%". '
    "Default: success_rate:-0.05,ert:+10%,test_acc:-0.002.",
)
@click.option(
    "--correction",
    type=click.Choice(["holm", "bh", "none"]),
    default="holm",
    show_default=True,
    help="Multiple-testing correction over every test.",
)
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write compare.md, compare.html and the ERT scatter here.",
)
@click.option("--all", "show_all", is_flag=True, help="Print every row, not only significant ones.")
@usage_errors
def compare_command(base, new, fail_on, correction, alpha, out, show_all) -> None:
    """Compare two result folders, BASE and NEW, cell by cell (exit 1 on regressions)."""
    from optbench.compare import DEFAULT_FAIL_ON, _headline, compare, write

    result = compare(
        base,
        new,
        correction=correction,
        alpha=alpha,
        fail_on=DEFAULT_FAIL_ON if fail_on is None else fail_on,
    )
    table = result.table
    shown = table if show_all else table[table["verdict"].isin(["regression", "worse", "better"])]
    shown = shown[COLUMNS].assign(setting=shown["setting"].map(_short))
    click.echo(_headline(result))
    if len(shown):
        echo_table(shown.reset_index(drop=True), float_format="{:.4g}")
    else:
        click.echo("no significant change in any cell (--all prints every row)")
    if out is not None:
        click.echo(f"written: {write(result, out)}")
    sys.exit(result.exit_code)


def _short(text: str) -> str:
    return text if len(text) <= SETTING_WIDTH else text[: SETTING_WIDTH - 1] + "…"
