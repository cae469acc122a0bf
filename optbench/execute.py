"""Run a study: expand it, skip what is stored, run the rest task by task on an executor, write
each finished task as it arrives (one writer, each run key once)."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optbench import registry
from optbench.contracts import RunResult
from optbench.executors import Executor, Finished, make_executor
from optbench.executors.tasks import Task, error_rows
from optbench.progress import StudyBar
from optbench.signals import Interrupted, graceful_stop
from optbench.spec import RunSpec
from optbench.store import Results, ResultsStore, keys_in
from optbench.study import Study

DEFAULT_BATCH = 2000
WINDOW_PER_SLOT = 2
"""Tasks in flight per executor slot (and lane): enough to keep workers busy, few futures."""


@dataclass(frozen=True)
class StudyOutcome:
    """What a study run did: its rows (new and previously stored), counts and timing."""

    results: Results
    path: Path
    ran: int
    skipped: int
    wall_s: float


@dataclass(frozen=True)
class StudyStatus:
    """How far a study is under a results folder: distinct runs, stored, left to run."""

    total: int
    done: int
    left: int


def _default_batches(specs: Sequence[RunSpec]) -> Iterator[list[RunSpec]]:
    for i in range(0, len(specs), DEFAULT_BATCH):
        yield list(specs[i : i + DEFAULT_BATCH])


def pending(specs: Sequence[RunSpec], done: set[str]) -> list[RunSpec]:
    """The specs still to run: each run key once, in study order, none of those `done`."""
    unique = {spec.key: spec for spec in specs}
    return [spec for key, spec in unique.items() if key not in done]


def _todo(
    study: Study, store: ResultsStore, retry_errors: bool = True
) -> tuple[list[RunSpec], set[str]]:
    """The specs still to run (stored `error` runs again unless `retry_errors` is False), and
    every distinct run key of the study."""
    specs = study.specs()
    return pending(specs, store.done_keys(retry_errors)), {spec.key for spec in specs}


def study_status(study: Study, out: str | os.PathLike[str]) -> StudyStatus:
    """How many of the study's runs are stored under `out` and how many are left; runs nothing."""
    todo, unique = _todo(study, ResultsStore(out))
    return StudyStatus(len(unique), len(unique) - len(todo), len(todo))


def _stream(
    engine: Executor, tasks: Sequence[Task], stop: threading.Event | None = None
) -> Iterator[Finished]:
    """Finished tasks as they end, keeping at most `WINDOW_PER_SLOT` × slots in flight per lane;
    once `stop` is set no task is submitted, and those in flight are still yielded."""
    waiting: dict[str, deque[Task]] = {}
    for task in tasks:
        waiting.setdefault(task.lane, deque()).append(task)
    in_flight: Counter[str] = Counter()

    def fill() -> None:
        if stop is not None and stop.is_set():
            return
        window = WINDOW_PER_SLOT * engine.slots
        for lane, queue in waiting.items():
            while queue and in_flight[lane] < window:
                engine.submit(queue.popleft())
                in_flight[lane] += 1

    if stop is not None and hasattr(engine, "stop_when"):
        engine.stop_when(stop)
    fill()
    while in_flight.total():
        finished = engine.next_finished()
        in_flight[finished.task.lane] -= 1
        yield finished
        fill()


def _write_once(store: ResultsStore, finished: Finished, written: set[str]) -> None:
    """Store a finished task (or error rows saying why it failed), leaving out run keys that are
    written already: a task that ran twice is stored once."""
    task = finished.task
    if finished.result is None and finished.failure is None:
        return
    if finished.failure is not None:
        result = RunResult(error_rows(task.specs, finished.failure, finished.status))
    else:
        result = finished.result
    rows = result.rows
    if rows.empty:
        return
    keys = rows["run_key"].to_numpy(dtype=object)
    unseen = np.fromiter((key not in written for key in keys), dtype=bool, count=len(keys))
    fresh = unseen & ~pd.Series(keys).duplicated().to_numpy()
    if not fresh.all():
        rows = rows[fresh].reset_index(drop=True)
        keys = keys[fresh]
        keep = keys_in(result.curves["run_key"], set(keys))
        result = RunResult(rows, result.curves[keep].reset_index(drop=True))
    store.write(result, name=task.key)
    written.update(keys)


def run_study(
    study: Study,
    out: str | os.PathLike[str],
    quiet: bool = False,
    retry_errors: bool = True,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    curves: bool = False,
) -> StudyOutcome:
    """Run every spec of `study` not yet stored under `out`; returns the study's rows, and its
    curves when `curves` (loading them costs seconds on a large study; the CLI needs none).

    `executor` is `"local"` (runner lanes side by side in this process; e.g. the landscape
    runner's compiled programs beside its scipy process pool), `"dask"` (a Dask cluster at
    `scheduler`, or a LocalCluster of processes when it is None), or an Executor object. Each
    finished task is written as it arrives; a run that raises, or whose worker was lost too often,
    is stored as a row with `status="error"` and the reason in `message`. Runs stored with status
    `error` are run again unless `retry_errors` is False. One process writes `out` at a time
    (another one is refused); SIGINT/SIGTERM let the tasks in flight finish and be written, then
    raise `optbench.signals.Interrupted`.
    """
    t0 = time.perf_counter()
    store = ResultsStore(out)
    with store.writing(), graceful_stop() as stop:
        todo, unique = _todo(study, store, retry_errors)
        if todo:
            _run_todo(study, todo, store, quiet, executor, scheduler, stop)
        if stop.is_set():
            raise Interrupted()
    return StudyOutcome(
        _rows_of(store, unique, curves),
        Path(out),
        len(todo),
        len(unique) - len(todo),
        time.perf_counter() - t0,
    )


def _run_todo(
    study: Study,
    todo: list[RunSpec],
    store: ResultsStore,
    quiet: bool,
    executor: str | Executor,
    scheduler: str | None,
    stop: threading.Event,
) -> None:
    """Run `todo` on the executor, writing each finished task as it arrives."""
    runner = registry.runner(study.runner)
    engine = make_executor(executor, runner, scheduler) if isinstance(executor, str) else executor
    try:
        batches = list(getattr(runner, "batches", _default_batches)(todo))
        tasks = engine.shape(batches, getattr(runner, "lane", lambda batch: ""))
        written: set[str] = set()
        with StudyBar(runner, todo, study.name, quiet) as bar:
            for finished in _stream(engine, tasks, stop):
                _write_once(store, finished, written)
                bar.advance(finished.task.specs)
    finally:
        if isinstance(executor, str):
            engine.close()
        else:
            engine.cancel()


def _rows_of(store: ResultsStore, keys: set[str], curves: bool) -> Results:
    loaded = store.load(curves=curves)
    return Results(
        runs=loaded.runs[keys_in(loaded.runs["run_key"], keys)].reset_index(drop=True),
        curves=loaded.curves[keys_in(loaded.curves["run_key"], keys)].reset_index(drop=True),
    )


__all__ = ["StudyOutcome", "StudyStatus", "pending", "run_study", "study_status"]
