"""`optbench search`: grid, random, halving or optuna search with k-fold CV over a runner's fits."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from optbench.cli.common import echo_table, usage_errors

if TYPE_CHECKING:
    from optbench.runners.search.study import SearchStudy


@click.command("search")
@click.argument("study_arg", metavar="STUDY.toml|NAME")
@click.option(
    "--backend", type=click.Choice(["jax", "keras"]), help="Train with JAX (default) or Keras."
)
@click.option(
    "--strategy",
    type=click.Choice(["grid", "random", "halving", "optuna"]),
    help="Override the study's strategy (halving: successive halving over epochs; optuna: "
    'TPE with pruning, needs pip install "optbench[optuna]").',
)
@click.option(
    "--n-iter",
    type=click.IntRange(min=1),
    help="Candidates to sample (implies random search); with optuna, the trials (n_trials).",
)
@click.option("--random-state", type=click.IntRange(min=0), help="Seed of the sampler.")
@click.option(
    "--shuffle",
    type=click.Choice(["member", "fold"]),
    help="Minibatch order: each fit its own (default), or one per fold shared by its fits "
    "(common random numbers; JAX trains a fold's members with one first-layer product).",
)
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
    study_arg, backend, strategy, n_iter, random_state, shuffle, out, data, top, quiet
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
        optuna = changes.get("strategy", study.strategy) == "optuna"
        changes["n_trials" if optuna else "n_iter"] = n_iter
    if random_state is not None:
        changes["random_state"] = random_state
    if shuffle is not None:
        changes["shuffle"] = shuffle
    study = dataclasses.replace(study, **changes).checked()
    if data is not None:
        os.environ["OPTBENCH_DATA"] = str(data)
    os.environ.setdefault("OPTBENCH_QUIET", "1")
    backend = backend or study.backend
    suffix = "" if backend == "jax" else f"-{backend}"
    out = out or Path("results") / f"search-{study.name}{suffix}"
    outcome = search.run_search(study, out, backend=backend, quiet=quiet)
    n_candidates, n_splits = len(outcome.cv_results["params"]), study.cv["n_splits"]
    fits = f"{n_candidates * n_splits} fits + refit"
    if outcome.study.strategy == "optuna":
        fits = f"{n_candidates} trials × {n_splits} folds + refit"
    click.echo(
        f"\n{study.name} ({outcome.study.strategy}, {backend}): {fits}; ran "
        f"{outcome.ran}, skipped {outcome.skipped} already stored; {outcome.wall_s:.1f} s"
    )
    click.echo(f"\ncv_results, top {top} by rank_test_score:")
    echo_table(search.summary(outcome, top), float_format="{:.4f}")
    click.echo(
        f"\nbest_params: {outcome.best_params}  best_score: {outcome.best_score:.4f}  "
        f"best_index: {outcome.best_index}"
    )
    if "optuna_state" in outcome.cv_results:
        click.echo(optuna_line(outcome.cv_results, outcome.study))
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


def optuna_line(cv_results: dict[str, Any], study: SearchStudy) -> str:
    """How many optuna trials completed, were pruned or failed, with the sampler and pruner."""
    from collections import Counter

    from optbench.runners.search import optuna_settings

    states = Counter(str(s) for s in cv_results["optuna_state"])
    pruner = optuna_settings.pruner_spec(study)[0]
    return (
        f"optuna: {len(cv_results['params'])} trials in batches of {study.trials_per_batch} "
        f"(TPE, random_state {study.random_state}, pruner {pruner}): "
        f"{states.get('COMPLETE', 0)} complete, {states.get('PRUNED', 0)} pruned, "
        f"{states.get('FAIL', 0)} failed"
    )
