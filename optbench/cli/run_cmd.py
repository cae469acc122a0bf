"""`optbench run`: a study from a file, a built-in name or flags; prints a summary table."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import click

from optbench import registry, rollup, schema
from optbench.cli.common import echo_table, usage_errors
from optbench.cli.failures import exit_interrupted, exit_on_errors
from optbench.errors import OptbenchError
from optbench.execute import run_study, study_status
from optbench.executors import EXECUTORS
from optbench.spec import BUDGET_FIELDS
from optbench.study import OptimizerEntry, Study, load_study
from optbench.textform import parse_assignment, parse_point

STUDY_FIELDS = ("seed", "seeds", "starts", "target")


def apply_sets(study: Study, assignments: list[tuple[str, Any]]) -> Study:
    """Route each `--set name=value` to a run field, a runner option or the hyperparameters."""
    runner = registry.runner(study.runner)
    budget, options, changes, hp = dict(study.budget), dict(study.options), {}, {}
    for name, value in assignments:
        if name in schema.RUN_FIELDS:
            value = schema.run_field(name, value, "--set")
        if name in BUDGET_FIELDS:
            budget[name] = value
        elif name in runner.options:
            options[name] = value
        elif name in STUDY_FIELDS:
            changes[name] = value
        else:
            hp[name] = value
    if "seed" in changes or "seeds" in changes:
        seeds = changes.pop("seeds", changes.pop("seed", 0))
        changes["seeds"] = tuple(seeds) if isinstance(seeds, list) else (seeds,)
    own_starts = {"starts": None} if "starts" in changes else {}  # --starts N: N for every one
    optimizers = tuple(
        dataclasses.replace(entry, hyperparameters=dict(entry.hyperparameters) | hp, **own_starts)
        for entry in study.optimizers
    )
    return dataclasses.replace(
        study, budget=budget, options=options, optimizers=optimizers, **changes
    )


def build_study(
    study_arg: str | None,
    runner: str | None,
    problems: tuple[str, ...],
    optimizers: tuple[str, ...],
    sets: tuple[str, ...],
    x0: str | None,
    starts: int | None,
    seed: int | None,
    steps: int | None,
) -> Study:
    """The study that the command line describes: a base study overridden by the flags."""
    study = load_study(study_arg or "default")
    if runner is not None and registry.runner(runner).name != study.runner:
        default_problems = tuple(getattr(registry.runner(runner), "default_problems", ()))
        study = Study(
            name=f"adhoc-{runner}", runner=registry.runner(runner).name, problems=default_problems
        )
    if problems:
        study = dataclasses.replace(study, problems=problems)
    if optimizers:
        study = dataclasses.replace(
            study, optimizers=tuple(OptimizerEntry.parse(o) for o in optimizers)
        )
    if (problems or optimizers) and study_arg is None:
        study = dataclasses.replace(study, name=f"adhoc-{study.runner}")
    assignments = [parse_assignment(text) for text in sets]
    if x0 is not None:
        assignments += [("x0", list(parse_point(x0))), ("starts", 1)]
    if starts is not None:
        assignments.append(("starts", starts))
    if seed is not None:
        assignments.append(("seed", seed))
    if steps is not None:
        assignments.append(("steps", steps))
        if "evaluations" in study.budget:
            assignments.append(("evaluations", steps + 1))
    return apply_sets(study, assignments)


def landscape_text(runs) -> Any:
    """The landscape table with each optimizer's instances in one cell (`1.00/0.40`), n last."""
    import pandas as pd

    table, counts = rollup.landscape_table(runs), rollup.landscape_counts(runs)
    optimizers = list(dict.fromkeys(table.columns.get_level_values(0)))

    def cell(values) -> str:
        return "/".join("-" if pd.isna(v) else f"{v:.2f}" for v in values)

    text = pd.DataFrame(
        {name: [cell(row) for row in table[name].to_numpy()] for name in optimizers},
        index=table.index,
    )
    text.loc["n"] = [cell_n(counts[name]) for name in optimizers]
    return text.reset_index()


def cell_n(counts) -> str:
    return "/".join(str(int(v)) for v in counts)


