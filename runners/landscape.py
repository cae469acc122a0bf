"""The landscape runner: optimizers on test functions from seeded starts, exact metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import cache
from itertools import groupby
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from optbench import registry
from optbench.contracts import Landscape, Objective, RunResult
from optbench.environment import environment, jax_device
from optbench.errors import OptbenchError
from optbench.spec import RunSpec

jax.config.update("jax_enable_x64", True)

DEFAULT_STEPS = 1000
DEFAULT_TARGET = 1e-8
DIVERGENCE_FACTOR = 1e6
CURVE_POINTS = 30


@cache
def landscape_for(problem: str, dim: int | None, instance: int) -> Landscape:
    """The landscape of a spec, built once per process."""
    return registry.landscape(problem).make(dim=dim, instance=instance)


def spec_landscape(spec: RunSpec) -> Landscape:
    opts = spec.opts
    return landscape_for(spec.problem, opts.get("dim"), opts.get("instance", 0))


def start_point(landscape: Landscape, spec: RunSpec) -> np.ndarray:
    """The explicit `x0`, or a uniform point in the bounds from (seed, start): paired across optimizers."""
    x0 = spec.opts.get("x0")
    if x0 is not None:
        return landscape.check_point(x0)
    rng = np.random.default_rng([spec.seed, spec.start])
    return landscape.lower + rng.random(landscape.dim) * (landscape.upper - landscape.lower)


@cache
def objective_for(landscape: Landscape) -> Objective:
    """numpy callables over the landscape's JAX function and its autodiff derivatives."""
    fn = landscape.jitted
    grad = jax.jit(jax.grad(landscape.fn))
    hess = jax.jit(jax.hessian(landscape.fn))
    hessp = jax.jit(lambda x, p: jax.jvp(jax.grad(landscape.fn), (x,), (p,))[1])
    return Objective(
        fun=lambda x: float(fn(x)),
        grad=lambda x: np.asarray(grad(x)),
        hess=lambda x: np.asarray(hess(x)),
        hessp=lambda x, p: np.asarray(hessp(x, p)),
        lower=landscape.lower,
        upper=landscape.upper,
    )


class Counted:
    """Wraps an Objective and counts function, gradient and Hessian evaluations."""

    def __init__(self, objective: Objective):
        self.n_fev = self.n_gev = self.n_hev = 0
        self.inner = objective

    def fun(self, x):
        self.n_fev += 1
        return self.inner.fun(x)

    def grad(self, x):
        self.n_gev += 1
        return self.inner.grad(x)

    def hess(self, x):
        self.n_hev += 1
        return self.inner.hess(x)

    def hessp(self, x, p):
        self.n_hev += 1
        return self.inner.hessp(x, p)

    def objective(self) -> Objective:
        return Objective(self.fun, self.grad, self.hess, self.hessp, self.inner.lower, self.inner.upper)


def _metrics(landscape: Landscape, x: np.ndarray, f: float, target: float) -> dict[str, Any]:
    finite = np.isfinite(f) and bool(np.all(np.isfinite(x)))
    width = float(np.max(landscape.upper - landscape.lower))
    escaped = finite and float(np.max(np.abs(x))) > DIVERGENCE_FACTOR * width
    if not finite or escaped:
        return {"status": "diverged", "f_final": np.inf, "f_gap": np.inf, "x_dist": np.inf,
                "found": -1, "x_final": None}  # fmt: skip
    x_dist, found = landscape.distance_to_minimizer(x)
    gap = landscape.gap(f)
    return {
        "status": "converged" if gap <= target else "budget",
        "f_final": float(f),
        "f_gap": gap,
        "x_dist": x_dist,
        "found": found,
        "x_final": json.dumps([float(v) for v in x]),
    }


def _run_scipy(spec: RunSpec, landscape: Landscape, compile_s: float) -> dict[str, Any]:
    plugin = registry.optimizer(spec.optimizer)
    hp = spec.hp
    steps = spec.budgets.get("steps")
    if steps is not None and "maxiter" in plugin.defaults and hp.get("maxiter") is None:
        hp["maxiter"] = int(steps)
    method = plugin.build(**hp)
    counted = Counted(objective_for(landscape))
    target = spec.target if spec.target is not None else DEFAULT_TARGET
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        result = method.minimize(counted.objective(), start_point(landscape, spec))
    wall = time.perf_counter() - t0
    row = _metrics(landscape, np.asarray(result.x, dtype=np.float64), float(result.fun), target)
    return row | {
        "steps": int(getattr(result, "nit", 0) or 0),
        "n_fev": counted.n_fev,
        "n_gev": counted.n_gev,
        "n_hev": counted.n_hev,
        "nit": int(getattr(result, "nit", 0) or 0),
        "nfev": int(getattr(result, "nfev", 0) or 0),
        "njev": int(getattr(result, "njev", 0) or 0),
        "success": bool(result.success),
        "message": str(result.message),
        "steps_to_target": np.nan,
        "wall_s": wall,
        "compile_s": compile_s,
    }


