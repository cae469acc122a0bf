"""`optbench run --dry-run`: what a study would run, and how long it would take, without running.

The estimate comes from a short calibration: a sample of each optimizer family's smallest batch
runs once (optax: its runs on one problem, as a small program; serial families: its first few
runs; network runs: one epoch), nothing is stored, and the measured cost per unit of the
runner's expected work (`work(spec)`, else per run) and per compiled program is scaled to the
study, and so is the time to write the sample's rows to a scratch store. Lanes run side by side
(the scipy pool spreads its lane over its workers), but all of them share this machine's cores:
the estimate is the longest lane or the whole work over the cores, whichever is larger. It is a
rough figure, not a promise.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import click
import pandas as pd

from optbench import registry
from optbench.cli.common import echo_table
from optbench.contracts import RunResult
from optbench.errors import OptbenchError
from optbench.spec import RunSpec
from optbench.store import ResultsStore
from optbench.study import Study
from optbench.workers import cpu_count

SERIAL_SAMPLE = 8
VECTORIZED = ("optax",)


def _family(spec: RunSpec) -> str:
    return registry.optimizer(spec.optimizer).family


def _batches(runner, todo: Sequence[RunSpec]) -> list[list[RunSpec]]:
    default = lambda specs: [list(specs[i : i + 2000]) for i in range(0, len(specs), 2000)]  # noqa: E731
    return [list(b) for b in getattr(runner, "batches", default)(todo)]


def _programs(study: Study, todo: Sequence[RunSpec]) -> int:
    """Compiled programs the study needs: one per optax (step budget, dimension) on landscapes."""
    if study.runner != "landscape":
        return 0
    from optbench.runners.landscape.plugin import batch_key

    return len({batch_key(s) for s in todo if _family(s) in VECTORIZED})


def _sample(batch: list[RunSpec], family: str) -> tuple[list[RunSpec], float]:
    """The runs to calibrate on (the estimate scales by the runner's `work(spec)`, which counts
    epochs, when it has one): network runs train one epoch, optax runs on one problem."""
    epochs = [s.budgets.get("epochs") for s in batch[:SERIAL_SAMPLE]]
    if epochs and all(isinstance(e, int) and e > 1 for e in epochs):
        one = [
            dataclasses.replace(s, budget=dict(s.budgets) | {"epochs": 1})
            for s in batch[:SERIAL_SAMPLE]
        ]
        return one, 1.0
    if family in VECTORIZED:  # one problem's runs: a small program, compiled quickly
        first = (batch[0].problem, batch[0].options)
        return [s for s in batch if (s.problem, s.options) == first], 1.0
    return batch[:SERIAL_SAMPLE], 1.0


def _fresh(runner):
    """A new instance of the runner, so calibration plans programs for its sample alone."""
    try:
        return type(runner)()
    except TypeError:
        return runner


def _timed_run(runner, sample: list[RunSpec]) -> tuple[float, RunResult]:
    t0 = time.perf_counter()
    result = runner.run(sample)
    wall = time.perf_counter() - t0
    rows = result.rows
    errors = rows[rows["status"].eq("error")] if "status" in rows else rows.iloc[:0]
    if len(errors) == len(rows) and len(rows):
        raise OptbenchError(str(errors.iloc[0].get("error", "the calibration run failed")))
    return wall, result


def _write_seconds(result: RunResult) -> float:
    """Seconds per run to store `result` (rows and curves) in a scratch results folder."""
    with tempfile.TemporaryDirectory(prefix="optbench-dry-run-") as scratch:
        t0 = time.perf_counter()
        ResultsStore(scratch).write(result)
        return (time.perf_counter() - t0) / max(len(result.rows), 1)


def _calibrate(runner, batch: list[RunSpec], family: str) -> tuple[float, float, float]:
    """(seconds per unit of work when warm, one-off seconds: compilation and first-call set-up,
    seconds per run to store the rows), from running one sample twice."""
    sample, _ = _sample(batch, family)
    os.environ.setdefault("OPTBENCH_QUIET", "1")
    fresh = _fresh(runner)
    cold, _ = _timed_run(fresh, sample)
    warm, result = _timed_run(fresh, sample)
    return warm / _work(runner, sample), max(cold - warm, 0.0), _write_seconds(result)


def _work(runner, specs: Sequence[RunSpec]) -> float:
    """The runner's expected work of `specs` (`work(spec)`, 1 a run when it has no such hook)."""
    work = getattr(runner, "work", lambda spec: 1.0)
    return max(sum(work(spec) for spec in specs), 1e-12)


