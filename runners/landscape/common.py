"""What every landscape path shares: the landscape of a spec, its start, targets and row metrics."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optbench import registry
from optbench.contracts import Landscape
from optbench.errors import OptbenchError
from optbench.spec import RunSpec

DEFAULT_STEPS = 1000
DEFAULT_TARGET = 1e-8
DIVERGENCE_FACTOR = 1e6
TARGETS = tuple(10.0**k for k in range(1, -9, -1))
FIXED_BUDGETS = (10, 100, 1000)
CURVE_POINTS = 12
SAMPLER_CHUNK = 64


def target_label(target: float) -> str:
    """`1e-03` → `1e-3`: the suffix of the `steps_to.*` and `fev_to.*` columns."""
    mantissa, exponent = f"{target:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


STEPS_TO = tuple(f"steps_to.{target_label(t)}" for t in TARGETS)
FEV_TO = tuple(f"fev_to.{target_label(t)}" for t in TARGETS)
GAP_AT = tuple(f"gap_at.{n}" for n in FIXED_BUDGETS)


@cache
def landscape_for(problem: str, dim: int | None, instance: int) -> Landscape:
    """The landscape of a spec, built once per process."""
    return registry.landscape(problem).make(dim=dim, instance=instance)


def spec_landscape(spec: RunSpec) -> Landscape:
    opts = spec.opts
    return landscape_for(spec.problem, opts.get("dim"), opts.get("instance", 0))


@partial(jax.jit, static_argnums=2)
def _unit_points(seed: jax.Array, starts: jax.Array, dim: int, restart: jax.Array) -> jax.Array:
    """Uniform [0, 1) points, one per start, from the counter-based key (seed, start, restart)."""

    def one(start):
        key = jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), start), restart)
        return jax.random.uniform(key, (dim,), jnp.float64)

    return jax.vmap(one)(starts)


def unit_points(seed: int, starts: Sequence[int], dim: int, restart: int = 0) -> np.ndarray:
    """Uniform [0, 1)^dim points, row i from (seed, starts[i], restart), whatever the batch.

    Drawn `SAMPLER_CHUNK` starts a call (the tail padded), so the sampler compiles once per
    dimension instead of once per batch size (0.3-0.7 s each on 2 cores).
    """
    starts = np.asarray(starts, dtype=np.int64)
    padded = np.zeros(-(-len(starts) // SAMPLER_CHUNK) * SAMPLER_CHUNK, np.int64)
    padded[: len(starts)] = starts
    chunks = [
        np.asarray(_unit_points(np.int64(seed), chunk, dim, np.int64(restart)))
        for chunk in padded.reshape(-1, SAMPLER_CHUNK)
    ]
    return np.concatenate(chunks)[: len(starts)] if chunks else np.empty((0, dim))


def uniform_points(landscape: Landscape, seed: int, starts: Sequence[int], restart: int = 0):
    """Uniform points in the bounds, row i from (seed, starts[i], restart): the same point for
    every optimizer (paired comparison), in every process, however the starts are batched."""
    unit = unit_points(seed, starts, landscape.dim, restart)
    return landscape.lower + unit * (landscape.upper - landscape.lower)


def uniform_point(landscape: Landscape, seed: int, start: int, restart: int = 0) -> np.ndarray:
    """One uniform point in the bounds from (seed, start[, restart])."""
    return uniform_points(landscape, seed, [start], restart)[0]


def start_point(landscape: Landscape, spec: RunSpec) -> np.ndarray:
    """The explicit `x0`, or a uniform point in the bounds from (seed, start)."""
    return start_points(landscape, [spec])[0]


def start_points(landscape: Landscape, specs: Sequence[RunSpec]) -> np.ndarray:
    """Row i: the explicit `x0` of specs[i], or its uniform point from (seed, start)."""
    points = np.empty((len(specs), landscape.dim))
    by_seed: dict[int, list[int]] = {}
    for i, spec in enumerate(specs):
        x0 = dict(spec.options).get("x0")
        if x0 is not None:
            points[i] = landscape.check_point(x0)
        else:
            by_seed.setdefault(spec.seed, []).append(i)
    for seed, rows in by_seed.items():
        points[rows] = uniform_points(landscape, seed, [specs[i].start for i in rows])
    return points


def final_target(spec: RunSpec) -> float:
    """The gap at which a run counts as converged and stops."""
    target = spec.target if spec.target is not None else DEFAULT_TARGET
    if not isinstance(target, int | float) or isinstance(target, bool) or not target > 0:
        raise OptbenchError(f"target must be a positive number, got {target!r}")
    return float(target)


def step_budget(spec: RunSpec) -> int:
    """The step budget: `steps`, capped by `evaluations` (one per step plus the last)."""
    budgets = spec.budgets
    steps = budgets.get("steps", DEFAULT_STEPS)
    evaluations = budgets.get("evaluations")
    for name, value in (("steps", steps), ("evaluations", evaluations)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise OptbenchError(f"budget {name} must be a positive integer, got {value!r}")
    return int(steps if evaluations is None else min(steps, max(evaluations - 1, 1)))


def escape_limit(landscape: Landscape) -> float:
    """|x| beyond this ends a run as diverged: 1e6 domain widths."""
    return DIVERGENCE_FACTOR * float(np.max(landscape.upper - landscape.lower))


def curve_grid(steps: int) -> np.ndarray:
    """A log-spaced grid of steps 0..steps, always holding the fixed-budget steps it reaches."""
    grid = np.round(np.logspace(0, np.log10(steps + 1), CURVE_POINTS)).astype(int) - 1
    fixed = [n for n in FIXED_BUDGETS if n <= steps]
    return np.unique(np.concatenate([[0, steps], grid, fixed])).astype(np.int64)


def place(landscape: Landscape, x: np.ndarray, f: float) -> dict[str, Any]:
    """Final value metrics of a finished, finite run: gap, distance and which minimiser."""
    x_dist, found = landscape.distance_to_minimizer(x)
    return {
        "f_final": float(f),
        "f_gap": landscape.gap(f),
        "x_dist": x_dist,
        "found": found,
        "x_final": json.dumps([float(v) for v in x]),
        "in_bounds": inside(landscape, x),
    }


def inside(landscape: Landscape, x: np.ndarray) -> bool:
    """Whether `x` lies in the domain, where reaching a target counts."""
    return bool(np.all((x >= landscape.lower) & (x <= landscape.upper)))


DIVERGED = {"f_final": np.inf, "f_gap": np.inf, "x_dist": np.inf, "found": -1, "x_final": None,
            "in_bounds": False}  # fmt: skip


def is_escaped(landscape: Landscape, x: np.ndarray, f: float) -> bool:
    """A non-finite value or point, or a point beyond the escape limit."""
    if not (np.isfinite(f) and np.all(np.isfinite(x))):
        return True
    return float(np.max(np.abs(x))) > escape_limit(landscape)
