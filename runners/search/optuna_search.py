"""Optuna search: a seeded TPE sampler asked `trials_per_batch` trials at a time (ask/tell);
a batch's trials × folds train through the search's fit machinery (in JAX one vmapped program),
each fit a row in the store, then each trial is told its mean cv score, FAIL or PRUNED."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from optbench.runners.search import optuna_pruning, optuna_settings, optuna_space
from optbench.runners.search import search as searching
from optbench.runners.search.plugin import SearchRunner
from optbench.runners.search.study import SearchStudy

from optbench.spec import RunSpec
from optbench.store import ResultsStore

SUMMED = ("fit_time", "score_time", "compile_s")
FIRST = ("backend", "members_together")


def _whole(
    specs: list[list[RunSpec]], store: ResultsStore, runner: SearchRunner, quiet: bool, desc: str
) -> tuple[dict[str, np.ndarray], int, int]:
    """Train a batch's fits at their full budget (no pruning): columns_of's arrays."""
    flat = [s for row in specs for s in row]
    rows, ran = searching.execute(flat, store, runner, quiet, desc=desc)
    return searching.columns_of(specs, rows), ran, len({s.key for s in flat}) - ran


def _from_curves(batch: optuna_pruning.BatchCurves) -> dict[str, np.ndarray]:
    """columns_of's arrays from epoch-by-epoch curves: the last epoch's scores, times summed
    over epochs, members trained together in the first."""
    out: dict[str, list[list[Any]]] = {}
    for curve in batch.curves:
        last, first = curve.rows[-1], curve.rows[0]
        k = range(len(last))
        scores = [float(r.get("test_score", math.nan)) for r in last]
        out.setdefault("test_score", []).append(scores)
        for name in SUMMED:
            out.setdefault(name, []).append(
                [sum(float(rows[j].get(name, math.nan)) for rows in curve.rows) for j in k]
            )
        for name in FIRST:
            out.setdefault(name, []).append([first[j].get(name, math.nan) for j in k])
    return {name: np.array(values, dtype=object) for name, values in out.items()}


def run(
    study: SearchStudy, store: ResultsStore, runner: SearchRunner, quiet: bool = False
) -> tuple[dict[str, Any], int, int]:
    """(cv_results, fits trained, fits found stored) of a planned optuna search."""
    optuna = optuna_space.require()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = optuna_space.parse(study.space)
    pruning = optuna_settings.pruner_spec(study)[0] != "none"
    tuner = optuna.create_study(
        direction="maximize",
        sampler=optuna_settings.sampler(study),
        pruner=optuna_settings.pruner(study),
    )
    n_trials, per = int(study.n_trials), int(study.trials_per_batch)
    n_batches = -(-n_trials // per)
    candidates: list[dict[str, Any]] = []
    seeds: list[int] = []
    columns: list[dict[str, np.ndarray]] = []
    epochs: list[int] = []
    ran = skipped = 0
    for b in range(n_batches):
        trials = [tuner.ask(space.distributions) for _ in range(min(per, n_trials - b * per))]
        batch = [space.params(t) for t in trials]
        _, _, specs = searching.expand(study, batch)
        desc = f"{study.name} batch {b + 1}/{n_batches}"
        pruned = [False] * len(trials)
        if pruning:
            curves = optuna_pruning.train(trials, specs, store, quiet, desc)
            got, n_ran, n_skipped = _from_curves(curves), curves.ran, curves.skipped
            pruned = [c.pruned for c in curves.curves]
            epochs += [len(c.rows) for c in curves.curves]
        else:
            got, n_ran, n_skipped = _whole(specs, store, runner, quiet, desc)
        ran, skipped = ran + n_ran, skipped + n_skipped
        scores = got["test_score"].astype(float)
        for i, trial in enumerate(trials):
            value = float(np.mean(scores[i]))
            if pruned[i]:
                tuner.tell(trial, state=optuna.trial.TrialState.PRUNED)
                scores[i] = math.nan  # not trained to its budget: not comparable, ranks last
            elif math.isnan(value):
                tuner.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                tuner.tell(trial, value)
        columns.append(got | {"test_score": scores.astype(object)})
        candidates += batch
        seeds += [row[0].seed for row in specs]
    stacked = {k: np.concatenate([c[k] for c in columns]) for k in columns[0]}
    results = searching.cv_results_from(candidates, seeds, stacked)
    return results | _optuna_columns(tuner.trials, epochs if pruning else None), ran, skipped


def _optuna_columns(trials: Sequence[Any], epochs: list[int] | None) -> dict[str, np.ndarray]:
    """optuna's view of each trial: its number, state, value (for a pruned trial the last
    value it reported) and, when pruning, the epochs it trained."""
    out = {
        "optuna_trial": np.array([t.number for t in trials]),
        "optuna_state": np.array([t.state.name for t in trials], dtype=object),
        "optuna_value": np.array([math.nan if t.value is None else t.value for t in trials]),
    }
    if epochs is not None:
        out["optuna_epochs"] = np.array(epochs)
    return out
