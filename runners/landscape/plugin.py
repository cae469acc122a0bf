"""The landscape runner: optimizers on test functions from seeded multi-starts, COCO-style metrics.

optax optimizers run compiled and vectorized (`optax_program`), scipy methods one `minimize`
per start over a process pool (`scipy_pool`), Keras optimizers one start at a time through
`optbench.runners.landscape.keras_loop.run_keras`. Every path returns the same row shape.
"""

from __future__ import annotations

import importlib
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

import jax
import numpy as np
import pandas as pd
from optbench.runners.landscape import checks, optax_program, scipy_pool, trajectories
from optbench.runners.landscape.common import (
    DIVERGED,
    FEV_TO,
    FIXED_BUDGETS,
    GAP_AT,
    STEPS_TO,
    TARGETS,
    curve_grid,
    escape_limit,
    final_target,
    is_escaped,
    landscape_for,
    place,
    spec_landscape,
    start_point,
    start_points,
    step_budget,
    unit_points,
)

from optbench import inject, registry
from optbench.contracts import CURVE_COLUMNS, Landscape, RunResult
from optbench.environment import environment, jax_device
from optbench.errors import OptbenchError
from optbench.jax_cache import enable_compilation_cache
from optbench.spec import RunSpec, per_setting

jax.config.update("jax_enable_x64", True)
enable_compilation_cache()

KERAS_MODULE = "optbench.runners.landscape.keras_loop"
OPTAX_LANES = 2


def family_of(spec: RunSpec) -> str:
    return registry.optimizer(spec.optimizer).family


@per_setting
def _landscape_key(spec: RunSpec) -> tuple:
    return _landscape_key_of(spec.problem, spec.options)


@cache
def _landscape_key_of(problem: str, options: tuple) -> tuple:
    opts = dict(options)
    return (problem, opts.get("dim"), opts.get("instance", 0))


@per_setting
def variant_of(spec: RunSpec) -> optax_program.Variant:
    """The optax variant a spec runs: its real hyperparameters traced when the optimizer allows."""
    key = _landscape_key(spec)
    return _variant(spec.optimizer, spec.hyperparameters, landscape_for(*key).dim)


@cache
def _variant(optimizer: str, hyperparameters: tuple, dim: int) -> optax_program.Variant:
    hp = dict(hyperparameters)
    variant = optax_program.Variant.of(optimizer, hp)
    if optax_program.traceable(variant, dim):
        return variant
    return optax_program.concrete(variant, hp)


@per_setting
def batch_key(spec: RunSpec) -> tuple:
    """Specs that share a key run together: one compiled program (optax) or one pool map."""
    family = family_of(spec)
    if family == "optax":
        return (family, step_budget(spec), spec_landscape(spec).dim)
    common = (family, spec.budget, spec.target, spec.opts.get("restarts", False))
    if family == "scipy":
        return (*common, spec.optimizer, spec.hyperparameters)
    return (*common, spec.optimizer, spec.hyperparameters, _landscape_key(spec))


def _grouped(specs: Sequence[RunSpec], key=batch_key) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault(key(spec), []).append(i)
    return groups


