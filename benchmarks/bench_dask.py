"""The engine's speed: 2,000 scipy runs (not vectorizable) on the local executor at 1 and 2
processes and on a 2-worker Dask LocalCluster, and the Dask executor's cost per task.

    .venv/bin/pytest benchmarks/bench_dask.py --benchmark-only

Goal: the LocalCluster within 1.3x of the local 2-process time. Runs per second and the per-task
overhead go in `extra_info`.
"""

from __future__ import annotations

import itertools
import time

import pytest

from optbench.execute import run_study
from optbench.executors import tasks
from optbench.study import OptimizerEntry, Study

distributed = pytest.importorskip("distributed")

from optbench.executors.dask import local_cluster  # noqa: E402

RUNS = 2000
STUDY = Study(
    name="bench-dask",
    problems=("beale", "booth", "himmelblau", "matyas"),
    optimizers=(OptimizerEntry("l-bfgs-b"),),
    starts=RUNS // 4,
)
TINY = Study(
    name="bench-dask-tiny",
    problems=("booth",),
    optimizers=(OptimizerEntry("l-bfgs-b"),),
    starts=200,
    seeds=(1,),
)


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as running:
        yield running


@pytest.fixture
def fresh(tmp_path):
    """A new results folder per call, so every round runs the whole study."""
    counter = itertools.count()
    return lambda: tmp_path / f"round-{next(counter)}"


def _measure(benchmark, study: Study, fresh, **kwargs) -> None:
    outcome = benchmark.pedantic(
        lambda: run_study(study, fresh(), quiet=True, **kwargs), rounds=3, warmup_rounds=1
    )
    assert outcome.ran == len(outcome.results.runs) == len(study.specs())
    assert (outcome.results.runs["status"] != "error").all()
    benchmark.extra_info["runs_per_s"] = outcome.ran / benchmark.stats.stats.median


@pytest.mark.parametrize("processes", [1, 2])
def test_local_executor(benchmark, fresh, monkeypatch, processes):
    """The local executor: the scipy pool of `processes` spawned processes (1: in this one)."""
    monkeypatch.setenv("OPTBENCH_WORKERS", str(processes))
    _measure(benchmark, STUDY, fresh)


def test_dask_local_cluster(benchmark, fresh, cluster):
    """A 2-worker LocalCluster (processes, one thread each), already started."""
    _measure(benchmark, STUDY, fresh, executor="dask", scheduler=cluster.scheduler_address)


def test_dask_per_task_overhead(benchmark, fresh, cluster, monkeypatch):
    """200 tasks of one run each: worker-seconds per task beyond the run itself."""
    monkeypatch.setenv("OPTBENCH_WORKERS", "1")
    t0 = time.perf_counter()
    run_study(TINY, fresh(), quiet=True)
    run_study(TINY, fresh(), quiet=True)
    in_process = (time.perf_counter() - t0) / 2
    monkeypatch.setattr(tasks, "SPLIT_ABOVE", 1)
    monkeypatch.setattr(tasks, "PACK_UP_TO", 1)
    benchmark.pedantic(
        lambda: run_study(
            TINY, fresh(), quiet=True, executor="dask", scheduler=cluster.scheduler_address
        ),
        rounds=3,
        warmup_rounds=1,
    )
    spread = benchmark.stats.stats.median
    workers = len(cluster.workers)
    benchmark.extra_info.update(
        tasks=TINY.starts,
        in_process_s=in_process,
        overhead_per_task_ms=1e3 * (workers * spread - in_process) / TINY.starts,
    )