def plan_table(runner, todo: Sequence[RunSpec], batches: list[list[RunSpec]]) -> pd.DataFrame:
    """Runs, settings, problems and batches per family and lane."""
    lane_of = getattr(runner, "lane", lambda batch: "")
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    settings: dict[tuple[str, str], set] = defaultdict(set)
    problems: dict[tuple[str, str], set] = defaultdict(set)
    for batch in batches:
        key = (_family(batch[0]), lane_of(batch) or "-")
        counts[key]["runs"] += len(batch)
        counts[key]["batches"] += 1
        settings[key] |= {(s.optimizer, s.hyperparameters) for s in batch}
        problems[key] |= {(s.problem, s.options) for s in batch}
    rows = [
        {
            "family": family,
            "lane": lane,
            "runs": c["runs"],
            "settings": len(settings[(family, lane)]),
            "problems": len(problems[(family, lane)]),
            "batches": c["batches"],
        }
        for (family, lane), c in sorted(counts.items())
    ]
    return pd.DataFrame(rows)


def estimate(runner, batches: list[list[RunSpec]], programs: int) -> tuple[float, float, int]:
    """(estimated seconds, seconds the calibration took, runs it ran)."""
    lane_of = getattr(runner, "lane", lambda batch: "")
    by_family: dict[str, list[list[RunSpec]]] = defaultdict(list)
    for batch in batches:
        by_family[_family(batch[0])].append(batch)
    lanes: Counter = Counter()
    busy = 0.0  # seconds of one core: every lane's work, and writing the rows
    t0, sampled = time.perf_counter(), 0
    for family, members in by_family.items():
        if family in VECTORIZED:
            chosen = min(members, key=lambda batch: (_work(runner, batch), len(batch)))
        else:  # runs spread over the family's settings and problems; networks: the cheapest
            every = [spec for batch in members for spec in batch]
            chosen = every[:: max(len(every) // SERIAL_SAMPLE, 1)][:SERIAL_SAMPLE]
            if "epochs" in every[0].budgets:
                chosen = [min(every, key=lambda spec: _work(runner, [spec]))]
        sample = _sample(chosen, family)[0]
        per_work, one_off, per_write = _calibrate(runner, chosen, family)
        sampled += 2 * len(sample)
        problems = {(s.problem, s.options) for batch in members for s in batch}
        if family in VECTORIZED:
            setups = programs
        else:
            setups = len(problems) / len({(s.problem, s.options) for s in sample})
        lanes[lane_of(members[0])] += one_off * setups
        busy += one_off * setups
        for batch in members:
            lane = lane_of(batch)
            seconds = per_work * _work(runner, batch)
            share = _pool_workers() if lane == "pool" else 1
            lanes[lane] += seconds / share
            busy += seconds + per_write * len(batch)
    longest = max(lanes.values(), default=0.0)
    return max(longest, busy / cpu_count()), time.perf_counter() - t0, sampled


def _pool_workers() -> int:
    from optbench.runners.landscape import scipy_pool

    return scipy_pool.workers()


def duration_text(seconds: float) -> str:
    """`42 s`, `3 min 40 s`, `2 h 05 min`."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def print_plan(study: Study, out: Path) -> None:
    """Print what `optbench run` would do for `study` with results in `out`; runs nothing."""
    specs = study.specs()
    unique = {spec.key: spec for spec in specs}
    stored = ResultsStore(out).stored_keys() if Path(out).exists() else set()
    todo = [spec for key, spec in unique.items() if key not in stored]
    runner = registry.runner(study.runner)
    click.echo(
        f"{study.name} (runner {study.runner}): {len(unique):,} runs, "
        f"{len(unique) - len(todo):,} already stored in {out}, {len(todo):,} to run"
    )
    if not todo:
        return
    batches = _batches(runner, todo)
    echo_table(plan_table(runner, todo, batches))
    programs = _programs(study, todo)
    if programs:
        click.echo(f"programs to compile: {programs} (optax: one per step budget and dimension)")
    try:
        seconds, took, sampled = estimate(runner, batches, programs)
    except OptbenchError as exc:
        click.echo(f"estimated time: not available, the calibration run failed: {exc}")
        return
    click.echo(
        f"estimated time: {duration_text(seconds)} (from a calibration of {sampled:,} run(s) "
        f"that took {took:.1f} s; nothing was stored)"
    )