@dataclass(frozen=True)
class Plan:
    """What one optax program holds: its optimizer variants, its landscapes (in order), the
    rows each landscape's slice holds (enough for the most runs any variant makes on it) and
    whether it records the iterates of the starts whose paths are kept (`trajectories`)."""

    variants: tuple[optax_program.Variant, ...]
    landscapes: tuple[tuple, ...]
    capacity: tuple[int, ...]
    varying: tuple[frozenset[str], ...]
    paths: bool = False
    settings: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @classmethod
    def of(cls, specs: Sequence[RunSpec]) -> Plan:
        settings: Counter = Counter()
        first: dict[str, RunSpec] = {}
        for s in specs:
            settings[s.setting] += 1
            if s.setting not in first or s.start < first[s.setting].start:
                first[s.setting] = s
        counts: Counter = Counter()
        values: dict[tuple, set] = {}
        for setting, n in settings.items():
            spec = first[setting]
            landscape, variant = _landscape_key(spec), variant_of(spec)
            counts[(variant, landscape)] += n
            for name in variant.traced:
                values.setdefault((variant, name), set()).add(dict(spec.hyperparameters)[name])
        variants = tuple(sorted({v for v, _ in counts}, key=repr))
        landscapes = tuple(sorted({k for _, k in counts}, key=repr))
        most = {k: max(n for (_, key), n in counts.items() if key == k) for k in landscapes}
        varying = tuple(frozenset(k for k in v.traced if len(values[(v, k)]) > 1) for v in variants)
        capacity = tuple(optax_program.capacity_for(most[k]) for k in landscapes)
        paths = any(trajectories.is_recorded(s) for s in first.values())
        return cls(variants, landscapes, capacity, varying, paths, frozenset(settings))

    def covers(self, specs: Sequence[RunSpec]) -> bool:
        """Whether every spec runs on this plan's program with the values it shares (at once
        when every spec's setting is one the plan was made from)."""
        if all(s.setting in self.settings for s in specs):
            return True
        other = Plan.of(specs)
        known = dict(zip(self.variants, self.varying, strict=True))
        return (
            set(other.landscapes) <= set(self.landscapes)
            and other.paths <= self.paths
            and set(other.variants) <= set(known)
            and all(w <= known[v] for v, w in zip(other.variants, other.varying, strict=True))
        )


