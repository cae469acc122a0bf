"""Search fits of the MNIST runner in JAX: fits that share a program train together in one
`MemberGroup`, and a configuration's fits that differ only in epochs share one training run."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from optbench.optimizers import schedules
from optbench.runners.mnist import plugin as mnist
from optbench.runners.mnist.members import Member, MemberGroup, program_key
from optbench.runners.mnist.model import ModelConfig
from optbench.runners.search import cv as cross_validation
from optbench.runners.search import fits

from optbench import registry
from optbench.contracts import CURVE_COLUMNS, RunResult
from optbench.environment import environment, jax_device
from optbench.errors import OptbenchError
from optbench.spec import RunSpec

CALLBACK_OPTIONS = ("early_stopping", "reduce_lr_patience", "checkpoint", "save_dir")


def options(wrapped: RunSpec) -> dict[str, Any]:
    return mnist.OPTIONS | wrapped.opts


def check(wrapped: RunSpec, backend: str) -> None:
    """The wrapped MNIST spec is valid and trainable by the search's backend."""
    mnist.runner.check(wrapped)
    opts = options(wrapped)
    used = [name for name in CALLBACK_OPTIONS if opts[name] not in (0, False, None)]
    if used:
        raise OptbenchError(
            f"a search trains without callbacks; unset {', '.join(used)} (got "
            f"{', '.join(f'{name}={opts[name]!r}' for name in used)})"
        )
    family = registry.optimizer(wrapped.optimizer).family
    wanted = "keras" if backend == "keras" else "optax"
    if family != wanted:
        raise OptbenchError(
            f"backend {backend!r} trains {wanted} optimizers; {wrapped.optimizer!r} is a "
            f"{family} optimizer (use {'keras.' if backend == 'keras' else ''}"
            f"{wrapped.optimizer.removeprefix('keras.')})"
        )


@cache
def arrays(problem: str, data_dir: str | None, subset: int | None) -> tuple[Any, ...]:
    """(training images, labels, test images, labels) of a problem, loaded once per process."""
    data = mnist._data(problem, data_dir, "test", 0, subset)
    return data.x_train, data.y_train, data.x_test, data.y_test


def data_of(wrapped: RunSpec) -> tuple[Any, ...]:
    opts = options(wrapped)
    subset = None if opts["subset"] is None else int(opts["subset"])
    return arrays(wrapped.problem, opts["data"], subset)


def n_samples(wrapped: RunSpec) -> tuple[np.ndarray, np.ndarray]:
    """The training labels cross-validation splits, and the test labels."""
    _, y, _, y_test = data_of(wrapped)
    return y, y_test


def rows_of(wrapped: RunSpec, cv: dict[str, Any], fold: int | str) -> tuple[np.ndarray, ...]:
    """(train rows, scored rows) into the training images followed by the test images."""
    y, y_test = n_samples(wrapped)
    split = cross_validation.fold_indices(cv, y, fold)
    if split is None:
        return np.arange(len(y), dtype=np.int32), len(y) + np.arange(len(y_test), dtype=np.int32)
    return split


def _stacked(problem: str, data_dir: str | None, subset: int | None) -> tuple[Any, Any]:
    """Training then test images and labels, built once even when two lanes ask at once."""
    with _STACKING:
        return _stack_once(problem, data_dir, subset)


@cache
def _stack_once(problem: str, data_dir: str | None, subset: int | None) -> tuple[Any, Any]:
    x, y, x_test, y_test = arrays(problem, data_dir, subset)
    return np.concatenate([x, x_test]), np.concatenate([y, y_test]).astype(np.int32)


_STACKING = threading.Lock()


def _program_hp(hp: dict[str, Any]) -> tuple:
    """Hyperparameters as far as they shape the program: float values of a constant-rate
    optimizer live in its state (members may differ), everything else must be equal."""
    own, schedule = schedules.split(hp)
    constant = schedules.is_constant(schedule)
    shaped = tuple(
        (k, "float" if constant and isinstance(v, float) else v) for k, v in sorted(own.items())
    )
    return shaped + tuple(sorted(schedule.items()))


def group_key(spec: RunSpec) -> tuple:
    """Fits with equal keys train in one program."""
    wrapped, cv, fold, _ = fits.unwrap(spec)
    opts = options(wrapped)
    train, test = rows_of(wrapped, cv, fold)
    return (
        wrapped.problem,
        opts["data"],
        opts["subset"],
        program_key(ModelConfig.from_options(opts)),
        int(opts["batch_size"]),
        wrapped.optimizer,
        _program_hp(wrapped.hp),
        len(train),
        len(test),
    )


def member_epochs(specs: Sequence[RunSpec]) -> int:
    return sum(
        max(int(s.budgets.get("epochs", mnist.DEFAULT_EPOCHS)) for s in same)
        for same in _members(specs).values()
    )


