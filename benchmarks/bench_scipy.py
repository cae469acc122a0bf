"""The scipy path against the floor: the landscape runner's scipy runs vs plain `minimize` loops.

    pytest benchmarks/bench_scipy.py --benchmark-only

Each case runs the same method, options, bounds and starts three ways, back to back: through
the landscape runner (the landscape's jaxpr and JAX's autodiff of it written out as scalar
Python, counting and rows), as the plain loop a JAX user writes (NumPy objective,
`jax.jit(jax.grad(f))` as `jac`) and as the floor (NumPy objective and a hand-written NumPy
gradient). The runner's values round as XLA's do rather than as NumPy's (`x**3` is two products
there, one `pow` in NumPy), which moves some trajectories by a step or two (BFGS on Beale: 7988
evaluations against the loop's 8009), so the runner's evaluations must be within
`SAME_WORK` of the JAX loop's: a different method, option or bound would be far outside.
`extra_info` holds the time ratios (the median over rounds in which the three take turns), per
run and per evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import jax
import numpy as np
import pytest
import scipy.optimize
from optbench.runners.landscape.common import landscape_for, uniform_point

from optbench import registry
from optbench.quality import figure
from optbench.spec import RunSpec

STARTS, STEPS, ROUNDS = 16, 1000, 7
SAME_WORK = 0.01
CASES = [
    (method, problem)
    for problem in ("beale", "rosenbrock")
    for method in ("l-bfgs-b", "bfgs", "nelder-mead")
]
DIMS = {"beale": None, "rosenbrock": 10}


def beale_grad(x: np.ndarray) -> np.ndarray:
    """Beale's gradient written out by hand."""
    x1, x2 = x
    r1 = 1.5 - x1 + x1 * x2
    r2 = 2.25 - x1 + x1 * x2**2
    r3 = 2.625 - x1 + x1 * x2**3
    return 2 * np.array(
        [
            r1 * (x2 - 1) + r2 * (x2**2 - 1) + r3 * (x2**3 - 1),
            r1 * x1 + r2 * 2 * x1 * x2 + r3 * 3 * x1 * x2**2,
        ]
    )


NUMPY_GRADS = {"beale": beale_grad, "rosenbrock": scipy.optimize.rosen_der}


def _plain_loop(method, landscape, starts, jac: Callable | None) -> Callable[[], int]:
    """`minimize` from every start with the runner's method, options and bounds; returns nfev."""
    fn = landscape.fn
    bounds = scipy.optimize.Bounds(landscape.lower, landscape.upper)
    extra = {"bounds": bounds} if method.uses_bounds else {}
    if jac is not None and method.jac not in (None, "none"):
        extra["jac"] = jac

    def loop() -> int:
        nfev = 0
        for x0 in starts:
            with np.errstate(all="ignore"):
                result = scipy.optimize.minimize(
                    lambda x: float(fn(x)), x0, method=method.method,
                    options=dict(method.options), **extra,
                )  # fmt: skip
            nfev += int(result.nfev)
        return nfev

    return loop


def _interleaved(functions: Sequence[Callable[[], int]], rounds: int) -> np.ndarray:
    """Seconds of each function in each round, the functions taking turns within a round, so
    a change of machine speed during the measurement hits all of them alike."""
    seconds = np.empty((rounds, len(functions)))
    for r in range(rounds):
        for i, function in enumerate(functions):
            t0 = time.perf_counter()
            function()
            seconds[r, i] = time.perf_counter() - t0
    return seconds


@pytest.mark.quick
@pytest.mark.parametrize(("optimizer", "problem"), CASES)
def test_scipy_path_over_plain_loops(benchmark, optimizer, problem):
    """The runner's scipy runs over the plain JAX-gradient loop and over the NumPy floor."""
    options = {"dim": DIMS[problem]} if DIMS[problem] else {}
    specs = [
        RunSpec("landscape", problem, optimizer, start=i, budget={"steps": STEPS}, options=options)
        for i in range(STARTS)
    ]
    landscape = landscape_for(problem, DIMS[problem], 0)
    starts = [uniform_point(landscape, 0, i) for i in range(STARTS)]
    method = registry.optimizer(optimizer).build(maxiter=STEPS)
    grad = jax.jit(jax.grad(landscape.fn))
    runner = registry.runner("landscape")

    def path() -> int:
        return int(runner.run(specs).rows["nfev"].sum())

    jax_loop = _plain_loop(method, landscape, starts, lambda x: np.asarray(grad(x)))
    floor = _plain_loop(method, landscape, starts, NUMPY_GRADS[problem])
    assert np.allclose(NUMPY_GRADS[problem](starts[0]), np.asarray(grad(starts[0])), rtol=1e-9)
    path(), jax_loop(), floor()  # compiles and warms every path

    def ratios() -> dict[str, float]:
        n_path, n_jax, n_floor = path(), jax_loop(), floor()
        assert abs(n_path - n_jax) <= SAME_WORK * n_jax, (
            f"the runner made {n_path} evaluations, the plain loop {n_jax}"
        )
        seconds = _interleaved((path, jax_loop, floor), ROUNDS)
        over_floor = float(np.median(seconds[:, 0] / seconds[:, 2]))
        t_path, t_jax, t_floor = np.median(seconds, axis=0)
        return {
            "path_over_floor": over_floor,
            "path_over_jax_loop": float(np.median(seconds[:, 0] / seconds[:, 1])),
            "path_over_floor_per_evaluation": over_floor * n_floor / n_path,
            "path_ms_per_run": t_path / STARTS * 1e3,
            "floor_ms_per_run": t_floor / STARTS * 1e3,
            "jax_loop_ms_per_run": t_jax / STARTS * 1e3,
            "evaluations": n_path,
            "floor_evaluations": n_floor,
        }

    figures = benchmark.pedantic(ratios, rounds=1)
    benchmark.extra_info.update({k: v for k, v in figures.items() if k != "evaluations"})
    benchmark.extra_info["evaluations"] = figure(
        figures["evaluations"], "evaluations", higher_is_better=False, n=STARTS
    )
