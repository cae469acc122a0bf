"""Tasks: the runner's batches shaped for an executor, and the function a worker runs on one."""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optbench.contracts import CURVE_COLUMNS, RunResult
from optbench.environment import environment
from optbench.spec import RunSpec

SPLIT_ABOVE = 256
"""A batch is never cut into pieces of fewer runs than this (one compiled program serves it)."""

PACK_UP_TO = 256
"""Small batches of one lane are packed into one task until it holds about this many runs."""

TASKS_PER_SLOT = 4


@dataclass(frozen=True)
class Task:
    """Runner batches sent to one worker together; `key` names its part file."""

    key: str
    batches: tuple[tuple[RunSpec, ...], ...]
    lane: str = ""

    @property
    def specs(self) -> list[RunSpec]:
        return [spec for batch in self.batches for spec in batch]

    def __len__(self) -> int:
        return sum(len(batch) for batch in self.batches)


def task_key(batches: Iterable[Sequence[RunSpec]]) -> str:
    """A stable 16-hex-digit name from the run keys a task holds."""
    keys = sorted(spec.key for batch in batches for spec in batch)
    return hashlib.sha256(",".join(keys).encode()).hexdigest()[:16]


def make_task(batches: Iterable[Sequence[RunSpec]], lane: str = "") -> Task:
    frozen = tuple(tuple(batch) for batch in batches)
    return Task(task_key(frozen), frozen, lane)


def one_per_batch(batches: Iterable[Sequence[RunSpec]], lane: Callable[[Any], str]) -> list[Task]:
    """The local shape: each runner batch is a task in the runner's lane, as the runner made it."""
    return [make_task([batch], lane(batch)) for batch in batches]


def shaped(batches: Sequence[Sequence[RunSpec]], slots: int) -> list[Task]:
    """The distributed shape: large batches cut into pieces (never below `SPLIT_ABOVE` runs) so
    every slot gets work, small ones packed into tasks of about `PACK_UP_TO` runs."""
    total = sum(len(batch) for batch in batches)
    piece = max(SPLIT_ABOVE, math.ceil(total / (TASKS_PER_SLOT * max(1, slots))))
    pieces: list[tuple[RunSpec, ...]] = []
    for batch in batches:
        if len(batch) <= piece + SPLIT_ABOVE // 2:
            pieces.append(tuple(batch))
            continue
        count = math.ceil(len(batch) / piece)
        size = math.ceil(len(batch) / count)
        pieces.extend(tuple(batch[i : i + size]) for i in range(0, len(batch), size))
    tasks: list[Task] = []
    packed: list[tuple[RunSpec, ...]] = []
    for batch in pieces:
        if packed and sum(map(len, packed)) + len(batch) > PACK_UP_TO:
            tasks.append(make_task(packed))
            packed = []
        packed.append(batch)
    if packed:
        tasks.append(make_task(packed))
    return tasks


def _device() -> str:
    """The JAX device if JAX is loaded here already (an error row should not import it)."""
    if "jax" not in sys.modules:
        return "unknown"
    from optbench.environment import jax_device

    return jax_device()


def error_rows(specs: Sequence[RunSpec], reason: str, status: str = "error") -> pd.DataFrame:
    """One row per spec with `status` (`error`, or `timeout`) and the reason in `message`."""
    env = environment(_device())
    rows = [spec.columns() | {"status": status, "message": reason} for spec in specs]
    return pd.DataFrame(rows).assign(**env)


def describe(exc: BaseException) -> str:
    """`Type: message`, the text an error row carries."""
    return f"{type(exc).__name__}: {exc}"


def _concat(results: Sequence[RunResult]) -> RunResult:
    rows = [r.rows for r in results if not r.rows.empty]
    curves = [r.curves for r in results if not r.curves.empty]
    return RunResult(
        pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(),
        pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=CURVE_COLUMNS),
    )


def run_isolating(runner: Any, batch: Sequence[RunSpec]) -> RunResult:
    """`runner.run(batch)`; when it raises, halves are run until the specs that raise are alone,
    and those become error rows with the message (the other specs keep their real rows)."""
    try:
        return runner.run(list(batch))
    except Exception as exc:
        if len(batch) == 1:
            return RunResult(error_rows(batch, describe(exc)))
    middle = len(batch) // 2
    return _concat([run_isolating(runner, batch[:middle]), run_isolating(runner, batch[middle:])])


def run_task(runner: Any, task: Task) -> RunResult:
    """Every batch of a task, through the runner, as one result (rows of all batches)."""
    return _concat([run_isolating(runner, batch) for batch in task.batches])


HARD_LIMIT_FACTOR = 3.0
HARD_LIMIT_GRACE_S = 60.0


def hard_limit(task: Task) -> float | None:
    """Seconds past which a task's worker counts as stuck: when every run has a `seconds` budget
    (which the runner enforces, `status="timeout"`), a multiple of their sum and a grace; else
    None (no limit)."""
    seconds = [spec.budgets.get("seconds") for spec in task.specs]
    if not seconds or any(s is None for s in seconds):
        return None
    return HARD_LIMIT_FACTOR * float(sum(seconds)) + HARD_LIMIT_GRACE_S