@click.command("run")
@click.argument("study_arg", metavar="[STUDY]", required=False)
@click.option("-r", "--runner", help="Runner plugin (default: landscape, or the study's).")
@click.option(
    "-l",
    "--landscape",
    "--problem",
    "problems",
    multiple=True,
    help="Landscape (or problem) name, NAME:dim=10,instance=1, or suite:NAME. Repeatable.",
)
@click.option(
    "-o",
    "--optimizer",
    "optimizers",
    multiple=True,
    help='Optimizer, optionally with hyperparameters: "sgd:lr=0.1,momentum=0.8". Repeatable.',
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUE",
    help="A hyperparameter (for every optimizer) or a run field (steps, target, dim, ...).",
)
@click.option("--x0", help="Start point, comma-separated (implies --starts 1), e.g. 4,4.")
@click.option("--starts", type=click.IntRange(min=1), help="Seeded uniform starts per run.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the starts and of training.")
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    help="Step budget per run (and STEPS+1 evaluations where the study caps evaluations).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results folder (default: results/STUDY-NAME).",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of the dataset's IDX files (sets $OPTBENCH_DATA; not part of the run key).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--report", "make_report", is_flag=True, help="Write a report into OUT/report/.")
@click.option(
    "--no-retry-errors",
    "keep_errors",
    is_flag=True,
    help="Keep stored runs whose status is error instead of running them again.",
)
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    default="local",
    show_default=True,
    help="Where runs go: this machine, or a Dask cluster (see --scheduler).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster of processes).",
)
@click.option("--status", is_flag=True, help="Say how many runs are stored and left; run nothing.")
@usage_errors
def run_command(
    study_arg,
    runner,
    problems,
    optimizers,
    sets,
    x0,
    starts,
    seed,
    steps,
    out,
    data,
    quiet,
    keep_errors,
    executor,
    scheduler,
    status,
    make_report,
) -> None:
    """Run a study (a built-in name, a TOML file, or the default) and print its summary."""
    study = build_study(study_arg, runner, problems, optimizers, sets, x0, starts, seed, steps)
    out = out or Path("results") / study.name
    if status:
        state = study_status(study, out)
        click.echo(
            f"{study.name}: {state.done} of {state.total} run(s) done, {state.left} left ({out})"
        )
        return
    if scheduler is not None and executor != "dask":
        raise OptbenchError(f"--scheduler {scheduler!r} needs --executor dask")
    if data is not None:
        os.environ["OPTBENCH_DATA"] = str(data)
    if quiet:
        os.environ["OPTBENCH_QUIET"] = "1"  # the network runners' per-epoch lines
    try:
        outcome = run_study(
            study,
            out,
            quiet=quiet,
            retry_errors=not keep_errors,
            executor=executor,
            scheduler=scheduler,
            curves=make_report,
        )
    except KeyboardInterrupt as interrupted:  # run_study's Interrupted, or before it began
        exit_interrupted(out, interrupted)
    runs = outcome.results.runs
    if runs.empty:
        raise OptbenchError(f"study {study.name!r} produced no rows")
    click.echo(
        f"\n{study.name}: ran {outcome.ran} run(s), skipped {outcome.skipped} already stored, "
        f"{outcome.wall_s:.1f} s"
    )
    if make_report:
        from optbench.report import report

        click.echo(f"report: {report(outcome.results, Path(outcome.path) / 'report')}")
    summary = getattr(registry.runner(study.runner), "summary", None)
    if summary is not None:  # the runner's own table (networks: accuracies beside the seed's)
        echo_table(summary(runs), float_format="{:.4g}")
        click.echo(f"\nresults: {outcome.path} (optbench.load_results({str(outcome.path)!r}))")
        exit_on_errors(runs)
        return
    table = rollup.summary(runs, targets=())
    instances = rollup.split_instance(table["problem"])[1].nunique()
    if runs["optimizer"].nunique() > 1 and len(table) > 40:
        click.echo("\nsuccess rate at the final target (best setting of each optimizer):")
        if instances > 1:
            click.echo("each cell: instance 0 / instance 1 (n: runs per cell)")
        echo_table(landscape_text(runs) if instances > 1 else
                   rollup.landscape_table(runs).reset_index(), float_format="{:.2f}")  # fmt: skip
    elif instances > 1:
        echo_table(rollup.summary_by_instance(runs))
    else:
        echo_table(table)
    if runs["problem"].nunique() > 1 and runs["optimizer"].nunique() > 1:
        click.echo("\nranking across problems (mean rank by success, then ERT, then median gap):")
        echo_table(rollup.ranking(runs).head(25))
    click.echo(f"\nresults: {outcome.path} (optbench.load_results({str(outcome.path)!r}))")
    exit_on_errors(runs)