def _keras_run():
    """`run_keras` from the Keras landscape module, or an error saying it is not installed."""
    try:
        module = importlib.import_module(KERAS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name not in (KERAS_MODULE, "keras", "tensorflow"):
            raise
        raise OptbenchError(
            f"Keras optimizers cannot run on landscapes here: {KERAS_MODULE} ({exc.name}) is not "
            "available; use an optax or scipy optimizer"
        ) from None
    return module.run_keras


def _spec_columns(specs: Sequence[RunSpec], family: str) -> list[dict[str, Any]]:
    """The spec columns of each run; specs that differ only in seed and start share the rest."""
    shared: dict[str, dict] = {}
    rows = []
    for s in specs:
        if s.setting not in shared:
            shared[s.setting] = s.columns() | {"dim": spec_landscape(s).dim, "family": family}
        rows.append(shared[s.setting] | {"run_key": s.key, "seed": s.seed, "start": s.start})
    return rows


def _spec_frame(specs: Sequence[RunSpec], family: str) -> pd.DataFrame:
    """`_spec_columns` as a frame, made a setting at a time: each setting's columns once, taken
    for each of its runs, then the columns of the runs' own (key, seed, start)."""
    first: dict[str, int] = {}
    shared: list[dict[str, Any]] = []
    which = np.empty(len(specs), np.intp)
    for i, s in enumerate(specs):
        j = first.get(s.setting)
        if j is None:
            j = first[s.setting] = len(shared)
            shared.append(s.columns() | {"dim": spec_landscape(s).dim, "family": family})
        which[i] = j
    frame = pd.DataFrame(shared).take(which).reset_index(drop=True)
    frame["run_key"] = [s.key for s in specs]
    frame["seed"] = np.fromiter((s.seed for s in specs), np.int64, len(specs))
    frame["start"] = np.fromiter((s.start for s in specs), np.int64, len(specs))
    return frame


def with_constants(frame: pd.DataFrame, constants: dict[str, Any]) -> pd.DataFrame:
    """`frame` with a column per constant, added in one step (`assign` adds them one by one)."""
    if not constants:
        return frame
    return pd.concat([frame, pd.DataFrame(constants, index=frame.index)], axis=1)


@dataclass(frozen=True)
class _Setting:
    """What the optax path needs of a run setting, found once for all its starts."""

    variant: int
    landscape: int
    hp: dict[str, Any]
    final: float


def _settings_of(specs: Sequence[RunSpec], plan: Plan) -> list[_Setting]:
    """Each spec's `_Setting` in `plan` (the same object for every start of a setting)."""
    found: dict[str, _Setting] = {}
    out = []
    for spec in specs:
        setting = found.get(spec.setting)
        if setting is None:
            setting = found[spec.setting] = _Setting(
                plan.variants.index(variant_of(spec)),
                plan.landscapes.index(_landscape_key(spec)),
                spec.hp,
                final_target(spec),
            )
        out.append(setting)
    return out


def _optax_rows(specs: list[RunSpec], plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One program for the plan; one call of it per variant, over every landscape at once."""
    steps = step_budget(specs[0])
    landscapes = {_landscape_key(s): s for s in specs}
    branches = [
        optax_program.Branch(
            key, spec_landscape(landscapes[key]) if key in landscapes else landscape_for(*key)
        )
        for key in plan.landscapes
    ]
    path_steps = trajectories.step_grid(steps)[1:] if plan.paths else ()
    calls: dict[int, list[int]] = {}
    settings = _settings_of(specs, plan)
    for i, setting in enumerate(settings):
        calls.setdefault(setting.variant, []).append(i)
    frames, curves = [], []
    for chosen, members in calls.items():
        group = [specs[i] for i in members]
        mine = [settings[i] for i in members]
        index = np.fromiter((m.landscape for m in mine), np.intp, len(mine))
        runs = optax_program.Runs(
            landscape=index,
            starts=_starts(branches, index, group),
            settings=[m.hp for m in mine],
            final=np.fromiter((m.final for m in mine), np.float64, len(mine)),
            seeds=optax_program.run_keys(
                np.fromiter((s.seed for s in group), np.int64, len(group)),
                np.fromiter((s.start for s in group), np.int64, len(group)),
            ),
        )
        out = optax_program.run_starts(
            plan.variants,
            chosen,
            branches,
            plan.capacity,
            runs,
            steps,
            plan.varying,
            path_steps=path_steps,
        )
        metrics = _optax_metrics([b.landscape for b in branches], index, out, runs.final)
        rows = _spec_frame(group, "optax").join(metrics)
        frames.append(rows)
        curves.append(_optax_curves(rows["run_key"], out))
        curves.append(trajectories.optax_curves(group, runs.starts, out, steps))
    return pd.concat(frames, ignore_index=True), pd.concat(curves, ignore_index=True)


def _starts(branches, index: np.ndarray, group: Sequence[RunSpec]) -> np.ndarray:
    """Start points of the runs: the unit points of their (seed, start) drawn once for all
    landscapes (they share a dimension), then scaled into each one's bounds."""
    if any("x0" in dict(s.options) for s in group):
        return _starts_one_by_one(branches, index, group)
    dim = branches[0].landscape.dim
    points = np.empty((len(group), dim))
    seeds = np.fromiter((s.seed for s in group), np.int64, len(group))
    starts = np.fromiter((s.start for s in group), np.int64, len(group))
    for seed in np.unique(seeds):
        rows = np.flatnonzero(seeds == seed)
        wanted, where = np.unique(starts[rows], return_inverse=True)
        unit = unit_points(int(seed), wanted, dim)[where]
        for j in np.unique(index[rows]):
            mine = index[rows] == j
            low, high = branches[j].landscape.lower, branches[j].landscape.upper
            points[rows[mine]] = low + unit[mine] * (high - low)
    return points


def _starts_one_by_one(branches, index: np.ndarray, group: Sequence[RunSpec]) -> np.ndarray:
    """Start points of runs some of which name their own `x0`, a landscape at a time."""
    dim = branches[0].landscape.dim
    points = np.empty((len(group), dim))
    for j in np.unique(index):
        rows = np.flatnonzero(index == j)
        points[rows] = start_points(branches[j].landscape, [group[i] for i in rows])
    return points


def _nearest(
    landscapes: Sequence[Landscape], index: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the nearest global minimiser of each run's landscape, and which one."""
    dist, found = np.empty(len(x)), np.empty(len(x), dtype=int)
    for j in np.unique(index):
        members = np.flatnonzero(index == j)
        minimizers = landscapes[j].minimizers
        d = np.linalg.norm(x[members][:, None, :] - minimizers[None, :, :], axis=2)
        dist[members], found[members] = d.min(axis=1), d.argmin(axis=1)
    return dist, found


def _optax_metrics(
    landscapes: Sequence[Landscape], index: np.ndarray, out, final: np.ndarray
) -> pd.DataFrame:
    """Row metrics of vectorized runs; run i is on `landscapes[index[i]]` with final target
    `final[i]`."""
    n = len(index)
    status = _STATUS_TEXT[out.status]
    x, f = out.x, out.f
    f_min = np.array([landscape.f_min for landscape in landscapes])[index]
    limit = np.array([escape_limit(landscape) for landscape in landscapes])[index]
    lower = np.stack([landscape.lower for landscape in landscapes])[index]
    upper = np.stack([landscape.upper for landscape in landscapes])[index]
    escaped = ~np.isfinite(f) | ~np.all(np.isfinite(x), axis=1)
    escaped |= np.max(np.abs(np.nan_to_num(x, nan=np.inf)), axis=1) > limit
    diverged = (out.status == optax_program.DIVERGED) | escaped
    status[diverged] = "diverged"
    distance, found = _nearest(landscapes, index, np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0))
    places = pd.DataFrame(
        {
            "f_final": np.where(diverged, np.inf, f),
            "f_gap": np.where(diverged, np.inf, f - f_min),
            "x_dist": np.where(diverged, np.inf, distance),
            "found": np.where(diverged, -1, found),
            "x_final": _point_texts(x, diverged),
            "in_bounds": ~diverged & np.all((x >= lower) & (x <= upper), axis=1),
        }
    )
    hits = np.where(out.hits >= 0, out.hits, np.nan).astype(np.float64)
    on_ladder = _ladder_index(final)
    from_ladder = hits[np.arange(n), np.maximum(on_ladder, 0)]
    at_stop = np.where(status == "converged", out.stop, np.nan).astype(np.float64)
    steps_to_target = np.where(on_ladder >= 0, from_ladder, at_stop)
    evaluations = out.stop + 1
    share = out.run_s * evaluations / max(int(evaluations.sum()), 1)
    frame = places.assign(
        status=status,
        steps=out.stop,
        n_fev=evaluations,
        n_gev=evaluations,
        n_hev=0,
        restarts=0,
        steps_to_target=steps_to_target,
        fev_to_target=steps_to_target + 1,
        diverged_step=np.where(status == "diverged", out.stop, np.nan),
        wall_s=share,
        compile_s=out.compile_s / n if out.compiled_now else 0.0,
        program=out.program,
    )
    ladder = {name: hits[:, i] for i, name in enumerate(STEPS_TO)}
    ladder |= {name: hits[:, i] + 1 for i, name in enumerate(FEV_TO)}
    for name, budget in zip(GAP_AT, FIXED_BUDGETS, strict=True):
        column = np.flatnonzero(out.grid == budget)
        ladder[name] = out.curve[:, column[0]] if column.size else np.full(n, np.nan)
    return frame.assign(**ladder)


_STATUS_TEXT = np.array([optax_program.STATUS_NAMES.get(code) for code in range(4)], dtype=object)


def _ladder_index(final: np.ndarray) -> np.ndarray:
    """Each final target's place in `TARGETS`, or -1 for a target off the ladder."""
    equal = np.asarray(final, np.float64)[:, None] == np.asarray(TARGETS, np.float64)[None, :]
    return np.where(equal.any(axis=1), equal.argmax(axis=1), -1)


def _point_texts(x: np.ndarray, missing: np.ndarray) -> list[str | None]:
    """Each row of `x` as JSON text (the `x_final` column), None where `missing`: the whole
    array in one `json.dumps` (floats as `repr` writes them), cut into rows."""
    if not len(x):
        return []
    rows = json.dumps(x.tolist())[2:-2].split("], [")
    return [None if gone else f"[{row}]" for gone, row in zip(missing, rows, strict=True)]


def _optax_curves(run_keys: pd.Series, out) -> pd.DataFrame:
    n, points = out.curve.shape
    keys = np.repeat(run_keys.to_numpy(dtype=object), points)
    values = out.curve.reshape(-1)
    keep = np.isfinite(values)
    return pd.DataFrame(
        {
            "run_key": keys[keep],
            "step": np.tile(out.grid, n)[keep],
            "name": "f_gap",
            "value": values[keep],
        }
    )


def _scipy_rows(specs: list[RunSpec]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of the scipy runs, and the paths the watched ones recorded, as curves."""
    inject.extra_work(len(specs))
    rows = scipy_pool.run_specs(specs)
    paths = [row.pop(trajectories.PATH_FIELD, None) for row in rows]
    frame = pd.DataFrame([s | r for s, r in zip(_spec_columns(specs, "scipy"), rows, strict=True)])
    watched = [i for i, path in enumerate(paths) if path is not None]
    keys = [specs[i].key for i in watched]
    return frame, trajectories.curves_of(keys, [paths[i] for i in watched])


def trajectory_metrics(landscape: Landscape, values: np.ndarray, x: np.ndarray, final: float):
    """Row metrics and the curve of a one-start run from f before each step and the final x."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    f_last = float(np.asarray(landscape.jitted(x))) if np.all(np.isfinite(x)) else np.nan
    gaps = np.append(np.asarray(values, dtype=np.float64), f_last) - landscape.f_min
    steps = gaps.size - 1
    bad = np.flatnonzero(~np.isfinite(gaps))
    if bad.size or is_escaped(landscape, x, f_last):
        stop = int(bad[0]) if bad.size else steps
        metrics, status = dict(DIVERGED), "diverged"
    else:
        metrics, stop = place(landscape, x, f_last), steps
        reached = metrics["f_gap"] <= final and metrics["in_bounds"]
        status = "converged" if reached else "budget"
    seen = np.where(np.isfinite(gaps[: stop + 1]), gaps[: stop + 1], np.inf)
    first = [np.flatnonzero(seen <= t) for t in TARGETS]
    hits = np.array([float(h[0]) if h.size else np.nan for h in first])
    grid = curve_grid(steps)
    reach = np.flatnonzero(seen <= final)
    final_hit = float(reach[0]) if reach.size else np.nan
    row = metrics | {
        "status": status,
        "steps": stop,
        "n_fev": stop + 1,
        "n_gev": stop + 1,
        "n_hev": 0,
        "restarts": 0,
        "steps_to_target": final_hit,
        "fev_to_target": final_hit + 1,
        "diverged_step": float(stop) if status == "diverged" else np.nan,
        **dict(zip(STEPS_TO, hits, strict=True)),
        **dict(zip(FEV_TO, hits + 1, strict=True)),
        **{
            name: float(gaps[n]) if n <= stop else np.inf
            for name, n in zip(GAP_AT, FIXED_BUDGETS, strict=True)
            if n <= steps
        },
    }
    curve = np.where(grid <= stop, gaps[np.minimum(grid, steps)], np.inf)
    return row, grid, curve


def _keras_rows(specs: list[RunSpec]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One Keras run per start, through `run_keras` (TensorFlow backend)."""
    run_keras = _keras_run()
    plugin = registry.optimizer(specs[0].optimizer)
    landscape = spec_landscape(specs[0])
    value_and_grad = jax.jit(jax.value_and_grad(landscape.fn))
    steps, final = step_budget(specs[0]), final_target(specs[0])
    rows, curves = [], []
    for spec in specs:
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            x, values = run_keras(
                plugin.build(**spec.hp), value_and_grad, start_point(landscape, spec), steps
            )
        wall = time.perf_counter() - t0
        row, grid, curve = trajectory_metrics(landscape, values, x, final)
        rows.append(row | {"wall_s": wall, "compile_s": 0.0})
        keep = np.isfinite(curve)
        curves.append(
            pd.DataFrame(
                {"run_key": spec.key, "step": grid[keep], "name": "f_gap", "value": curve[keep]}
            )
        )
    return _spec_frame(specs, "keras").join(pd.DataFrame(rows)), pd.concat(
        curves, ignore_index=True
    )


@per_setting
def run_work(spec: RunSpec) -> float:
    """Expected cost of a run in scipy-evaluation units, for the progress bar: a vectorized
    optax step costs ~1/500 of one (2.6e-7 s vs 1.4e-4 s measured on CPU), a scipy method
    spends ~50 evaluations per dimension, a Keras step ~5."""
    family = family_of(spec)
    steps = step_budget(spec)
    if family == "optax":
        return steps / 500
    if family == "scipy":
        return min(steps + 1, 50 * spec_landscape(spec).dim)
    return 5.0 * steps


class LandscapeRunner:
    """Runs scipy, optax and Keras optimizers on landscapes; one row per (spec, start)."""

    name = "landscape"
    description = "Optimizers on test landscapes from seeded multi-starts; COCO-style metrics."
    options: ClassVar[dict[str, Any]] = {
        "dim": None,
        "instance": 0,
        "x0": None,
        "restarts": False,
        "allow_outside": False,
        "trajectories": None,
    }  # trajectories: starts whose path is recorded (default 3 on 2-D landscapes, 0 above)

    def check(self, spec: RunSpec) -> None:
        """Fail before running on a bad problem, option, budget or start point."""
        landscape = spec_landscape(spec)
        family = family_of(spec)
        checks.check_budget(spec)
        checks.check_flags(spec)
        checks.check_x0(spec, landscape)
        checks.check_memory(spec, landscape)
        if family == "keras":
            _keras_run()
        if family == "optax" and "seconds" in spec.budgets:
            raise OptbenchError(
                "the seconds budget applies to scipy and keras runs; optax runs are vectorized "
                "and bounded by steps or evaluations"
            )
        if spec.opts.get("restarts") and family != "scipy":
            raise OptbenchError(f"restarts=true is supported for scipy optimizers, not {family}")
        step_budget(spec)
        final_target(spec)

    def __init__(self) -> None:
        self._plans: dict[tuple, Plan] = {}

    def batches(self, specs: Sequence[RunSpec]) -> Iterator[list[RunSpec]]:
        """Per optimizer setting: every start, grid value and landscape of one program.

        The optax programs are planned here, over the whole study, so that every batch of one
        dimension runs on the same compiled program.
        """
        for key, indices in _grouped(specs).items():
            group = [specs[i] for i in indices]
            if key[0] != "optax":
                yield group
                continue
            self._plans[key] = Plan.of(group)
            for members in _grouped(group, key=variant_of).values():
                yield [group[i] for i in members]

    def work(self, spec: RunSpec) -> float:
        """Expected cost of a run, for the progress bar (see `run_work`)."""
        return run_work(spec)

    def lane(self, specs: Sequence[RunSpec]) -> str:
        """Large scipy batches go to the process pool, which runs beside this process's work;
        optax batches are spread over two lanes by their first run key. A compiled program runs
        on one core and releases the GIL, so the second lane keeps the other core busy once the
        pool is done (default study warm, 2 cores: 39.2-39.5 s against 44.0-45.1 s in one lane)."""
        family = family_of(specs[0])
        if family == "scipy" and len(specs) >= scipy_pool.IN_PROCESS_BELOW:
            return "pool" if scipy_pool.workers() > 1 else "process"
        lanes = min(OPTAX_LANES, scipy_pool.workers())
        if family == "optax" and lanes > 1:
            return f"optax-{int(specs[0].key[:8], 16) % lanes}"
        return "process"

    def run(self, specs: Sequence[RunSpec]) -> RunResult:
        """Rows (and curves) for every spec; specs may mix families, landscapes and optimizers."""
        env = environment(jax_device())
        frames, curves = [], []
        with np.errstate(all="ignore"):  # diverged runs overflow on purpose; they are rows
            self._run_groups(specs, frames, curves)
        rows = pd.DataFrame()
        if frames:
            rows = with_constants(pd.concat(frames, ignore_index=True), env)
        curve_frame = (
            pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=CURVE_COLUMNS)
        )
        return RunResult(rows, curve_frame)

    def _run_groups(self, specs: Sequence[RunSpec], frames: list, curves: list) -> None:
        for key, indices in _grouped(specs).items():
            group = [specs[i] for i in indices]
            family = key[0]
            if family == "optax":
                plan = self._plans.get(key)
                if plan is None or not plan.covers(group):
                    plan = Plan.of(group)
                rows, curve = _optax_rows(group, plan)
                curves.append(curve)
            elif family == "scipy":
                rows, paths = _scipy_rows(group)
                curves.append(paths)
            else:
                rows, curve = _keras_rows(group)
                curves.append(curve)
            frames.append(rows)


def x_final(rows: pd.DataFrame) -> list[np.ndarray | None]:
    """The final point of each row (None for a diverged run), from the `x_final` JSON text."""
    return [np.asarray(json.loads(v)) if isinstance(v, str) else None for v in rows["x_final"]]


runner = LandscapeRunner()
