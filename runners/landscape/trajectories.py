"""Trajectories: the path of the first few starts of each 2-D run, stored as `x.<i>` curves.

optax runs are recorded by the program that runs them: when one of its runs is recorded, it also
returns every run's iterate at the steps of `step_grid`. scipy runs are watched while they run
(`watch`, in the pool worker): the points where the best value so far improved, counted in
evaluations. Recording happens while the study runs, so reports never re-run anything. Noisy
instances are not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from optbench.runners.landscape.common import spec_landscape

from optbench.spec import RunSpec, per_setting

DEFAULT_STARTS = 3
EVERY_STEP_UNTIL = 100
LOG_POINTS = 100
MAX_SCIPY_POINTS = 400
PREFIX = "x."
PATH_FIELD = "_path"


@per_setting
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


def optax_curves(specs: Sequence[RunSpec], starts: np.ndarray, out, steps: int) -> pd.DataFrame:
    """The recorded starts' paths from the program's iterates (`BatchOutput.path`, at
    `path_steps`), each cut where its run stopped (target reached, diverged, budget)."""
    chosen = [i for i, spec in enumerate(specs) if is_recorded(spec)]
    if not chosen or out.path is None:
        return curves_of([], [])
    grid = np.concatenate([[0], out.path_steps])
    paths = []
    for i in chosen:
        stop = min(int(out.stop[i]), steps)
        kept = grid <= stop
        points = np.concatenate([np.asarray(starts[i])[None], out.path[i]])[kept]
        if grid[kept][-1] == stop:
            paths.append((grid[kept], points))
        else:
            paths.append((np.append(grid[kept], stop), np.vstack([points, out.x[i]])))
    return curves_of([specs[i].key for i in chosen], paths)


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
