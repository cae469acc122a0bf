"""`optbench run`: a study from a file, a built-in name or flags; prints a summary table."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import click

from optbench import registry, schema
from optbench.cli.common import usage_errors
from optbench.cli.dry_run import print_plan
from optbench.cli.failures import exit_interrupted, exit_on_errors
from optbench.cli.summary import DEFAULT_TOP, print_summary
from optbench.errors import OptbenchError
from optbench.execute import run_study, study_status
from optbench.executors import EXECUTORS
from optbench.quiet import VERBOSE_ENV, import_keras_quietly
from optbench.spec import BUDGET_FIELDS
from optbench.study import OptimizerEntry, Study, load_study
from optbench.textform import parse_assignment, parse_point

STUDY_FIELDS = ("seed", "seeds", "starts", "target")
NAME_LIMIT = 64


def adhoc_name(runner: str, problems: tuple[str, ...], optimizers: tuple[str, ...], *extra) -> str:
    """A folder name saying what an ad-hoc study ran: `beale_l-bfgs-b_x0=4,4_jac=none`."""
    parts = [p.removeprefix("suite:") for p in problems] + list(optimizers)
    parts += [str(e) for e in extra if e]
    text = "_".join(re.sub(r"[^A-Za-z0-9.,=+-]+", "-", part).strip("-") for part in parts)
    text = text or f"adhoc-{runner}"
    if runner != "landscape" and not text.startswith(runner):
        text = f"{runner}_{text}"
    if len(text) > NAME_LIMIT:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        text = f"{text[: NAME_LIMIT - 9].rstrip('_-')}-{digest}"
    return text


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


def uses_keras(study: Study) -> bool:
    """Whether any optimizer of the study is a Keras one."""
    return any(registry.optimizer(entry.name).family == "keras" for entry in study.optimizers)


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
    if study_arg is None and (problems or optimizers or study.name.startswith("adhoc-")):
        flags = {"x0": x0, "starts": starts, "seed": seed, "steps": steps}
        extra = [*(f"{k}={v}" for k, v in flags.items() if v is not None), *sets]
        name = adhoc_name(study.runner, problems or study.problems, optimizers, *extra)
        study = dataclasses.replace(study, name=name)
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
@click.option("-v", "--verbose", is_flag=True, help="Show TensorFlow's own log lines.")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=DEFAULT_TOP,
    show_default=True,
    help="Settings shown in the ranking.",
)
@click.option("--all", "show_all", is_flag=True, help="Show every setting in the ranking.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (runs, programs to compile, an estimated time) without running.",
)
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
    verbose,
    top,
    show_all,
    dry_run,
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
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    elif uses_keras(study):
        import_keras_quietly(str(study.options.get("keras_backend", "tensorflow")))
    if dry_run:
        print_plan(study, out)
        return
    if quiet:
        os.environ["OPTBENCH_QUIET"] = "1"  # the network runners' per-epoch lines
    if not quiet:
        click.echo(f"{study.name}: results go to {out}", err=True)
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
    print_summary(study.runner, runs, None if show_all else top)
    click.echo(f"\nresults: {outcome.path} (optbench.load_results({str(outcome.path)!r}))")
    exit_on_errors(runs)
