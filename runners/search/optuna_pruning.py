"""One batch of optuna trials trained epoch by epoch in the JAX backend: after every epoch each
trial reports its fold-mean validation score and the pruner's verdict stops it there; the
unpruned trials' members continue from their state (as successive halving's survivors do).
Every (trial, fold, epoch) is a fit row in the store, so a rerun replays it without training."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from optbench.runners.mnist import plugin as mnist
from optbench.runners.search import fits, mnist_fits
from optbench.runners.search.plugin import error_result
from tqdm.auto import tqdm

from optbench.contracts import RunResult
from optbench.errors import OptbenchError
from optbench.spec import RunSpec, freeze
from optbench.store import ResultsStore

if TYPE_CHECKING:
    from optbench.runners.mnist.members import MemberGroup
    from optuna.trial import Trial


@dataclass
class Curve:
    """One trial's fit rows epoch by epoch (each a list over folds), and whether it was pruned."""

    epochs: int
    rows: list[list[pd.Series]] = field(default_factory=list)
    pruned: bool = False


@dataclass
class BatchCurves:
    """What an epoch-by-epoch batch trained: each trial's curve, fits trained and replayed."""

    curves: list[Curve]
    ran: int = 0
    skipped: int = 0


def epochs_of(spec: RunSpec) -> int:
    """The epochs budget of a fit."""
    return int(spec.budgets.get("epochs", mnist.DEFAULT_EPOCHS))


def at_epoch(spec: RunSpec, epochs: int) -> RunSpec:
    """The same fit with an epochs budget of `epochs` (the row of its score at that epoch)."""
    wrapped = fits.unwrap(spec)[0]
    budget = wrapped.budgets | {"epochs": epochs}
    return fits.rewrapped(spec, dataclasses.replace(wrapped, budget=freeze(budget)))


def _member_seed(spec: RunSpec) -> int:
    wrapped, _, fold, _ = fits.unwrap(spec)
    return fits.member_seed(wrapped, fold)


def _continued(
    batch: Sequence[RunSpec],
    previous: MemberGroup | None,
    epoch: int,
    progress: Callable[[int], None],
) -> tuple[RunResult, MemberGroup | None]:
    """Train `batch` to `epoch`, continuing `previous` when it holds all its members one epoch
    short (else from scratch); a failure is error rows and no group."""
    if previous is not None:
        held = {m.seed for m in previous.members}
        wanted = {_member_seed(s) for s in batch}
        if previous.epoch != epoch - 1 or not wanted <= held:
            previous = None
    try:
        return mnist_fits.continue_group(batch, previous, progress)
    except OptbenchError:
        raise
    except Exception as exc:  # a failing group is rows with score NaN, the search goes on
        return error_result(batch, exc), None


def _stored(store: ResultsStore) -> pd.DataFrame:
    runs = store.load(curves=False).runs
    return runs.drop_duplicates("run_key", keep="last").set_index("run_key")


def train(
    trials: Sequence[Trial],
    specs: Sequence[Sequence[RunSpec]],
    store: ResultsStore,
    quiet: bool = False,
    desc: str = "optuna",
) -> BatchCurves:
    """Train the batch's trials (fit specs per fold at their full epochs) epoch by epoch,
    reporting to and pruning by optuna; a trial with a NaN score stops (it fails)."""
    epochs = [epochs_of(row[0]) for row in specs]
    out = BatchCurves([Curve(e) for e in epochs])
    stored, cache = store.stored_keys(), None
    groups: dict[Any, MemberGroup] = {}
    alive = list(range(len(trials)))
    total = sum(e * len(row) for e, row in zip(epochs, specs, strict=True))
    bar = tqdm(total=total, disable=quiet, unit="member-epoch", desc=desc)
    rows: dict[str, pd.Series] = {}
    for epoch in range(1, max(epochs) + 1):
        active = [i for i in alive if epoch <= epochs[i]]
        need = {i: [at_epoch(s, epoch) for s in specs[i]] for i in active}
        by_group: dict[Any, dict[str, RunSpec]] = {}
        for i in active:
            for spec in need[i]:
                by_group.setdefault(mnist_fits.group_key(spec), {})[spec.key] = spec
        for key, unique in by_group.items():
            batch = list(unique.values())
            if all(s.key in stored for s in batch):
                cache = _stored(store) if cache is None else cache
                rows |= {s.key: cache.loc[s.key] for s in batch}
                groups.pop(key, None)
                out.skipped += len(batch)
                bar.update(len(batch))
                continue
            result, group = _continued(batch, groups.pop(key, None), epoch, bar.update)
            store.write(result)
            stored |= {s.key for s in batch}
            rows |= dict(result.rows.set_index("run_key", drop=False).iterrows())
            if group is not None:
                groups[key] = group
            out.ran += len(batch)
        for i in active:
            curve = out.curves[i]
            curve.rows.append([rows[s.key] for s in need[i]])
            value = float(np.mean([float(r.get("test_score", math.nan)) for r in curve.rows[-1]]))
            if math.isnan(value):
                alive.remove(i)
                continue
            trials[i].report(value, epoch)
            if epoch < epochs[i] and trials[i].should_prune():
                curve.pruned = True
                alive.remove(i)
    bar.close()
    return out
