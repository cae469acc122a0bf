"""`optbench search`: grid, random or halving search with k-fold CV over a runner's fits."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click

from optbench.cli.common import echo_table, usage_errors


@click.command("search")
@click.argument("study_arg", metavar="STUDY.toml|NAME")
@click.option(
    "--backend", type=click.Choice(["jax", "keras"]), help="Train with JAX (default) or Keras."
)
@click.option(
    "--strategy",
    type=click.Choice(["grid", "random", "halving"]),
    help="Override the study's strategy (halving: successive halving over epochs).",
)
@click.option(
    "--n-iter", type=click.IntRange(min=1), help="Candidates to sample (implies random search)."
)
@click.option("--random-state", type=click.IntRange(min=0), help="Seed of the sampler.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results folder (default: results/search-NAME[-keras]).",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of the dataset's IDX files (sets $OPTBENCH_DATA).",
)
@click.option(
    "--top", type=click.IntRange(min=1), default=10, show_default=True, help="Rows of cv_results."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@usage_errors
def search_command(
    study_arg, backend, strategy, n_iter, random_state, out, data, top, quiet
) -> None:
    """Search a study's space with cross-validation, refit the best, print cv_results.

    STUDY is a search study file or a built-in one (`optbench studies`: seed-grid1, seed-grid2).
    """
    from optbench.runners.search import search, seed_grids
    from optbench.runners.search import study as studies

    study = studies.load(study_arg)
    changes = {}
    if strategy is not None:
        changes["strategy"] = strategy
    elif n_iter is not None and study.strategy == "grid":
        changes["strategy"] = "random"
    if n_iter is not None:
        changes["n_iter"] = n_iter
    if random_state is not None:
        changes["random_state"] = random_state
    study = dataclasses.replace(study, **changes).checked()
    if data is not None:
        os.environ["OPTBENCH_DATA"] = str(data)
    os.environ.setdefault("OPTBENCH_QUIET", "1")
    backend = backend or study.backend
    suffix = "" if backend == "jax" else f"-{backend}"
    out = out or Path("results") / f"search-{study.name}{suffix}"
    outcome = search.run_search(study, out, backend=backend, quiet=quiet)
    n_fits = len(outcome.cv_results["params"]) * study.cv["n_splits"]
    click.echo(
        f"\n{study.name} ({outcome.study.strategy}, {backend}): {n_fits} fits + refit; ran "
        f"{outcome.ran}, skipped {outcome.skipped} already stored; {outcome.wall_s:.1f} s"
    )
    click.echo(f"\ncv_results, top {top} by rank_test_score:")
    echo_table(search.summary(outcome, top), float_format="{:.4f}")
    click.echo(
        f"\nbest_params: {outcome.best_params}  best_score: {outcome.best_score:.4f}  "
        f"best_index: {outcome.best_index}"
    )
    if outcome.study.refit:
        click.echo(
            f"refit on all training images: test accuracy {outcome.refit_test_score:.4f} "
            f"(fit {outcome.refit_time:.1f} s)"
        )
    grid = outcome.study.strategy == "grid"  # the seed's scores are full-grid scores
    beside = seed_grids.beside_seed(study.name, outcome.table()) if grid else None
    if beside is not None:
        seed_s = seed_grids.SEED_WALL_S[study.name]
        click.echo(
            f"\nbeside the seed (seed: {seed_s:.0f} s wall for the whole search; this run: "
            f"{outcome.wall_s:.1f} s, {outcome.ran} fit(s) trained):"
        )
        echo_table(beside, float_format="{:.4f}")
    click.echo(
        f"\nresults: {outcome.path} (one row per fit; optbench.load_results({str(outcome.path)!r}))"
    )
