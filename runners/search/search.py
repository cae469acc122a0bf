"""Run a search study: candidates × folds as fit specs, stored fit by fit, then cv_results,
the best configuration and its refit on the whole training set scored on the test set."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from optbench.runners.search import cv as cross_validation
from optbench.runners.search import fits, mnist_fits
from optbench.runners.search import results as cv_tables
from optbench.runners.search import space as spaces
from optbench.runners.search.plugin import BACKENDS, WRAPPABLE, SearchRunner, check_shuffle
from optbench.runners.search.study import SearchStudy
from tqdm.auto import tqdm

from optbench import registry
from optbench.errors import OptbenchError
from optbench.spec import RunSpec
from optbench.store import ResultsStore, keys_in
from optbench.workers import cpu_count

EXTRA_COLUMNS = ("backend", "members_together", "compile_s")
TRAINING_LANES = min(2, cpu_count())


@dataclass(frozen=True)
class SearchOutcome:
    """GridSearchCV's attributes (cv_results_, best_*), the refit's test score, and where the
    rows went."""

    cv_results: dict[str, Any]
    best_index: int
    best_params: dict[str, Any]
    best_score: float
    refit_test_score: float
    refit_time: float
    path: Path
    ran: int
    skipped: int
    wall_s: float
    study: SearchStudy

    def table(self) -> pd.DataFrame:
        return cv_tables.table(self.cv_results)


@dataclass(frozen=True)
class Plan:
    """A validated search: its candidates, each candidate's wrapped spec and fit specs."""

    study: SearchStudy
    candidates: list[dict[str, Any]]
    wrapped: list[RunSpec]
    fits: list[list[RunSpec]]


def plan(study: SearchStudy, backend: str | None = None) -> Plan:
    """Expand and check everything before any training (OptbenchError naming the bad value);
    an optuna search's candidates come trial by trial, so its plan has none, only checks."""
    study = for_backend(study, backend)
    if study.strategy == "optuna":
        from optbench.runners.search import optuna_settings, optuna_space

        optuna_settings.check(study, study.backend)
        probes = optuna_space.parse(study.space).probes()
        study, _, _ = expand(study, probes)
        return Plan(study, [], [], [])
    space = spaces.parse(study.space)
    candidates = spaces.candidates(space, study.strategy, study.n_iter, study.random_state)
    study, wrapped, specs = expand(study, candidates)
    return Plan(study, candidates, wrapped, specs)


def for_backend(study: SearchStudy, backend: str | None = None) -> SearchStudy:
    """The study with its backend (checked), optimizer and runner settled."""
    backend = backend or study.backend
    if backend not in BACKENDS:
        raise OptbenchError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
    study = replace(study, backend=backend, optimizer=_for_backend(study.optimizer, backend))
    if study.runner not in WRAPPABLE:
        raise OptbenchError(
            f"the search runner wraps {', '.join(WRAPPABLE)}; got runner {study.runner!r}"
        )
    check_shuffle(study.shuffle, study.runner, backend)
    if study.runner == "landscape":
        study = replace(study, refit=False)
    return study


def expand(
    study: SearchStudy, candidates: Sequence[dict[str, Any]]
) -> tuple[SearchStudy, list[RunSpec], list[list[RunSpec]]]:
    """Each candidate's wrapped spec and fit specs (one per fold), checked by the runner."""
    wrapped = [
        fits.wrapped_spec(
            study.runner, study.problem, study.optimizer, study.seed, study.fixed(), c
        )
        for c in candidates
    ]
    runner = SearchRunner()
    checked = set()
    for spec in wrapped:
        probe = fits.fit_spec(spec, study.cv, 0, study.backend, study.shuffle)
        if probe.key not in checked:
            runner.check(probe)
            checked.add(probe.key)
    if study.runner != "landscape" and wrapped:
        y, _ = mnist_fits.n_samples(wrapped[0])
        cross_validation.check_size(study.cv, len(y))
    folds = range(study.cv["n_splits"])
    specs = [
        [fits.fit_spec(w, study.cv, k, study.backend, study.shuffle) for k in folds]
        for w in wrapped
    ]
    return study, wrapped, specs


