"""The Dask executor: tasks on a distributed cluster, or on a LocalCluster of processes.

Dask runs a task at least once, not exactly once: a task on a worker that dies is run again
elsewhere, and past `allowed-failures` deaths it raises `KilledWorker`, which this executor turns
into error rows for that task's runs. The study driver drops run keys it has written already.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

import dask
import distributed

from optbench.errors import OptbenchError
from optbench.executors import Finished
from optbench.executors.tasks import Task, describe, hard_limit, run_task, shaped
from optbench.jax_cache import ISA, ISA_FLAG
from optbench.workers import worker_count

LOST_WORKER_RETRIES = 2
"""A task is run again after its worker died this many times; one more death makes error rows."""

CONFIG = {
    "distributed.scheduler.allowed-failures": LOST_WORKER_RETRIES,
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.multiprocessing-method": "spawn",
}
"""Queued tasks wait on the scheduler (saturation 1.0), so a dying worker only takes the task
it was running with it; workers start by spawn, since JAX does not survive fork."""

WATCH_EVERY_S = 2.0


def worker_environment(threads: int = 1) -> dict[str, str]:
    """Environment of a worker process: BLAS and XLA limited to its threads, XLA's instruction
    set capped as in the driver (no FMA: the same last bits), no pool of its own, no preallocated
    accelerator memory, the driver's JAX compilation cache."""
    isa = next(
        (flag for flag in os.environ.get("XLA_FLAGS", "").split() if flag.startswith(ISA_FLAG)),
        f"{ISA_FLAG}={ISA}",
    )
    env = {
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={str(threads > 1).lower()} {isa}",
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "OPTBENCH_WORKERS": "1",
    }
    for name in ("OPTBENCH_JAX_CACHE", "XDG_CACHE_HOME", "OPTBENCH_DATA", "OPTBENCH_TRIG"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def cpu_count() -> int:
    """Workers of a LocalCluster: `OPTBENCH_WORKERS`, or the CPUs this process may use."""
    return worker_count()


def local_cluster(n_workers: int | None = None, **kwargs: Any) -> distributed.LocalCluster:
    """A LocalCluster of spawned processes, one thread each, configured as `CONFIG` says."""
    with dask.config.set(CONFIG):
        return distributed.LocalCluster(
            n_workers=n_workers or cpu_count(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env=worker_environment(1),
            **kwargs,
        )


def run_on_worker(runner: Any, task: Task):
    """The function a worker runs: the task's batches, with no process pool inside the worker."""
    os.environ.setdefault("OPTBENCH_WORKERS", "1")
    return run_task(runner, task)


def _lost(exc: distributed.KilledWorker) -> str:
    """The reason an error row gives for a task whose workers kept dying."""
    tries = getattr(exc, "allowed_failures", LOST_WORKER_RETRIES) + 1
    last = getattr(getattr(exc, "last_worker", None), "address", "?")
    return f"worker lost: KilledWorker: its worker died {tries} times (the last was {last})"


class DaskExecutor:
    """Submits tasks to a Dask cluster and hands them back as they finish."""

    name = "dask"

    def __init__(self, runner: Any, scheduler: str | None = None):
        self.runner = runner
        self._cluster = None
        with dask.config.set(CONFIG):
            if scheduler is None:
                self._cluster = local_cluster()
                self.client = distributed.Client(self._cluster)
            else:
                try:
                    self.client = distributed.Client(scheduler, timeout="20s")
                except (OSError, TimeoutError) as exc:
                    raise OptbenchError(
                        f"cannot reach the Dask scheduler at {scheduler!r} ({describe(exc)}); "
                        "start one with `dask scheduler` or drop --scheduler for a local cluster"
                    ) from None
        self._futures: dict[distributed.Future, Task] = {}
        self._by_key: dict[str, Task] = {}
        self._started: dict[tuple[str, str], float] = {}
        self._expired: list[Finished] = []
        self._watched = time.monotonic()

    @property
    def slots(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def shape(self, batches: Sequence[Sequence[Any]], lane: Any) -> list[Task]:
        return shaped(list(batches), self.slots)

    def submit(self, task: Task) -> None:
        key = f"optbench-{task.key}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(run_on_worker, self.runner, task, key=key, pure=False)
        self._futures[future] = task
        self._by_key[key] = task

    def next_finished(self) -> Finished:
        while True:
            if self._expired:
                return self._expired.pop()
            done = next((f for f in self._futures if f.done()), None)
            if done is not None:
                return self._collect(done)
            with contextlib.suppress(TimeoutError, distributed.TimeoutError):
                distributed.wait(list(self._futures), WATCH_EVERY_S, "FIRST_COMPLETED")
            if any(hard_limit(task) is not None for task in self._futures.values()):
                self._restart_stuck()

    def _collect(self, future: distributed.Future) -> Finished:
        task = self._futures.pop(future)
        self._by_key.pop(future.key, None)
        for seen in [seen for seen in self._started if seen[0] == future.key]:
            del self._started[seen]
        if future.status == "finished":
            return Finished(task, result=future.result())
        if future.status == "cancelled":
            raise OptbenchError(
                "the Dask scheduler dropped the study's tasks (lost or restarted); finished runs "
                "are stored: run the study again to resume"
            )
        exc = future.exception()
        if isinstance(exc, ImportError):
            raise OptbenchError(
                f"a Dask worker cannot run the task ({describe(exc)}): install optbench and the "
                "runner's plugin on every worker"
            ) from None
        if isinstance(exc, distributed.KilledWorker):
            return Finished(task, failure=_lost(exc))
        return Finished(task, failure=describe(exc))

    def _restart_stuck(self) -> None:
        """A task running past its hard limit is given up (its runs become `timeout` rows) and
        its worker restarted, so that the stuck call stops."""
        now = time.monotonic()
        futures = {future.key: future for future in self._futures}
        for worker, keys in self.client.processing().items():
            for key in keys:
                task = self._by_key.get(key)
                limit = hard_limit(task) if task is not None else None
                if limit is None or now - self._started.setdefault((key, worker), now) <= limit:
                    continue
                future = futures[key]
                future.cancel()
                self._futures.pop(future)
                self._by_key.pop(key)
                reason = f"timeout: ran past its hard limit of {limit:g} s; worker restarted"
                self._expired.append(Finished(task, failure=reason, status="timeout"))
                with contextlib.suppress(KeyError, OSError, TimeoutError):  # gone already
                    self.client.restart_workers([worker], raise_for_error=False)

    def cancel(self) -> None:
        self.client.cancel(list(self._futures))
        self._futures.clear()
        self._by_key.clear()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.cancel()
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
