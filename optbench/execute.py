"""Run a study: expand it, skip what is stored, run the rest batch by batch, write each batch."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optbench import registry
from optbench.progress import StudyBar
from optbench.spec import RunSpec
from optbench.store import Results, ResultsStore
from optbench.study import Study

DEFAULT_BATCH = 2000


@dataclass(frozen=True)
class StudyOutcome:
    """What a study run did: its rows (new and previously stored), counts and timing."""

    results: Results
    path: Path
    ran: int
    skipped: int
    wall_s: float


def _default_batches(specs: Sequence[RunSpec]) -> Iterator[list[RunSpec]]:
    for i in range(0, len(specs), DEFAULT_BATCH):
        yield list(specs[i : i + DEFAULT_BATCH])


def _run_lanes(runner, lanes: list[list[list[RunSpec]]]) -> Iterator[tuple[list[RunSpec], Any]]:
    """(batch, result) as batches finish; each lane runs its batches in order in a thread."""
    if len(lanes) <= 1:
        for batch in (batch for lane in lanes for batch in lane):
            yield batch, runner.run(batch)
        return
    finished: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work(lane: list[list[RunSpec]]) -> None:
        try:
            for batch in lane:
                if stop.is_set():
                    return
                finished.put((batch, runner.run(batch), None))
        except BaseException as exc:
            finished.put((None, None, exc))
        finally:
            finished.put(None)

    failures: list[BaseException] = []
    pool = ThreadPoolExecutor(len(lanes), thread_name_prefix="optbench-lane")
    try:
        for lane in lanes:
            pool.submit(work, lane)
        running = len(lanes)
        while running:
            item = finished.get()
            if item is None:
                running -= 1
            elif item[2] is not None:
                failures.append(item[2])
            else:
                yield item[0], item[1]
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
    if failures:
        raise failures[0]


def run_study(study: Study, out: str | os.PathLike[str], quiet: bool = False) -> StudyOutcome:
    """Run every spec of `study` not yet stored under `out`; returns the study's rows.

    A runner may sort its batches into lanes (`lane(batch)`, e.g. work done in this process and
    work spread over a process pool): lanes run side by side, each batch is written as it ends,
    and a failing batch is raised once the others have been written.
    """
    t0 = time.perf_counter()
    specs = study.specs()
    store = ResultsStore(out)
    stored = store.stored_keys()
    unique = {spec.key: spec for spec in specs}
    todo = [spec for key, spec in unique.items() if key not in stored]
    runner = registry.runner(study.runner)
    batches = list(getattr(runner, "batches", _default_batches)(todo))
    lane = getattr(runner, "lane", lambda batch: "")
    lanes: dict[str, list[list[RunSpec]]] = {}
    for batch in batches:
        lanes.setdefault(lane(batch), []).append(batch)
    with StudyBar(runner, todo, study.name, quiet) as bar:
        for batch, result in _run_lanes(runner, list(lanes.values())):
            store.write(result)
            bar.advance(batch)
    keys = {spec.key for spec in specs}
    loaded = store.load()
    results = Results(
        runs=loaded.runs[loaded.runs["run_key"].isin(keys)].reset_index(drop=True),
        curves=loaded.curves[loaded.curves["run_key"].isin(keys)].reset_index(drop=True),
    )
    return StudyOutcome(
        results, Path(out), len(todo), len(unique) - len(todo), time.perf_counter() - t0
    )
