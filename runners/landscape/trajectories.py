"""Trajectories: the path of the first few starts of each 2-D run, stored as `x.<i>` curves.

optax runs are replayed by a small compiled loop of their own (every step's iterate, from the
same start point, the same optimizer and hyperparameters; landscapes evaluated on their own rows
as in the main program). scipy runs are watched while they run (`watch`, in the pool worker):
the points where the best value so far improved, counted in evaluations. Recording happens
while the study runs, so reports never re-run anything. Noisy instances are not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from optbench.runners.landscape import program_store
from optbench.runners.landscape.common import landscape_for, spec_landscape

from optbench.spec import RunSpec

DEFAULT_STARTS = 3
EVERY_STEP_UNTIL = 100
LOG_POINTS = 100
MAX_SCIPY_POINTS = 400
PREFIX = "x."
PATH_FIELD = "_path"


def recorded_starts(spec: RunSpec) -> int:
    """How many starts of the spec's setting to record: the `trajectories` option, else 3 for
    2-D landscapes and 0 above; never for noisy instances."""
    landscape = spec_landscape(spec)
    if getattr(landscape, "noise", None) is not None:
        return 0
    chosen = spec.opts.get("trajectories")
    if chosen is None:
        return DEFAULT_STARTS if landscape.dim == 2 else 0
    return int(chosen)


def is_recorded(spec: RunSpec) -> bool:
    return spec.start < recorded_starts(spec)


def step_grid(steps: int) -> np.ndarray:
    """Every step up to 100, then 100 log-spaced steps to the end."""
    head = np.arange(min(steps, EVERY_STEP_UNTIL) + 1)
    tail = np.round(np.geomspace(max(EVERY_STEP_UNTIL, 1), max(steps, 1), LOG_POINTS))
    return np.unique(np.concatenate([head, tail[tail <= steps]])).astype(np.int64)


def curves_of(keys: Sequence[str], paths: Sequence[tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Long curve rows (run_key, step, `x.<i>`, value) of each run's (steps, points) path."""
    columns = ["run_key", "step", "name", "value"]
    if not keys:
        return pd.DataFrame(columns=columns)
    dim = np.asarray(paths[0][1]).shape[1]
    steps = [np.asarray(s) for s, _ in paths]
    points = [np.asarray(p, dtype=np.float64) for _, p in paths]
    lengths = np.array([len(s) for s in steps])
    key = np.repeat(np.asarray(keys, dtype=object), lengths)
    step = np.concatenate(steps).astype(np.int64)
    values = np.concatenate(points)
    frame = pd.DataFrame(
        {
            "run_key": np.tile(key, dim),
            "step": np.tile(step, dim),
            "name": np.repeat([f"{PREFIX}{i}" for i in range(dim)], len(step)),
            "value": values.T.reshape(-1),
        }
    )
    return frame[np.isfinite(frame["value"].to_numpy())].reset_index(drop=True)


def _program(variant, landscapes: tuple[tuple, ...], counts: tuple[int, ...], steps: int):
    """The compiled `_loop` (once per process, `program_store.compiled`), loaded from the
    program store when a process before this one traced it."""
    built = [landscape_for(*key) for key in landscapes]
    rows = jax.ShapeDtypeStruct((sum(counts), built[0].dim), jnp.float64)
    column = jax.ShapeDtypeStruct((sum(counts),), jnp.float64)
    return program_store.compiled(
        ("trajectory", variant, landscapes, counts, steps),
        [variant.plugin, *built],
        lambda: _loop(variant, landscapes, counts, steps),
        (rows, {name: column for name in variant.traced}),
    )


def _loop(variant, landscapes: tuple[tuple, ...], counts: tuple[int, ...], steps: int):
    """A loop over `steps` of one optax variant on rows grouped by landscape; returns every
    iterate (steps + 1, rows, dim)."""
    fns = [landscape_for(*key).fn for key in landscapes]
    edges = np.cumsum([0, *counts])

    def evaluate(x):
        parts = [
            jax.vmap(jax.value_and_grad(fn))(x[a:b])
            for fn, a, b in zip(fns, edges[:-1], edges[1:], strict=True)
        ]
        return jnp.concatenate([p[0] for p in parts]), jnp.concatenate([p[1] for p in parts])

    init = jax.vmap(lambda x, hp: variant.build(hp).init(x))
    update = jax.vmap(lambda g, s, x, hp, f: variant.update(g, s, x, hp, f))

    def run(x0, hps):
        def step(carry, _):
            x, state = carry
            value, gradient = evaluate(x)
            updates, state = update(gradient, state, x, hps, value)
            x = optax.apply_updates(x, updates)
            return (x, state), x

        _, xs = jax.lax.scan(step, (x0, init(x0, hps)), None, length=steps)
        return jnp.concatenate([x0[None], xs])

    return run


def optax_curves(
    variant, specs: Sequence[RunSpec], starts: np.ndarray, stops: np.ndarray, steps: int
) -> pd.DataFrame:
    """The recorded starts' paths, each cut where its run stopped (target reached, diverged)."""
    chosen = [i for i, spec in enumerate(specs) if is_recorded(spec)]
    if not chosen:
        return curves_of([], [])
    keys = {i: _key(specs[i]) for i in chosen}
    order = sorted(chosen, key=lambda i: (repr(keys[i]), i))
    landscapes = tuple(dict.fromkeys(keys[i] for i in order))
    counts = tuple(sum(keys[i] == k for i in order) for k in landscapes)
    hps = {name: np.array([float(specs[i].hp[name]) for i in order]) for name in variant.traced}
    xs = np.asarray(_program(variant, landscapes, counts, steps)(starts[order], hps))
    grid = step_grid(steps)
    paths = []
    for row, i in enumerate(order):
        kept = np.union1d(grid[grid <= stops[i]], [min(int(stops[i]), steps)])
        paths.append((kept, xs[kept, row]))
    return curves_of([specs[i].key for i in order], paths)


def _key(spec: RunSpec) -> tuple:
    opts = spec.opts
    return (spec.problem, opts.get("dim"), opts.get("instance", 0))


def watch(counted, spec: RunSpec, x0: np.ndarray) -> tuple[list, list] | None:
    """For a recorded scipy start: wrap the counted objective so that every point where the
    best value so far improved is kept, with its evaluation count; None otherwise."""
    if not is_recorded(spec):
        return None
    steps, points = [0], [np.array(x0, dtype=np.float64)]
    inner = counted.fun

    def fun(x):
        before = counted.best_f
        value = inner(x)
        if counted.best_f < before and not np.array_equal(counted.best_x, points[-1]):
            steps.append(counted.n_fev)
            points.append(counted.best_x.copy())
        return value

    counted.fun = fun
    return steps, points


def path_fields(path: tuple[list, list] | None) -> dict:
    """The row field that carries a watched path back from a pool worker (none if unwatched)."""
    if path is None:
        return {}
    steps, points = np.asarray(path[0]), np.asarray(path[1])
    if len(steps) > MAX_SCIPY_POINTS:
        keep = np.unique(np.linspace(0, len(steps) - 1, MAX_SCIPY_POINTS).astype(int))
        steps, points = steps[keep], points[keep]
    return {PATH_FIELD: (steps, points)}
