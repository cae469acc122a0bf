"""Successive halving with scikit-learn's rules (factor, min_resources, max_resources,
aggressive_elimination) over epochs (networks) or steps (landscapes). Unlike scikit-learn,
network survivors continue training from their state at the previous rung instead of being
retrained from scratch; landscape survivors are rerun from their start with the rung's step
budget, which equals continuing (a landscape run is deterministic and its steps do not depend on
the budget) and costs little."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from optbench.runners.search import fits, mnist_fits
from optbench.runners.search import results as cv_tables
from optbench.runners.search.study import SearchStudy, max_resources

from optbench.spec import RunSpec, freeze
from optbench.store import ResultsStore

Evaluate = Callable[[Sequence[int], int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def schedule(
    n_candidates: int,
    factor: float,
    min_resources: int | str,
    max_resources: int,
    aggressive_elimination: bool,
) -> tuple[int, list[int]]:
    """(min_resources_, resources of each iteration) as HalvingGridSearchCV computes them."""
    n_required = 1 + math.floor(math.log(n_candidates, factor))
    low = 1
    if min_resources == "exhaust":
        low = max(low, max_resources // factor ** (n_required - 1))
    elif isinstance(min_resources, int):
        low = min_resources
    low = int(low)
    n_possible = 1 + math.floor(math.log(max_resources // low, factor))
    n_iterations = n_required if aggressive_elimination else min(n_possible, n_required)
    resources = []
    for itr in range(n_iterations):
        power = itr
        if aggressive_elimination:
            power = max(0, itr - n_required + n_possible)
        resources.append(min(int(factor**power * low), max_resources))
    return low, resources


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best mean scores, NaN last, in scikit-learn's (ascending) order."""
    order = np.roll(np.argsort(scores), np.count_nonzero(np.isnan(scores)))
    return order[-k:]


def search(
    candidates: Sequence[dict[str, Any]],
    evaluate: Evaluate,
    factor: float,
    min_resources: int | str,
    max_resources_: int,
    aggressive_elimination: bool,
    resource: str = "epochs",
) -> dict[str, Any]:
    """Halving over `candidates`; `evaluate(indices, n_resources)` gives (scores, fit times,
    score times), candidates × splits. cv_results as HalvingGridSearchCV's `cv_results_`."""
    _, resources = schedule(
        len(candidates), factor, min_resources, max_resources_, aggressive_elimination
    )
    alive = np.arange(len(candidates))
    seen: list[dict[str, Any]] = []
    parts: list[tuple[np.ndarray, ...]] = []
    iters, n_res = [], []
    for itr, n_resources in enumerate(resources):
        scores, fit_t, score_t = evaluate(list(alive), n_resources)
        seen.extend(dict(candidates[i]) | {resource: n_resources} for i in alive)
        parts.append((scores, fit_t, score_t))
        iters += [itr] * len(alive)
        n_res += [n_resources] * len(alive)
        keep = math.ceil(len(alive) / factor)
        alive = alive[top_k(np.nanmean(scores, axis=1) if scores.size else scores, keep)]
    arrays = [np.concatenate([p[i] for p in parts]) for i in range(3)]
    return cv_tables.cv_results(
        seen,
        *arrays,
        more={"iter": np.array(iters), "n_resources": np.array(n_res)},
    )


def run(plan: Any, store: ResultsStore, runner: Any, quiet: bool) -> tuple[dict, int, int]:
    """Halving of a planned search; every rung's fits are rows in the store."""
    if plan.study.runner == "landscape":
        return _run_landscape(plan, store, runner, quiet)
    return _run_mnist(plan, store, runner, quiet)


def _run_landscape(plan: Any, store: ResultsStore, runner: Any, quiet: bool):
    """Halving over step budgets: each rung reruns its survivors' starts with more steps."""
    from optbench.runners.search.search import execute

    study: SearchStudy = plan.study
    ran = skipped = 0
    extras: list[tuple[np.ndarray, np.ndarray]] = []
    gaps: list[np.ndarray] = []

    def evaluate(indices: Sequence[int], n_resources: int):
        nonlocal ran, skipped
        specs = [[_with_budget(s, "steps", n_resources) for s in plan.fits[i]] for i in indices]
        flat = [s for row in specs for s in row]
        rows, n = execute(flat, store, runner, quiet, desc=f"{study.name} steps={n_resources}")
        ran, skipped = ran + n, skipped + len({s.key for s in flat}) - n
        gaps.append(np.median(_table(rows, specs, "final_gap"), axis=1))
        return _scores(rows, specs, extras)

    results = _search_rungs(plan, evaluate, resource="steps")
    results["median_final_gap"] = np.concatenate(gaps)
    return _with_extras(results, study, extras), ran, skipped