def split(specs: Sequence[RunSpec], parts: int) -> list[list[RunSpec]]:
    """A batch cut into at most `parts` batches of whole members (a member's fits that differ
    only in epochs stay together); results do not depend on the cut."""
    members = list(_members(specs).values())
    sizes = [len(members) // parts + (i < len(members) % parts) for i in range(parts)]
    out, start = [], 0
    for size in (n for n in sizes if n):
        out.append([spec for same in members[start : start + size] for spec in same])
        start += size
    return out


def _members(specs: Sequence[RunSpec]) -> dict[int, list[RunSpec]]:
    """Fits by member: fits of one configuration and fold that differ only in epochs."""
    out: dict[int, list[RunSpec]] = {}
    for spec in specs:
        wrapped, _, fold, _ = fits.unwrap(spec)
        out.setdefault(fits.member_seed(wrapped, fold), []).append(spec)
    return out


def _seed_of(spec: RunSpec) -> int:
    wrapped, _, fold, _ = fits.unwrap(spec)
    return fits.member_seed(wrapped, fold)


def _new_members(specs_by_member: Sequence[list[RunSpec]]) -> list[Member]:
    members = []
    for same in specs_by_member:
        wrapped, cv, fold, _ = fits.unwrap(same[0])
        train, test = rows_of(wrapped, cv, fold)
        batch_size = int(options(wrapped)["batch_size"])
        plugin = registry.optimizer(wrapped.optimizer)
        tx = mnist.build_optimizer(plugin, wrapped.hp, -(-len(train) // batch_size))
        config = ModelConfig.from_options(options(wrapped))
        shared = fits.shuffle_of(same[0]) == "fold"
        order_seed = fits.order_seed(wrapped, cv, fold) if shared else None
        member = Member(config, tx, fits.member_seed(wrapped, fold), train, test, order_seed)
        members.append(member)
    return members


def _group(
    specs: Sequence[RunSpec],
    by_member: Sequence[list[RunSpec]],
    memory_bytes: int | None,
    chunk: int | None,
) -> MemberGroup:
    first = fits.unwrap(specs[0])[0]
    opts = options(first)
    x_all, y_all = _stacked(first.problem, opts["data"], opts["subset"])
    kwargs = {} if memory_bytes is None else {"memory_bytes": memory_bytes}
    return MemberGroup(
        x_all,
        y_all,
        _new_members(by_member),
        int(opts["batch_size"]),
        chunk=chunk,
        program_id=group_key(specs[0]),
        **kwargs,
    )


def run_group(
    specs: Sequence[RunSpec],
    progress: Callable[[int], None] | None = None,
    memory_bytes: int | None = None,
    chunk: int | None = None,
) -> RunResult:
    """Train one group's members together; a row (and a loss curve) per fit."""
    t0 = time.perf_counter()
    by_member = list(_members(specs).values())
    group = _group(specs, by_member, memory_bytes, chunk)
    return _train_and_score(group, by_member, progress, t0)


def continue_group(
    specs: Sequence[RunSpec],
    previous: MemberGroup | None,
    progress: Callable[[int], None] | None = None,
) -> tuple[RunResult, MemberGroup]:
    """As `run_group`, continuing the members already trained in `previous` from their state
    (successive halving's survivors); the group, to continue it again."""
    t0 = time.perf_counter()
    by_member = list(_members(specs).values())
    if previous is None:
        group = _group(specs, by_member, None, None)
    else:
        position = {m.seed: i for i, m in enumerate(previous.members)}
        seeds = [_seed_of(same[0]) for same in by_member]
        group = previous.keep([position[seed] for seed in seeds])
    return _train_and_score(group, by_member, progress, t0), group


def _train_and_score(
    group: MemberGroup,
    by_member: Sequence[list[RunSpec]],
    progress: Callable[[int], None] | None,
    t0: float,
) -> RunResult:
    epochs_of = [[int(s.budgets.get("epochs", mnist.DEFAULT_EPOCHS)) for s in same]
                 for same in by_member]  # fmt: skip
    start = group.epoch
    scores: dict[tuple[int, int], tuple[float, float, float, float]] = {}
    losses: list[np.ndarray] = []
    for target in sorted({e for es in epochs_of for e in es}):
        losses.append(group.train_to(target, progress))
        loss, acc = group.evaluate()
        for i, wanted in enumerate(epochs_of):
            if target in wanted:
                scores[(i, target)] = (acc[i], loss[i], group.train_s, group.score_s)
    n = len(group.members)
    curve = np.concatenate(losses) if losses else np.empty((0, n))
    rows, curves = [], []
    for i, same in enumerate(by_member):
        for spec in same:
            epochs = int(spec.budgets.get("epochs", mnist.DEFAULT_EPOCHS))
            acc, loss, train_s, score_s = scores[(i, epochs)]
            train_loss = float(curve[epochs - 1 - start, i])
            rows.append(
                spec.columns()
                | {
                    "status": "diverged" if not math.isfinite(train_loss) else "budget",
                    "test_score": float(acc),
                    "score_loss": float(loss),
                    "train_loss": train_loss,
                    "epochs": epochs,
                    "fit_time": train_s / n,
                    "score_time": score_s / n,
                    "backend": "jax",
                    "members_together": n,
                    "chunks": len(group.chunk_sizes),
                    "compile_s": group.compile_s,
                    "wall_s": time.perf_counter() - t0,
                    "n_train": len(group.members[i].train_rows),
                    "n_scored": len(group.members[i].test_rows),
                }
            )
            curves.extend(
                (spec.key, e + 1, "train_loss", float(curve[e - start, i]))
                for e in range(start, epochs)
            )
    frame = pd.DataFrame(rows)
    env = environment(jax_device())
    frame = frame.assign(**{k: [v] * len(frame) for k, v in env.items()})
    return RunResult(frame, pd.DataFrame.from_records(curves, columns=CURVE_COLUMNS))
