"""The scipy path: one `minimize` per start, evaluations counted, spread over a process pool."""

from __future__ import annotations

import atexit
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from itertools import groupby
from typing import Any

import jax
import numpy as np
from optbench.runners.landscape import trajectories
from optbench.runners.landscape.common import (
    DIVERGED,
    FEV_TO,
    STEPS_TO,
    TARGETS,
    final_target,
    inside,
    is_escaped,
    place,
    spec_landscape,
    start_point,
    start_points,
    uniform_point,
)
from optbench.runners.landscape.derivatives import Derivative
from threadpoolctl import ThreadpoolController

from optbench import registry
from optbench.contracts import Landscape, Objective
from optbench.errors import OptbenchError
from optbench.jax_cache import enable_compilation_cache
from optbench.spec import RunSpec
from optbench.workers import init_worker, worker_count

IN_PROCESS_BELOW = 64


@cache
def objective_for(landscape: Landscape) -> Objective:
    """Value and derivatives as scalar Python or NumPy code (the landscape's jaxpr and JAX's
    autodiff of it written out), microseconds a call; each is built on first use."""
    return Objective(
        fun=Derivative(landscape, "value"),
        grad=Derivative(landscape, "grad"),
        hess=Derivative(landscape, "hess"),
        hessp=Derivative(landscape, "hessp"),
        lower=landscape.lower,
        upper=landscape.upper,
    )


def compile_seconds(landscape: Landscape, method: Any) -> float:
    """Build, once per process, the derivatives `method` calls; the seconds it took now (little
    when their NumPy code is on disk already)."""
    point = (landscape.lower + landscape.upper) / 2
    objective = objective_for(landscape)
    needed = [("grad", lambda: objective.grad(point))]
    if getattr(method, "hess", None) == "exact":
        needed.append(("hess", lambda: objective.hess(point)))
    if getattr(method, "hess", None) == "hessp":
        needed.append(("hessp", lambda: objective.hessp(point, point)))
    spent = 0.0
    for kind, call in needed:
        if (landscape, kind) not in _COMPILED:
            t0 = time.perf_counter()
            call()
            spent += time.perf_counter() - t0
            _COMPILED.add((landscape, kind))
    return spent


_COMPILED: set[tuple[Landscape, str]] = set()


