"""Run a study: expand it, skip what is stored, run the rest batch by batch, write each batch."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from optbench import registry
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


def run_study(study: Study, out: str | os.PathLike[str], quiet: bool = False) -> StudyOutcome:
    """Run every spec of `study` not yet stored under `out`; returns the study's rows."""
    t0 = time.perf_counter()
    specs = study.specs()
    store = ResultsStore(out)
    stored = store.stored_keys()
    todo = list({spec.key: spec for spec in specs if spec.key not in stored}.values())
    runner = registry.runner(study.runner)
    batches = getattr(runner, "batches", _default_batches)
    with tqdm(total=len(todo), disable=quiet, unit="run", desc=study.name) as bar:
        for batch in batches(todo):
            store.write(runner.run(batch))
            bar.update(len(batch))
    keys = {spec.key for spec in specs}
    loaded = store.load()
    results = Results(
        runs=loaded.runs[loaded.runs["run_key"].isin(keys)].reset_index(drop=True),
        curves=loaded.curves[loaded.curves["run_key"].isin(keys)].reset_index(drop=True),
    )
    return StudyOutcome(
        results, Path(out), len(todo), len(specs) - len(todo), time.perf_counter() - t0
    )