def _warm_up(landscape: Landscape) -> float:
    """Compile the numpy-facing callables once; returns the seconds it took."""
    objective = objective_for(landscape)
    t0 = time.perf_counter()
    x = (landscape.lower + landscape.upper) / 2
    objective.fun(x)
    objective.grad(x)
    return time.perf_counter() - t0


def _optax_program(fn, optimizer: optax.GradientTransformation, steps: int):
    """One compiled program: every start at once (`vmap`), every step in one `lax.scan`."""
    value_and_grad = jax.value_and_grad(fn)

    def one(x0):
        def step(carry, _):
            x, state = carry
            f, g = value_and_grad(x)
            updates, state = optimizer.update(g, state, x)
            return (optax.apply_updates(x, updates), state), (f, jnp.max(jnp.abs(x)))

        (x, _), (fs, sizes) = jax.lax.scan(step, (x0, optimizer.init(x0)), length=steps)
        return x, fn(x), fs, sizes

    return jax.jit(jax.vmap(one))


def _curve_steps(steps: int) -> np.ndarray:
    return np.unique(np.round(np.logspace(0, np.log10(max(steps, 1)), CURVE_POINTS))).astype(int) - 1


def _run_optax(specs: list[RunSpec], landscape: Landscape):
    spec = specs[0]
    plugin = registry.optimizer(spec.optimizer)
    steps = int(spec.budgets.get("steps", DEFAULT_STEPS))
    target = spec.target if spec.target is not None else DEFAULT_TARGET
    program = _optax_program(landscape.fn, plugin.build(**spec.hp), steps)
    x0 = jnp.asarray(np.stack([start_point(landscape, s) for s in specs]))
    t0 = time.perf_counter()
    compiled = program.lower(x0).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    xs, f_last, fs, sizes = jax.block_until_ready(compiled(x0))
    wall = (time.perf_counter() - t0) / len(specs)
    xs, f_last, fs, sizes = map(np.asarray, (xs, f_last, fs, sizes))
    gaps = fs - landscape.f_min
    width = float(np.max(landscape.upper - landscape.lower))
    bad = ~np.isfinite(fs) | (sizes > DIVERGENCE_FACTOR * width)
    rows, curves = [], []
    grid = _curve_steps(steps)
    for i, s in enumerate(specs):
        row = _metrics(landscape, xs[i], float(f_last[i]), target)
        hit = np.flatnonzero(gaps[i] <= target)
        diverged_at = np.flatnonzero(bad[i])
        if diverged_at.size:
            row.update(status="diverged", f_final=np.inf, f_gap=np.inf, x_dist=np.inf, found=-1)
        rows.append(row | {
            "steps": steps, "n_fev": steps + 1, "n_gev": steps, "n_hev": 0,
            "steps_to_target": float(hit[0]) if hit.size else np.nan,
            "diverged_step": float(diverged_at[0]) if diverged_at.size else np.nan,
            "wall_s": wall, "compile_s": compile_s,
        })  # fmt: skip
        curves.append(pd.DataFrame({"run_key": s.key, "step": grid, "name": "f_gap", "value": gaps[i][grid]}))
    return rows, curves


def _group_key(spec: RunSpec) -> tuple:
    return (spec.problem, spec.options, spec.optimizer, spec.hyperparameters, spec.budget, spec.target)


class LandscapeRunner:
    """Runs scipy and optax optimizers on landscapes; one row per (spec, start)."""

    name = "landscape"
    description = "Optimizers on test landscapes from seeded multi-starts; exact gap and distance."
    options = {"dim": None, "instance": 0, "x0": None}

    def check(self, spec: RunSpec) -> None:
        """Fail before running on a bad problem, option or start point."""
        landscape = spec_landscape(spec)
        plugin = registry.optimizer(spec.optimizer)
        if plugin.family not in ("scipy", "optax"):
            raise OptbenchError(
                f"the landscape runner does not run {plugin.family} optimizers such as {plugin.name!r}"
            )
        start_point(landscape, spec)

    def run(self, specs: Sequence[RunSpec]) -> RunResult:
        rows: list[dict[str, Any]] = []
        curves: list[pd.DataFrame] = []
        env = environment(jax_device())
        for _, group in groupby(specs, key=_group_key):
            group = list(group)
            landscape = spec_landscape(group[0])
            family = registry.optimizer(group[0].optimizer).family
            if family == "optax":
                metrics, group_curves = _run_optax(group, landscape)
                curves.extend(group_curves)
            else:
                compile_s = _warm_up(landscape)
                metrics = [_run_scipy(s, landscape, compile_s) for s in group]
            rows.extend(s.columns() | {"family": family} | m | env for s, m in zip(group, metrics, strict=True))
        curve_frame = pd.concat(curves, ignore_index=True) if curves else RunResult(pd.DataFrame()).curves
        return RunResult(pd.DataFrame(rows), curve_frame)


runner = LandscapeRunner()