class OutOfBudget(Exception):
    """Raised inside the objective when the evaluation or time budget is spent."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


class Counted:
    """Wraps an Objective: counts evaluations, keeps the best point and when each target fell."""

    def __init__(
        self, objective: Objective, f_min: float, max_fev: int | None, deadline: float | None
    ):
        self.inner = objective
        self.f_min, self.max_fev, self.deadline = f_min, max_fev, deadline
        self.n_fev = self.n_gev = self.n_hev = 0
        self.best_f, self.best_x = np.inf, None
        self.fev_to: list[float] = [np.nan] * len(TARGETS)
        self.reached = 0
        self.bounds = list(zip(objective.lower.tolist(), objective.upper.tolist(), strict=True))

    def inside(self, x: np.ndarray) -> bool:
        """Whether `x` lies in the box (NaN does not), on Python floats: a tenth of the cost
        of two NumPy comparisons on a few numbers."""
        return all(lo <= v <= hi for v, (lo, hi) in zip(x.tolist(), self.bounds, strict=True))

    def _spend(self) -> None:
        if self.max_fev is not None and self.n_fev >= self.max_fev:
            raise OutOfBudget("budget")
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise OutOfBudget("timeout")

    def fun(self, x):
        self._spend()
        self.n_fev += 1
        inner = self.inner
        value = inner.fun(x)
        if value < self.best_f and self.inside(np.asarray(x)):
            self.best_f, self.best_x = value, np.array(x, dtype=np.float64)
            gap = value - self.f_min
            while self.reached < len(TARGETS) and gap <= TARGETS[self.reached]:
                self.fev_to[self.reached] = float(self.n_fev)
                self.reached += 1
        return value

    def grad(self, x):
        self._spend()
        self.n_gev += 1
        return self.inner.grad(x)

    def hess(self, x):
        self.n_hev += 1
        return self.inner.hess(x)

    def hessp(self, x, p):
        self.n_hev += 1
        return self.inner.hessp(x, p)

    def objective(self) -> Objective:
        return Objective(
            self.fun, self.grad, self.hess, self.hessp, self.inner.lower, self.inner.upper
        )


def _method(spec: RunSpec) -> Any:
    return _built(spec.optimizer, spec.hyperparameters, spec.budgets.get("steps"))


@cache
def _built(optimizer: str, hyperparameters: tuple, steps: int | None) -> Any:
    """The configured method of a setting (built once: it holds no state between runs)."""
    plugin = registry.optimizer(optimizer)
    hp = dict(hyperparameters)
    if steps is not None and "maxiter" in plugin.defaults and hp.get("maxiter") is None:
        hp["maxiter"] = int(steps)
    return plugin.build(**hp)


def _best_so_far(counted: Counted, x0: np.ndarray, message: str) -> dict[str, Any]:
    """The scipy fields of a run cut short: its best point so far."""
    x = counted.best_x if counted.best_x is not None else x0
    return {"x": x, "fun": counted.best_f, "nit": np.nan, "nfev": counted.n_fev,
            "njev": counted.n_gev, "success": False, "message": message}  # fmt: skip


def _one_start(method: Any, counted: Counted, x0: np.ndarray) -> tuple[dict[str, Any], str | None]:
    """One `minimize`; the scipy fields, and the budget status if the counter stopped it."""
    try:
        with np.errstate(all="ignore"):
            result = method.minimize(counted.objective(), x0)
    except OutOfBudget as stop:
        return _best_so_far(counted, x0, f"stopped: {stop.status}"), stop.status
    except Exception as exc:  # MemoryError too: the run's row says so, the study goes on
        return _best_so_far(counted, x0, f"{type(exc).__name__}: {exc}"), "error"
    fields = {
        "x": np.asarray(result.x, dtype=np.float64),
        "fun": float(result.fun),
        "nit": int(getattr(result, "nit", 0) or 0),
        "nfev": int(getattr(result, "nfev", 0) or 0),
        "njev": int(getattr(result, "njev", 0) or 0),
        "success": bool(result.success),
        "message": str(result.message),
    }
    return fields, None


def run_spec(spec: RunSpec, x0: np.ndarray | None = None) -> dict[str, Any]:
    """One row: a start (with COCO-style independent restarts when asked), counted and timed;
    `x0` is the spec's start point when the caller computed it already."""
    landscape = spec_landscape(spec)
    objective = objective_for(landscape)
    method = _method(spec)
    compile_s = compile_seconds(landscape, method)
    target = final_target(spec)
    budgets = spec.budgets
    max_fev = budgets.get("evaluations")
    restarts_allowed = bool(spec.opts.get("restarts", False)) and max_fev is not None
    t0 = time.perf_counter()
    deadline = t0 + float(budgets["seconds"]) if "seconds" in budgets else None
    counted = Counted(objective, landscape.f_min, max_fev, deadline)
    x0, restart = (start_point(landscape, spec) if x0 is None else x0), 0
    path = trajectories.watch(counted, spec, x0)
    while True:
        fields, stopped = _one_start(method, counted, x0)
        gap = landscape.gap(counted.best_f)
        out_of_budget = stopped is not None or (max_fev is not None and counted.n_fev >= max_fev)
        if not restarts_allowed or gap <= target or out_of_budget:
            break
        restart += 1
        x0 = uniform_point(landscape, spec.seed, spec.start, restart)
    wall = time.perf_counter() - t0
    x, f = np.asarray(fields["x"], dtype=np.float64), float(fields["fun"])
    if restart and counted.best_x is not None and (counted.best_f < f or not inside(landscape, x)):
        x, f = counted.best_x, counted.best_f
    if stopped == "error" and counted.best_x is None:
        metrics, status = dict(DIVERGED), "error"
    elif is_escaped(landscape, x, f):
        metrics, status = dict(DIVERGED), "diverged"
    else:
        metrics = place(landscape, x, f)
        reached = metrics["f_gap"] <= target and metrics["in_bounds"]
        status = "converged" if reached else (stopped or "budget")
    fev_to = dict(zip(FEV_TO, counted.fev_to, strict=True))
    final_fev = next(
        (v for t, v in zip(TARGETS, counted.fev_to, strict=True) if t <= target), np.nan
    )
    return metrics | {
        "status": status,
        "steps": fields["nit"],
        "n_fev": counted.n_fev,
        "n_gev": counted.n_gev,
        "n_hev": counted.n_hev,
        "restarts": restart,
        "nit": fields["nit"],
        "nfev": fields["nfev"],
        "njev": fields["njev"],
        "success": fields["success"],
        "message": fields["message"],
        "steps_to_target": np.nan,
        "fev_to_target": _fev_to_final(counted, landscape, target, final_fev),
        **dict.fromkeys(STEPS_TO, np.nan),
        **fev_to,
        "wall_s": wall,
        "compile_s": compile_s,
        **trajectories.path_fields(path),
    }


