"""Executors: where a study's tasks run. `local` (threads per runner lane, the runner's own process
pool) or `dask` (a Dask distributed cluster). Both share one small interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from optbench.contracts import RunResult
from optbench.errors import OptbenchError
from optbench.executors.tasks import Task

EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class Finished:
    """A task that ended: its result, or why it could not run (its runs become rows with
    `status`, `error` or `timeout`, and the reason as their message); neither when it was
    drained unrun after a stop."""

    task: Task
    result: RunResult | None = None
    failure: str | None = None
    status: str = "error"


class Executor(Protocol):
    """Runs tasks somewhere; the study driver keeps at most a few per slot in flight."""

    name: str

    @property
    def slots(self) -> int:
        """How many tasks run at once now (worker threads)."""
        ...

    def shape(self, batches: Sequence[Sequence[Any]], lane: Any) -> list[Task]:
        """The runner's batches as this executor's tasks."""
        ...

    def submit(self, task: Task) -> None: ...

    def next_finished(self) -> Finished:
        """Block until a submitted task ends and return it (each task is returned once)."""
        ...

    def cancel(self) -> None:
        """Drop every task not finished yet."""
        ...

    def close(self) -> None: ...


def make_executor(name: str, runner: Any, scheduler: str | None = None) -> Executor:
    """The executor called `name` for `runner`; `scheduler` is a Dask address (dask only)."""
    if name not in EXECUTORS:
        raise OptbenchError(f"unknown executor {name!r}; allowed: {', '.join(EXECUTORS)}")
    if name == "local":
        if scheduler is not None:
            raise OptbenchError(
                f"--scheduler {scheduler!r} needs --executor dask (the local executor has none)"
            )
        from optbench.executors.local import LocalExecutor

        return LocalExecutor(runner)
    try:
        from optbench.executors.dask import DaskExecutor
    except ModuleNotFoundError as exc:
        raise OptbenchError(
            f"the dask executor needs Dask distributed ({exc.name} is missing): "
            "pip install 'optbench[dask]'"
        ) from None
    return DaskExecutor(runner, scheduler)


__all__ = ["EXECUTORS", "Executor", "Finished", "Task", "make_executor"]