def _table(rows: pd.DataFrame, specs: list[list[RunSpec]], name: str) -> np.ndarray:
    """Column `name` of the fits' rows (indexed by run key), candidates × splits."""
    return np.array([[rows.loc[s.key, name] for s in row] for row in specs], dtype=float)


def _scores(rows: pd.DataFrame, specs: list[list[RunSpec]], extras: list) -> tuple:
    """(test scores, fit times, score times) of a rung; its optbench columns go to `extras`."""
    take = lambda name: _table(rows, specs, name)  # noqa: E731
    extras.append((take("members_together")[:, 0], take("compile_s")[:, 0]))
    return take("test_score"), take("fit_time"), take("score_time")


def _search_rungs(plan: Any, evaluate: Evaluate, resource: str = "epochs") -> dict[str, Any]:
    """`search` with the study's halving settings."""
    study: SearchStudy = plan.study
    return search(
        plan.candidates,
        evaluate,
        study.factor,
        study.min_resources,
        max_resources(study),
        study.aggressive_elimination,
        resource=resource,
    )


def _with_extras(results: dict, study: SearchStudy, extras: list) -> dict:
    """optbench's columns after scikit-learn's: seed, backend, members trained together, compile
    seconds."""
    results["seed"] = np.full(len(results["params"]), study.seed)
    results["backend"] = np.full(len(results["params"]), study.backend)
    results["members_together"] = np.concatenate([e[0] for e in extras]).astype(int)
    results["compile_s"] = np.concatenate([e[1] for e in extras])
    return results


def _run_mnist(plan: Any, store: ResultsStore, runner: Any, quiet: bool):
    """Halving over epochs; survivors continue from their trained state. A group of fits whose
    rows are all stored (a search run again after an interruption) is read, not trained; its
    state is not stored, so its survivors train from the start at the next rung, which gives
    what continuing would."""
    from optbench.runners.search.search import stored_rows
    from tqdm.auto import tqdm

    study: SearchStudy = plan.study
    n_splits = study.cv["n_splits"]
    groups: dict[Any, Any] = {}
    ran = skipped = 0
    _, resources = schedule(
        len(plan.candidates),
        study.factor,
        study.min_resources,
        max_resources(study),
        study.aggressive_elimination,
    )
    kept = [math.ceil(len(plan.candidates) / study.factor**i) for i in range(len(resources))]
    steps = [r - (resources[i - 1] if i else 0) for i, r in enumerate(resources)]
    total = sum(k * n_splits * s for k, s in zip(kept, steps, strict=True))
    bar = tqdm(total=total, disable=quiet, unit="member-epoch", desc=study.name)

    extras: list[tuple[np.ndarray, np.ndarray]] = []
    rung = iter(range(len(resources)))

    def evaluate(indices: Sequence[int], n_resources: int):
        nonlocal ran, skipped, groups
        itr = next(rung)
        trained_before = resources[itr - 1] if itr else 0
        specs = [
            [_with_epochs(plan.fits[i][k], n_resources) for k in range(n_splits)] for i in indices
        ]
        by_group: dict[Any, list[RunSpec]] = {}
        for spec in [s for row in specs for s in row]:
            by_group.setdefault(mnist_fits.group_key(spec), []).append(spec)
        stored = store.stored_keys()
        frames, new_groups, read = [], {}, []
        for key, batch in by_group.items():
            if all(spec.key in stored for spec in batch):
                read += [spec.key for spec in batch]
                bar.update(len(batch) * steps[itr])
                continue
            previous = groups.get(key)
            if previous is None and trained_before:  # its state went with the process before
                bar.total += len(batch) * trained_before
                bar.refresh()
            result, new_groups[key] = mnist_fits.continue_group(batch, previous, bar.update)
            store.write(result)
            frames.append(result.rows)
            ran += len(batch)
        groups = new_groups
        if read:
            frames.append(stored_rows(store, read).reset_index())
            skipped += len(read)
        frame = pd.concat(frames, ignore_index=True).set_index("run_key")
        return _scores(frame, specs, extras)

    results = _search_rungs(plan, evaluate)
    bar.close()
    return _with_extras(results, study, extras), ran, skipped


def _with_epochs(spec: RunSpec, epochs: int) -> RunSpec:
    return _with_budget(spec, "epochs", epochs)


def _with_budget(spec: RunSpec, name: str, value: int) -> RunSpec:
    """The fit spec with one budget (epochs, steps) set to `value`."""
    budget = spec.budgets | {name: value}
    wrapped = fits.unwrap(spec)[0]
    return fits.rewrapped(spec, dataclasses.replace(wrapped, start=0, budget=freeze(budget)))
