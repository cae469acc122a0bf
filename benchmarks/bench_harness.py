"""The harness's own cost per run at 10,000 runs: spec expansion, rows, the Parquet write.

    .venv/bin/pytest benchmarks/bench_harness.py --benchmark-only

Nevergrad's issue #1156 found harness overhead up to 100x the work on cheap functions; these
keep ours in view. The study is 2 landscapes x 5 learning rates x 1000 starts of Adam for 10
steps, so the optimizer's own work is small next to what is timed here.
"""

from __future__ import annotations

import os
from itertools import count

import numpy as np
import pandas as pd
import pytest

from optbench import ResultsStore, registry, run_study
from optbench.contracts import RunResult
from optbench.quality import figure
from optbench.study import OptimizerEntry, Study

RUNS = 10_000
STUDY = Study(
    name="harness",
    problems=("beale", "booth"),
    optimizers=(OptimizerEntry("adam", grid={"learning_rate": [0.001, 0.01, 0.1, 0.5, 1.0]}),),
    starts=1000,
    budget={"steps": 10},
)
FOLDERS = count()


@pytest.fixture(scope="module")
def result() -> RunResult:
    """The rows and curves of the 10,000 runs, computed once."""
    specs = STUDY.specs()
    runner = registry.runner(STUDY.runner)
    batches = list(runner.batches(specs))
    parts = [runner.run(batch) for batch in batches]

    return RunResult(
        pd.concat([p.rows for p in parts], ignore_index=True),
        pd.concat([p.curves for p in parts], ignore_index=True),
    )


@pytest.mark.quick
def test_expand_specs(benchmark, rounds):
    """Study -> 10,000 RunSpecs (hyperparameters resolved and validated, keys hashed)."""
    specs = benchmark.pedantic(STUDY.specs, rounds=rounds(5), warmup_rounds=1)
    assert len(specs) == RUNS
    benchmark.extra_info.update(
        runs=figure(len(specs), "count"), us_per_run=benchmark.stats.stats.median / RUNS * 1e6
    )


@pytest.mark.quick
def test_write_rows(benchmark, result, tmp_path, rounds):
    """10,000 rows and their curves to Parquet through the results store, then loaded back."""

    def setup():
        return (ResultsStore(os.path.join(tmp_path, f"store-{next(FOLDERS)}")),), {}

    def write_and_load(store: ResultsStore):
        store.write(result)
        return store.load()

    benchmark.pedantic(write_and_load, setup=setup, rounds=rounds(5), warmup_rounds=1)
    loaded = write_and_load(ResultsStore(os.path.join(tmp_path, "check")))
    assert len(loaded.runs) == RUNS
    benchmark.extra_info.update(
        rows=figure(len(loaded.runs), "count"),
        curve_points=figure(len(loaded.curves), "count"),
        us_per_run=benchmark.stats.stats.median / RUNS * 1e6,
    )


@pytest.mark.quick
def test_study_overhead_per_run(benchmark, tmp_path, rounds):
    """`run_study` end to end at 10,000 runs; overhead = wall minus the runner's run and compile
    seconds, per run."""
    run_study(STUDY, tmp_path / "warm", quiet=True)
    overheads: list[float] = []
    outcomes = []

    def setup():
        return (tmp_path / f"study-{next(FOLDERS)}",), {}

    def once(out) -> None:
        outcome = run_study(STUDY, out, quiet=True)
        rows = outcome.results.runs
        spent = rows["wall_s"].sum() + rows["compile_s"].sum()
        overheads.append((outcome.wall_s - spent) / len(rows))
        outcomes.append(outcome)

    benchmark.pedantic(once, setup=setup, rounds=rounds(5))
    rows = outcomes[-1].results.runs
    assert len(rows) == RUNS
    benchmark.extra_info.update(
        runs=figure(len(rows), "count"),
        converged=figure(int((rows["status"] == "converged").sum()), "count", n=RUNS),
        overhead_us_per_run=float(np.median(overheads)) * 1e6,
    )
