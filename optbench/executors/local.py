"""The local executor: one thread per runner lane, each running its lane's tasks in order.

A runner's lanes are work that can overlap in one process: the landscape runner's compiled optax
programs in this process beside its scipy process pool (which the runner itself owns).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from typing import Any

from optbench.executors import Finished
from optbench.executors.tasks import Task, describe, one_per_batch, run_task

_STOP = object()


class LocalExecutor:
    """Runs tasks in this process, lane by lane, each lane in its own daemon thread."""

    name = "local"

    def __init__(self, runner: Any):
        self.runner = runner
        self._lanes: dict[str, queue.SimpleQueue] = {}
        self._done: queue.SimpleQueue[Finished | BaseException] = queue.SimpleQueue()
        self._cancelled = threading.Event()
        self._stop = threading.Event()

    @property
    def slots(self) -> int:
        return max(1, len(self._lanes))

    def shape(self, batches: Sequence[Sequence[Any]], lane: Any) -> list[Task]:
        return one_per_batch(batches, lane)

    def submit(self, task: Task) -> None:
        if task.lane not in self._lanes:
            inbox: queue.SimpleQueue = queue.SimpleQueue()
            self._lanes[task.lane] = inbox
            name = f"optbench-lane-{task.lane or 'main'}"
            threading.Thread(target=self._work, args=(inbox,), name=name, daemon=True).start()
        self._lanes[task.lane].put(task)

    def _work(self, inbox: queue.SimpleQueue) -> None:
        while (task := inbox.get()) is not _STOP:
            if self._cancelled.is_set():
                continue
            if self._stop.is_set():
                self._done.put(Finished(task))
                continue
            try:
                self._done.put(Finished(task, result=run_task(self.runner, task)))
            except Exception as exc:
                self._done.put(Finished(task, failure=describe(exc)))
            except BaseException as exc:  # an interrupt inside the runner stops the study
                self._done.put(exc)

    def next_finished(self) -> Finished:
        finished = self._done.get()
        if isinstance(finished, BaseException):
            raise finished
        return finished

    def stop_when(self, stop: threading.Event) -> None:
        """Once `stop` is set, start no queued task: each is returned unrun (no result or
        failure); the tasks running finish."""
        self._stop = stop

    def cancel(self) -> None:
        self._cancelled.set()

    def close(self) -> None:
        self._cancelled.set()
        for inbox in self._lanes.values():
            inbox.put(_STOP)
