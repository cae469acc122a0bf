"""The summary `optbench run` prints after a study: one run in full, or tables and a ranking."""

from __future__ import annotations

import json

import click
import pandas as pd

from optbench import registry, rollup
from optbench.cli.common import echo_table, number_text

DEFAULT_TOP = 25
RATE_FORMATS = {"success": "{:.2f}", "diverged": "{:.2f}", "mean_rank": "{:.1f}"}
SCIPY_COUNTS = ("nit", "nfev", "njev", "nhev")


def final_target(runs: pd.DataFrame) -> float:
    """The target success is judged at: the study's one target, else rollup's default."""
    targets = runs["target"].dropna().unique() if "target" in runs else []
    return float(targets[0]) if len(targets) == 1 else rollup.DEFAULT_TARGET


def _point_text(value: object) -> str:
    if not isinstance(value, str):
        return "-"
    point = json.loads(value)
    return "(" + ", ".join(f"{v:.8f}" if abs(v) < 1e4 else f"{v:.8g}" for v in point) + ")"


def single_run_lines(row: pd.Series) -> list[str]:
    """One landscape run in full: where it ended, its value, and scipy's own counts."""
    lines = [
        f"{row['problem']} with {row['optimizer']}: {row['status']}",
        f"  x     {_point_text(row.get('x_final'))}",
        f"  f     {row['f_final']:.10g}   (gap to f_min {number_text(float(row['f_gap']))})",
    ]
    counts = [
        f"{name} {int(row[name])}"
        for name in SCIPY_COUNTS
        if name in row and not pd.isna(row[name])
    ]
    if counts:
        lines.append("  scipy " + ", ".join(counts))
    else:
        lines.append(f"  steps {int(row['steps'])}, evaluations {int(row['n_fev'])}")
    message = row.get("message")
    if isinstance(message, str) and message:
        lines.append(f"  message: {message}")
    return lines


def ranking_table(table: pd.DataFrame) -> pd.DataFrame:
    """rollup.ranking of a summary table, with each setting's median ERT over the problems."""
    ranked = rollup.ranking_of(table)
    per_problem = rollup.ranks(table)
    ert = per_problem.groupby("label")["ert"].median().rename("median_ert")
    table = ranked.join(ert, on="label")
    by_instance = [c for c in table.columns if c.startswith(("success.i", "n.i"))]
    order = ["label", "mean_rank", "wins", "problems", "success", "n", *by_instance]
    order += ["median_ert", "median_gap"]
    return table[order]


def print_ranking(runs: pd.DataFrame, top: int | None, summary: pd.DataFrame) -> None:
    """The ranking, all of it or its first `top` settings and how many more there are."""
    target = number_text(final_target(runs))
    click.echo(
        f"\nranking across problems: mean rank, ranked by success at {target}, then ERT, "
        "then median gap"
    )
    table = ranking_table(summary)
    shown = table if top is None else table.head(top)
    echo_table(shown, formats=RATE_FORMATS)
    hidden = len(table) - len(shown)
    if hidden:
        click.echo(f"… {hidden} more setting(s) of {len(table)}: --top N or --all to show them")


def landscape_text(summary: pd.DataFrame) -> pd.DataFrame:
    """The landscape table with each optimizer's instances in one cell (`1.00/0.40`), n last."""
    table, counts = rollup.landscape_table_of(summary), rollup.landscape_counts_of(summary)
    optimizers = list(dict.fromkeys(table.columns.get_level_values(0)))

    def cell(values) -> str:
        return "/".join("-" if pd.isna(v) else f"{v:.2f}" for v in values)

    text = pd.DataFrame(
        {name: [cell(row) for row in table[name].to_numpy()] for name in optimizers},
        index=table.index,
    )
    text.loc["n"] = [cell_n(counts[name]) for name in optimizers]
    return text.reset_index()


def cell_n(counts: pd.Series) -> str:
    return "/".join(str(int(v)) for v in counts)


def print_landscape_summary(runs: pd.DataFrame, top: int | None = DEFAULT_TOP) -> None:
    """What `optbench run` prints for landscape studies."""
    target = number_text(final_target(runs))
    if len(runs) == 1 and "x_final" in runs:
        for line in single_run_lines(runs.iloc[0]):
            click.echo(line)
        return
    table = rollup.summary(runs, targets=())
    instances = rollup.split_instance(table["problem"])[1].nunique()
    if runs["optimizer"].nunique() > 1 and len(table) > 40:
        click.echo(
            f"\nsuccess rate at the final target (gap <= {target}; best setting of each optimizer):"
        )
        if instances > 1:
            click.echo("each cell: instance 0 / instance 1 (n: runs per cell)")
            echo_table(landscape_text(table))
        else:
            echo_table(rollup.landscape_table_of(table).reset_index(), float_format="{:.2f}")
    elif instances > 1:
        click.echo(
            f"\nper problem and setting, instances side by side (success = gap <= {target}):"
        )
        echo_table(rollup.by_instance(table), formats=RATE_FORMATS)
    else:
        click.echo(f"\nper problem and setting (success = gap <= {target}):")
        echo_table(table, formats=RATE_FORMATS)
    if runs["problem"].nunique() > 1 and runs["optimizer"].nunique() > 1:
        print_ranking(runs, top, table)


def print_summary(study_runner: str, runs: pd.DataFrame, top: int | None) -> None:
    """The runner's own table when it has one (networks), else the landscape summary."""
    summary = getattr(registry.runner(study_runner), "summary", None)
    if summary is not None:
        echo_table(summary(runs), float_format="{:.4g}")
    else:
        print_landscape_summary(runs, top)