def _for_backend(optimizer: str, backend: str) -> str:
    """The optimizer of the same name in the backend's family (`rmsprop` ↔ `keras.rmsprop`)."""
    name = optimizer.removeprefix("keras.")
    twin = f"keras.{name}" if backend == "keras" else name
    return twin if twin in registry.names("optimizer") else optimizer


def execute(
    specs: Sequence[RunSpec],
    store: ResultsStore,
    runner: SearchRunner,
    quiet: bool = False,
    desc: str = "search",
) -> tuple[pd.DataFrame, int]:
    """Run the fits not yet stored (batch by batch, each written as it ends); their rows."""
    unique = {s.key: s for s in specs}
    stored = store.stored_keys()
    todo = [s for k, s in unique.items() if k not in stored]
    batches = list(runner.batches(todo))
    lanes = TRAINING_LANES if batches and all(map(_jax_network, batches)) else 1
    if 0 < len(batches) < lanes:  # fewer programs than cores: cut the biggest by members
        biggest = max(batches, key=len)
        batches.remove(biggest)
        batches += mnist_fits.split(biggest, lanes - len(batches))
    lanes = min(lanes, len(batches))
    total = sum(runner.work(b) for b in batches)
    with tqdm(total=total, disable=quiet, unit="member-epoch", desc=desc) as bar:
        if lanes <= 1:
            for batch in batches:
                store.write(runner.run(batch, progress=bar.update))
        else:
            with ThreadPoolExecutor(lanes, thread_name_prefix="optbench-search") as pool:
                running = [pool.submit(runner.run, batch, bar.update) for batch in batches]
                for done in as_completed(running):
                    store.write(done.result())
    return stored_rows(store, list(unique)), len(todo)


def _jax_network(batch: Sequence[RunSpec]) -> bool:
    """Whether a batch is a JAX network program (which releases the GIL while it trains)."""
    wrapped, _, _, backend = fits.unwrap(batch[0])
    return wrapped.runner != "landscape" and backend == "jax"


def stored_rows(store: ResultsStore, keys: Sequence[str]) -> pd.DataFrame:
    """The latest stored row of each key (a fit stored twice counts once)."""
    runs = store.load().runs
    runs = runs[keys_in(runs["run_key"], set(keys))].drop_duplicates("run_key", keep="last")
    return runs.set_index("run_key")


def _column(rows: pd.DataFrame, specs: list[list[RunSpec]], name: str) -> np.ndarray:
    values = rows[name] if name in rows else pd.Series(np.nan, index=rows.index)
    return np.array([[values.get(s.key, np.nan) for s in row] for row in specs], dtype=object)