def _fev_to_final(counted: Counted, landscape: Landscape, target: float, ladder: float) -> float:
    """Evaluations until the final target: from the ladder, or the run's end if it got there."""
    if target in TARGETS:
        return ladder
    return float(counted.n_fev) if landscape.gap(counted.best_f) <= target else np.nan


@cache
def blas_controller() -> ThreadpoolController:
    """The process's BLAS libraries, found once (a scan of the loaded libraries costs ~4 ms)."""
    return ThreadpoolController()


def run_chunk(specs: Sequence[RunSpec]) -> list[dict[str, Any]]:
    """Rows for specs in order; the unit of work sent to a pool worker.

    BLAS runs single-threaded: scipy's small dense algebra only loses to thread start-up, and
    threads oversubscribe the cores that the pool already fills (14-30x slower L-BFGS-B).
    """
    enable_compilation_cache()
    jax.config.update("jax_enable_x64", True)
    starts: list[np.ndarray | None] = [None] * len(specs)
    for _, rows in groupby(range(len(specs)), key=lambda i: (specs[i].problem, specs[i].options)):
        rows = list(rows)
        points = start_points(spec_landscape(specs[rows[0]]), [specs[i] for i in rows])
        for i, point in zip(rows, points, strict=True):
            starts[i] = point
    with blas_controller().limit(limits=1, user_api="blas"):
        return [guarded_run(spec, x0) for spec, x0 in zip(specs, starts, strict=True)]


def guarded_run(spec: RunSpec, x0: np.ndarray | None = None) -> dict[str, Any]:
    """`run_spec`, with any exception outside `minimize` (compiling the derivatives, building
    the method) made into that run's `error` row."""
    t0 = time.perf_counter()
    try:
        return run_spec(spec, x0)
    except OptbenchError:
        raise
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        return DIVERGED | {"status": "error", "message": message, "success": False,
                           "n_fev": 0, "n_gev": 0, "n_hev": 0, "restarts": 0,
                           "wall_s": time.perf_counter() - t0, "compile_s": 0.0}  # fmt: skip


def _cpu_worker() -> None:
    """Pool workers evaluate tiny functions one call at a time: the CPU beats an accelerator's
    launch latency, and workers must not each claim the GPU's memory."""
    init_worker()
    jax.config.update("jax_platforms", "cpu")


@cache
def _pool(workers: int) -> ProcessPoolExecutor:
    """A spawn-context pool (JAX does not survive fork), kept for the process's lifetime."""
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_cpu_worker
    )
    atexit.register(pool.shutdown, cancel_futures=True)
    return pool


def workers() -> int:
    """Pool size: `OPTBENCH_WORKERS`, or the CPUs this process may use."""
    return worker_count()


def run_specs(specs: Sequence[RunSpec]) -> list[dict[str, Any]]:
    """Rows for every spec, in order: in this process when few, else over the pool."""
    n_workers = workers()
    if len(specs) < IN_PROCESS_BELOW or n_workers == 1:
        return run_chunk(specs)
    chunks: list[list[RunSpec]] = []
    size = max(1, -(-len(specs) // (4 * n_workers)))
    for _, group in groupby(specs, key=lambda s: (s.problem, s.options)):
        group = list(group)
        chunks.extend(group[i : i + size] for i in range(0, len(group), size))
    rows: list[dict[str, Any]] = []
    for part in _pool(n_workers).map(run_chunk, chunks):
        rows.extend(part)
    return rows