def columns_of(specs: list[list[RunSpec]], rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Stored values as candidates × folds arrays: scores, times, optbench's extra columns."""
    names = ["test_score", "fit_time", "score_time", *EXTRA_COLUMNS]
    if "final_gap" in rows:
        names.append("final_gap")
    return {name: _column(rows, specs, name) for name in names}


def cv_results_of(
    candidates: list[dict[str, Any]],
    specs: list[list[RunSpec]],
    rows: pd.DataFrame,
    more: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """cv_results from stored rows (error rows score NaN), optbench's columns after sklearn's."""
    return cv_results_from(candidates, [s[0].seed for s in specs], columns_of(specs, rows), more)


def cv_results_from(
    candidates: list[dict[str, Any]],
    seeds: Sequence[int],
    columns: dict[str, np.ndarray],
    more: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """cv_results from `columns_of`'s arrays, optbench's columns after scikit-learn's."""
    results = cv_tables.cv_results(
        candidates,
        columns["test_score"].astype(float),
        columns["fit_time"].astype(float),
        columns["score_time"].astype(float),
        more,
    )
    results["seed"] = np.array(seeds)
    if "final_gap" in columns:
        results["median_final_gap"] = np.median(columns["final_gap"].astype(float), axis=1)
    for name in EXTRA_COLUMNS:
        results[name] = np.array([row[0] for row in columns[name]])
    return results


def run_search(
    study: SearchStudy,
    out: str | os.PathLike[str],
    backend: str | None = None,
    quiet: bool = False,
    runner: SearchRunner | None = None,
) -> SearchOutcome:
    """Run `study` (grid, random, halving or optuna), storing every fit under `out`."""
    t0 = time.perf_counter()
    searched = plan(study, backend)
    runner = runner or SearchRunner()
    store = ResultsStore(out)
    if searched.study.strategy == "halving":
        from optbench.runners.search import halving

        results, ran, skipped = halving.run(searched, store, runner, quiet)
    elif searched.study.strategy == "optuna":
        from optbench.runners.search import optuna_search

        results, ran, skipped = optuna_search.run(searched.study, store, runner, quiet)
    else:
        flat = [s for row in searched.fits for s in row]
        rows, ran = execute(flat, store, runner, quiet, desc=study.name)
        results = cv_results_of(searched.candidates, searched.fits, rows)
        skipped = len({s.key for s in flat}) - ran
    best = cv_tables.best_index(results)
    if "median_final_gap" in results:
        best = _best_by_gap(results)
    refit_score = refit_time = float("nan")
    if searched.study.refit:
        spec = _refit_spec(searched, results, best)
        rows, n = execute([spec], store, runner, quiet, desc="refit")
        ran += n
        refit_score = float(rows.loc[spec.key, "test_score"])
        refit_time = float(rows.loc[spec.key, "fit_time"])
    return SearchOutcome(
        cv_results=results,
        best_index=best,
        best_params=dict(results["params"][best]),
        best_score=float(results["mean_test_score"][best]),
        refit_test_score=refit_score,
        refit_time=refit_time,
        path=Path(out),
        ran=ran,
        skipped=skipped,
        wall_s=time.perf_counter() - t0,
        study=searched.study,
    )


def _best_by_gap(results: dict[str, Any]) -> int:
    """Landscapes: the best success rate, ties broken by the smaller median final gap (with
    halving, among the last iteration's candidates, as scikit-learn's best_index_)."""
    rank = np.asarray(results["rank_test_score"])
    pool = np.arange(rank.size)
    if "iter" in results:
        iters = np.asarray(results["iter"])
        pool = pool[iters == iters.max()]
    first = pool[rank[pool] == rank[pool].min()]
    gaps = np.nan_to_num(np.asarray(results["median_final_gap"])[first], nan=np.inf)
    return int(first[np.argmin(gaps)])


def _refit_spec(searched: Plan, results: dict[str, Any], best: int) -> RunSpec:
    study = searched.study
    params = dict(results["params"][best])
    if "n_resources" in results:
        params[study.halving_resource] = int(results["n_resources"][best])
    wrapped = fits.wrapped_spec(
        study.runner, study.problem, study.optimizer, study.seed, study.fixed(), params
    )
    return fits.fit_spec(wrapped, study.cv, cross_validation.REFIT, study.backend, study.shuffle)


def summary(outcome: SearchOutcome, top: int = 10) -> pd.DataFrame:
    """The top candidates by rank, narrow enough for 100 columns: rank, parameters (without the
    `param_` prefix), mean ± std test score, mean fit time, members trained together."""
    table = outcome.table()
    params = [c for c in table.columns if c.startswith("param_")]
    columns = {
        "rank_test_score": "rank",
        **({"iter": "iter", "n_resources": "n_resources"} if "iter" in table else {}),
        **({"optuna_trial": "trial", "optuna_state": "state"} if "optuna_trial" in table else {}),
        **{c: c.removeprefix("param_") for c in params},
        "mean_test_score": "mean_test_score",
        "std_test_score": "std_test_score",
        "mean_fit_time": "fit_time",
        "members_together": "together",
    }
    ranked = table.sort_values("rank_test_score", kind="stable")[list(columns)]
    return ranked.rename(columns=columns).head(top)
