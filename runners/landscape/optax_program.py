"""The optax path: one compiled program runs every start, setting and landscape of a dimension.

A program is keyed by its optimizer variants (optimizer + the non-numeric hyperparameters that
shape its code), the landscapes of one dimension with the rows each one's slice holds, and the
step budget. Real-valued hyperparameters are traced per-run values injected through
`optax.inject_hyperparams` (a learning-rate grid shares the program); the variant is a
`lax.switch` branch chosen by a run-time index, and each landscape is evaluated on its own
slice of rows. So a study compiles one program per dimension, not one per landscape ×
optimizer, and one call runs one optimizer on every landscape of that dimension; JAX's
persistent cache makes a second run compile nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.extend import core as jax_core
from optbench.runners.landscape import fast_trig, packed_state, program_store
from optbench.runners.landscape.common import TARGETS, curve_grid, escape_limit

from optbench import registry
from optbench.contracts import Landscape, OptimizerPlugin
from optbench.errors import OptbenchError

RUNNING, BUDGET, CONVERGED, DIVERGED = 0, 1, 2, 3
STATUS_NAMES = {BUDGET: "budget", CONVERGED: "converged", DIVERGED: "diverged"}
TRACE_ERRORS = (
    ValueError,
    TypeError,
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
)


def is_traceable(value: Any) -> bool:
    """Real numbers become traced scalars; integers, bools and text shape the program."""
    return isinstance(value, float | np.floating)


@dataclass(frozen=True)
class Variant:
    """An optimizer with its program-shaping hyperparameters; `template` fills unused inputs."""

    optimizer: str
    static: tuple[tuple[str, Any], ...]
    traced: tuple[str, ...]
    template: tuple[tuple[str, float], ...] = field(compare=False, hash=False)

    @classmethod
    def of(cls, optimizer: str, hp: Mapping[str, Any]) -> Variant:
        static = tuple(sorted(((k, v) for k, v in hp.items() if not is_traceable(v)), key=str))
        traced = tuple(sorted(k for k, v in hp.items() if is_traceable(v)))
        return cls(optimizer, static, traced, tuple((k, float(hp[k])) for k in traced))

    @property
    def plugin(self) -> OptimizerPlugin:
        return registry.optimizer(self.optimizer)

    def build(self, hp: Mapping[str, Any]) -> optax.GradientTransformation:
        return self.plugin.build(**dict(self.static), **{k: hp[k] for k in self.traced})

    def update(self, gradient, state, params, hp, value):
        extra = {"value": value} if getattr(self.plugin, "needs_value", False) else {}
        return self.build(hp).update(gradient, state, params, **extra)


@cache
def traceable(variant: Variant, dim: int) -> bool:
    """Whether the optimizer builds, inits and updates with its real hyperparameters traced
    (found once per machine and code version, then read from the program store)."""
    stem = program_store.digest(("traceable", variant, dim), [variant.plugin])
    return program_store.remembered(stem, lambda: _probe(variant, dim))


def _probe(variant: Variant, dim: int) -> bool:
    x = jax.ShapeDtypeStruct((dim,), jnp.float64)
    hp = {k: jax.ShapeDtypeStruct((), jnp.float64) for k in variant.traced}
    scalar = jax.ShapeDtypeStruct((), jnp.float64)

    def probe(x, hp, value):
        state = variant.build(hp).init(x)
        return variant.update(x, state, x, hp, value)

    try:
        jax.eval_shape(probe, x, hp, scalar)
    except TRACE_ERRORS:
        return False
    return True


def _batched_outputs(fn, args: tuple, batched: tuple) -> Any:
    """Which outputs of `fn(*args)` depend on the inputs flagged in `batched` (a pytree of bools
    shaped like `args`): a forward pass over the jaxpr, conservative inside nested calls."""
    closed, shapes = jax.make_jaxpr(fn, return_shape=True)(*args)
    jaxpr = closed.jaxpr
    live = {v for v, flag in zip(jaxpr.invars, jax.tree.leaves(batched), strict=True) if flag}
    for eqn in jaxpr.eqns:
        if any(isinstance(v, jax_core.Var) and v in live for v in eqn.invars):
            live.update(eqn.outvars)
    flags = [isinstance(v, jax_core.Var) and v in live for v in jaxpr.outvars]
    return jax.tree.unflatten(jax.tree.structure(shapes), flags)


@cache
def state_axes(variant: Variant, dim: int, varying: frozenset[str]) -> Any:
    """The `vmap` axes of the variant's state: leaves that never depend on a run's data (step
    counts, hyperparameters shared by every run of a call) stay unbatched, so bias corrections
    and schedules are computed once per step rather than once per run."""
    x = jax.ShapeDtypeStruct((dim,), jnp.float64)
    hp = {k: jax.ShapeDtypeStruct((), jnp.float64) for k in variant.traced}
    hp_flags = {k: k in varying for k in variant.traced}
    state = jax.eval_shape(lambda x, hp: variant.build(hp).init(x), x, hp)
    flags = _batched_outputs(lambda x, hp: variant.build(hp).init(x), (x, hp), (True, hp_flags))
    while True:
        inputs = (x, state, x, hp, jax.ShapeDtypeStruct((), jnp.float64))
        batched = (True, flags, True, hp_flags, True)
        _, after = _batched_outputs(variant.update, inputs, batched)
        merged = jax.tree.map(lambda a, b: a or b, flags, after)
        if merged == flags:
            break
        flags = merged
    return jax.tree.map(lambda flag: 0 if flag else None, flags)


def hyperparameter_axes(variant: Variant, varying: frozenset[str]) -> dict[str, int | None]:
    """Per-run hyperparameters are batched; those shared by the whole call are scalars."""
    return {k: 0 if k in varying else None for k in variant.traced}


def vmapped_init(variant: Variant, axes: Any, hp_axes: Mapping[str, int | None]):
    """Per-run states from per-run starts and (per-run or shared) hyperparameters."""
    return jax.vmap(
        lambda x, hp: variant.build(hp).init(x), in_axes=(0, dict(hp_axes)), out_axes=axes
    )


def vmapped_update(variant: Variant, axes: Any, hp_axes: Mapping[str, int | None]):
    """Per-run updates: (gradients, states, params, hyperparameters, values) → (updates, states)."""
    return jax.vmap(variant.update, in_axes=(0, axes, 0, dict(hp_axes), 0), out_axes=(0, axes))


def concrete(variant: Variant, hp: Mapping[str, Any]) -> Variant:
    """The variant with every hyperparameter fixed, for a `build` that cannot trace them."""
    return Variant(variant.optimizer, tuple(sorted(hp.items(), key=str)), (), ())


def ended(step, how):
    """A stopped run's step and status in one integer (`% 4`, `// 4`); a running run holds
    RUNNING (0), which no stopped run can."""
    return 4 * step + how


def _where_rows(mask, new, old):
    """Per run (leading axis): `new` where `mask`, else `old` (a stopped run stays put)."""
    return jnp.where(mask.reshape(mask.shape + (1,) * (new.ndim - 1)), new, old)


def _observed(landscape: Landscape, trig: str):
    """(x, key) → exact value, the value the optimizer sees, its gradient: noisy if the
    landscape is a noisy instance (`Landscape.noise`), exact otherwise; float64 sin and cos
    vectorised unless `trig` is "library"."""
    fn, noise = landscape.fn, getattr(landscape, "noise", None)

    def exact(x, key):
        f, g = jax.value_and_grad(fn)(x)
        return f, f, g

    def noisy(x, key):
        seen, g = jax.value_and_grad(lambda z: noise(fn(z), z, key))(x)
        return fn(x), seen, g

    batched = jax.vmap(exact if noise is None else noisy)
    return batched if trig == "library" else fast_trig.vectorised(batched)


def run_keys(seeds: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """One 32-bit noise seed per run from (seed, start): paired across optimizers."""
    mixed = np.asarray(seeds, np.uint64) * np.uint64(2654435761) + np.asarray(starts, np.uint64)
    return (mixed & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _build_program(
    variants: Sequence[Variant],
    varying: Sequence[frozenset[str]],
    landscapes: Sequence[Landscape],
    capacity: Sequence[int],
    steps: int,
    path_steps: Sequence[int] = (),
    trig: str = "vectorised",
):
    """The jittable function of (variant, starts, hyperparameters, per-run constants).

    Runs sit in one slice per landscape (`capacity[j]` rows each), so a landscape is evaluated
    on its own rows only: no branch runs on rows it does not own. The variant is a `lax.switch`
    branch picked by a run-time index. A target counts as reached only inside the domain:
    outside it some landscapes fall below their global minimum (Schwefel, Eggholder), which is
    escape, not success.

    With `path_steps`, every run's iterate x_p at each of those steps (p ≥ 1) is a further
    output: the loop's segments also end at each p − 1, whose last step moves a live run to x_p.
    Segment ends change nothing a run computes, so the other outputs are those of no paths.
    """
    observed = [_observed(landscape, trig) for landscape in landscapes]
    dim = landscapes[0].dim
    axes = [state_axes(v, dim, w) for v, w in zip(variants, varying, strict=True)]
    hp_axes = [hyperparameter_axes(v, w) for v, w in zip(variants, varying, strict=True)]
    noisy = any(getattr(landscape, "noise", None) is not None for landscape in landscapes)
    edges = np.cumsum([0, *capacity])
    slices = [(observed[j], int(a), int(b)) for j, (a, b) in enumerate(pairwise(edges)) if b > a]
    ladder = jnp.arange(len(TARGETS))
    after_last = jnp.asarray([*TARGETS, -np.inf])
    curve_steps = curve_grid(steps)
    ends = np.union1d(curve_steps, np.asarray(path_steps, np.int64) - 1).astype(np.int64)
    curve_columns = np.searchsorted(ends, curve_steps)
    path_columns = np.searchsorted(ends, np.asarray(path_steps, np.int64) - 1)
    grid = jnp.asarray(ends)

    def evaluate(x, keys):
        parts = [fn(x[a:b], keys[a:b]) for fn, a, b in slices]
        return tuple(jnp.concatenate([jnp.asarray(p[k], x.dtype) for p in parts]) for k in range(3))

    layouts = [
        packed_state.layout_of(
            jax.eval_shape(
                lambda x, hp, v=v: v.build(hp).init(x),
                jax.ShapeDtypeStruct((dim,), jnp.float64),
                {k: jax.ShapeDtypeStruct((), jnp.float64) for k in v.traced},
            ),
            a,
        )
        for v, a in zip(variants, axes, strict=True)
    ]
    width, shared_width = packed_state.widths(layouts)

    packed = len(variants) > 1

    def initializer(k: int):
        def branch(x0, hps):
            state = vmapped_init(variants[k], axes[k], hp_axes[k])(x0, hps[k])
            if not packed:
                return state, ()
            return packed_state.pack(layouts[k], state, x0.shape[0], width, shared_width)

        return branch

    def updater(k: int):
        def branch(g, buffer, shared, x, hps, f):
            state = packed_state.unpack(layouts[k], buffer, shared) if packed else buffer
            updates, state = vmapped_update(variants[k], axes[k], hp_axes[k])(
                g, state, x, hps[k], f
            )
            if not packed:
                return updates, state, ()
            return updates, *packed_state.pack(layouts[k], state, x.shape[0], width, shared_width)

        return branch

    initializers = [initializer(k) for k in range(len(variants))]
    updaters = [updater(k) for k in range(len(variants))]

    def switch(chosen, branches, *operands):
        if len(branches) == 1:
            return branches[0](*operands)
        return jax.lax.switch(chosen, branches, *operands)

    def program(chosen, x0, hps, active, f_min, limit, final, seeds, lower, upper):
        n = x0.shape[0]
        buffer, shared = switch(chosen, initializers, x0, hps)
        carry = {
            "i": jnp.asarray(0),
            "x": x0,
            "buffer": buffer,
            "shared": shared,
            "end": jnp.where(active, RUNNING, ended(steps, BUDGET)),
            "hits": jnp.full((n, len(TARGETS)), -1),
            "next": jnp.full(n, TARGETS[0], x0.dtype),
            "f": jnp.full(n, jnp.inf, x0.dtype),
        }

        def gap_of(f, end):
            """The gap of a run's last live value; +inf once it diverged."""
            return jnp.where(end % 4 == DIVERGED, jnp.inf, f - f_min)

        def record_hits(i, rise, gap, c):
            """Steps at which targets are first reached, and each run's next target. One
            comparison per run and step finds the runs that reach their next target; only on
            such steps are the targets they reached counted (a rise may pass several)."""

            def record(book):
                hits, next_target = book
                level = jnp.where(rise, sum((gap <= t).astype(int) for t in TARGETS), 0)
                hits = jnp.where((hits < 0) & (ladder < level[:, None]), i, hits)
                return hits, jnp.where(rise, after_last[level], next_target)

            book = (c["hits"], c["next"])
            return jax.lax.cond(jnp.any(rise), record, lambda book: book, book)

        def any_running(c):
            return jnp.any(c["end"] == RUNNING)

        def step(c):
            i, x = c["i"], c["x"]
            keys = (
                jax.vmap(lambda seed: jax.random.fold_in(jax.random.key(seed), i))(seeds)
                if noisy
                else seeds
            )
            running = c["end"] == RUNNING
            f, seen, g = evaluate(_where_rows(running, x, x0), keys)
            gap = f - f_min
            finite = jnp.isfinite(x) & jnp.isfinite(g)
            reach = jnp.max(jnp.where(finite, jnp.abs(x), jnp.inf), axis=-1)
            bad = ~jnp.isfinite(f) | ~jnp.isfinite(seen) | (reach > limit)
            live = running & ~bad
            inside = live & (jnp.max(jnp.maximum(lower - x, x - upper), axis=-1) <= 0)
            hits, next_target = record_hits(i, inside & (gap <= c["next"]), gap, c)
            reached = inside & (gap <= final)
            last = i == steps
            how = jnp.where(bad, DIVERGED, jnp.where(reached, CONVERGED, BUDGET))
            move = live & ~reached & ~last
            updates, buffer, shared = switch(
                chosen, updaters, g, c["buffer"], c["shared"], x, hps, seen
            )
            return {
                "i": i + 1,
                "x": _where_rows(move, optax.apply_updates(x, updates), x),
                "buffer": buffer,
                "shared": shared,
                "end": jnp.where(running & (bad | reached | last), ended(i, how), c["end"]),
                "hits": hits,
                "next": next_target,
                "f": jnp.where(live, f, c["f"]),
            }

        def segment(state):
            """Steps up to the next segment end, then the gap of every run there (and, when
            paths are recorded, every run's iterate)."""
            at, c, curve, trail = state
            c = jax.lax.while_loop(lambda c: (c["i"] <= grid[at]) & any_running(c), step, c)
            point = gap_of(c["f"], c["end"])
            curve = jax.lax.dynamic_update_index_in_dim(curve, point, at, axis=1)
            if path_steps:
                trail = jax.lax.dynamic_update_index_in_dim(trail, c["x"], at, axis=1)
            return at + 1, c, curve, trail

        curve = jnp.full((n, grid.shape[0]), jnp.inf, x0.dtype)
        trail = jnp.full((n, grid.shape[0] if path_steps else 0, dim), jnp.nan, x0.dtype)
        _, out, curve, trail = jax.lax.while_loop(
            lambda state: (state[0] < grid.shape[0]) & any_running(state[1]),
            segment,
            (jnp.asarray(0), carry, curve, trail),
        )
        final_gap = gap_of(out["f"], out["end"])
        curve = jnp.where(grid[None, :] >= out["i"], final_gap[:, None], curve)
        status, stop = out["end"] % 4, out["end"] // 4
        if not path_steps:
            return out["x"], out["f"], status, stop, out["hits"], curve
        outputs = (out["x"], out["f"], status, stop, out["hits"], curve[:, curve_columns])
        return *outputs, trail[:, path_columns]

    return program


@dataclass(frozen=True)
class Program:
    """A compiled multi-start program and how long compiling it took."""

    compiled: Any
    compile_s: float
    ident: str


@dataclass(frozen=True)
class Branch:
    """A landscape in a program's switch, with the identity that keys the program."""

    key: tuple
    landscape: Landscape


class Programs:
    """The compiled programs of this process, by what shapes them."""

    def __init__(self) -> None:
        self._compiled: dict[tuple, Program] = {}

    def __len__(self) -> int:
        return len(self._compiled)

    def get(
        self, variants, varying, branches, capacity, steps: int, path_steps: tuple[int, ...] = ()
    ) -> tuple[Program, bool]:
        """The program for this shape, compiled now if new; also whether it was compiled now."""
        varying = tuple(tuple(sorted(w)) for w in varying)
        key = (tuple(variants), varying, tuple(b.key for b in branches), tuple(capacity), steps)
        key = (*key, path_steps) if path_steps else key
        trig = fast_trig.mode()
        key = (*key, trig)
        if key in self._compiled:
            return self._compiled[key], False
        program = self._compile(key, variants, varying, branches, capacity, steps, path_steps, trig)
        return program, True

    def _compile(
        self, key, variants, varying, branches, capacity, steps, path_steps, trig
    ) -> Program:
        landscapes = [b.landscape for b in branches]
        n, dim = sum(capacity), landscapes[0].dim
        column = jax.ShapeDtypeStruct((n,), jnp.float64)
        scalar = jax.ShapeDtypeStruct((), jnp.float64)
        rows = jax.ShapeDtypeStruct((n, dim), jnp.float64)
        args = (
            jax.ShapeDtypeStruct((), jnp.int32),
            rows,
            tuple(
                {k: column if k in w else scalar for k in v.traced}
                for v, w in zip(variants, varying, strict=True)
            ),
            jax.ShapeDtypeStruct((n,), jnp.bool_),
            column,
            column,
            column,
            jax.ShapeDtypeStruct((n,), jnp.uint32),
            rows,
            rows,
        )
        t0 = time.perf_counter()
        compiled = program_store.compiled(
            key,
            [v.plugin for v in variants] + landscapes,
            lambda: _build_program(
                variants,
                [frozenset(w) for w in varying],
                landscapes,
                capacity,
                steps,
                path_steps,
                trig,
            ),
            args,
        )
        ident = hashlib.sha256(repr(key).encode()).hexdigest()[:12]
        program = Program(compiled, time.perf_counter() - t0, ident)
        self._compiled[key] = program
        return program


PROGRAMS = Programs()


def capacity_for(count: int) -> int:
    """Rows a landscape's slice holds for `count` runs: rounded up to 4 significant bits (at
    most 1/8 padding), so nearby run counts share a program."""
    if count <= 16:
        return max(count, 1)
    shift = count.bit_length() - 4
    return -(-count >> shift) << shift


@dataclass(frozen=True)
class BatchOutput:
    """Per-run arrays of one variant's runs, in the order of the runs given."""

    x: np.ndarray
    f: np.ndarray
    status: np.ndarray
    stop: np.ndarray
    hits: np.ndarray
    curve: np.ndarray
    grid: np.ndarray
    run_s: float
    compile_s: float
    compiled_now: bool
    program: str
    path: np.ndarray | None = None
    path_steps: np.ndarray | None = None


@dataclass(frozen=True)
class Runs:
    """The runs of one variant: landscape index, start, settings, final target, noise seed."""

    landscape: np.ndarray
    starts: np.ndarray
    settings: Sequence[Mapping[str, Any]]
    final: np.ndarray
    seeds: np.ndarray


def _rounds(landscape: np.ndarray, capacity: Sequence[int]) -> list[np.ndarray]:
    """Run indices per call: each call takes at most `capacity[j]` runs of landscape j."""
    order = np.argsort(landscape, kind="stable")
    rank = np.empty_like(order)
    counts = np.bincount(landscape, minlength=len(capacity))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank[order] = np.arange(order.size) - starts[landscape[order]]
    call = rank // np.asarray(capacity)[landscape]
    return [np.flatnonzero(call == r) for r in range(int(call.max()) + 1)]


def run_starts(
    variants: Sequence[Variant],
    chosen: int,
    branches: Sequence[Branch],
    capacity: Sequence[int],
    runs: Runs,
    steps: int,
    varying: Sequence[frozenset[str]] | None = None,
    programs: Programs | None = None,
    path_steps: Sequence[int] = (),
) -> BatchOutput:
    """Run variant `chosen` from every start (run i on landscape `runs.landscape[i]`).

    Runs fill the slices of their landscapes; empty rows are padding that never moves. More
    runs of a landscape than its slice holds take further calls of the same program.
    `varying[k]` names the hyperparameters of variant k that differ between runs (default:
    those that differ among these runs); the others are one scalar for the whole call.
    With `path_steps` (steps ≥ 1), `path[i, j]` is run i's iterate at `path_steps[j]`: a
    stopped run's iterate stays where it stopped.
    """
    if varying is None:
        differ = frozenset(
            k for k in variants[chosen].traced if len({s[k] for s in runs.settings}) > 1
        )
        varying = [differ if k == chosen else frozenset() for k in range(len(variants))]
    programs = PROGRAMS if programs is None else programs
    path_steps = tuple(int(p) for p in path_steps)
    program, compiled_now = programs.get(variants, varying, branches, capacity, steps, path_steps)
    parts, run_s = [], 0.0
    picked = {name: np.array([s[name] for s in runs.settings]) for name in variants[chosen].traced}
    for members in _rounds(np.asarray(runs.landscape), capacity):
        out, seconds = _call(
            program, variants, varying, chosen, branches, capacity, runs, picked, members
        )
        parts.append((members, out))
        run_s += seconds
    n = len(runs.landscape)
    merged = []
    for k in range(len(parts[0][1])):
        first = parts[0][1][k]
        whole = np.empty((n, *first.shape[1:]), first.dtype)
        for members, out in parts:
            whole[members] = out[k]
        merged.append(whole)
    path, traced = (merged[6], np.asarray(path_steps)) if path_steps else (None, None)
    return BatchOutput(*merged[:6], curve_grid(steps), run_s, program.compile_s, compiled_now,
                       program.ident, path, traced)  # fmt: skip


def _call(program, variants, varying, chosen, branches, capacity, runs: Runs, picked, members):
    """One program call for `members` (at most a slice's worth per landscape): outputs per run;
    `picked` holds the chosen variant's traced hyperparameters, a column per name."""
    landscape = np.asarray(runs.landscape)[members]
    edges = np.concatenate([[0], np.cumsum(capacity)])
    order = np.argsort(landscape, kind="stable")
    counts = np.bincount(landscape, minlength=len(capacity))
    firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    row = np.empty(members.size, dtype=int)
    row[order] = edges[landscape[order]] + np.arange(members.size) - firsts[landscape[order]]
    n = int(edges[-1])
    owner = np.repeat(np.arange(len(capacity)), capacity)
    lows = np.stack([b.landscape.lower for b in branches])[owner]
    highs = np.stack([b.landscape.upper for b in branches])[owner]

    def column(values, fill, dtype=np.float64):
        out = np.full(n, fill, dtype)
        out[row] = values
        return out

    starts = (lows + highs) / 2
    starts[row] = np.asarray(runs.starts, np.float64)[members]
    hps = []
    for k, variant in enumerate(variants):
        values = dict(variant.template)
        if k == chosen:
            values = {name: picked[name][members] for name in variant.traced}
        hps.append({name: _hyperparameter(name, values[name], name in varying[k], column)
                    for name in variant.traced})  # fmt: skip
    f_min = np.array([b.landscape.f_min for b in branches], np.float64)[owner]
    limit = np.array([escape_limit(b.landscape) for b in branches], np.float64)[owner]
    args = (
        np.int32(chosen),
        starts,
        tuple(hps),
        column(True, False, np.bool_),
        f_min,
        limit,
        column(np.asarray(runs.final, np.float64)[members], -1.0),
        column(np.asarray(runs.seeds, np.uint32)[members], 0, np.uint32),
        lows,
        highs,
    )
    t0 = time.perf_counter()
    try:
        out = jax.block_until_ready(program.compiled(*args))
    except TRACE_ERRORS as exc:
        raise OptbenchError(
            f"{variants[chosen].optimizer}: the compiled run failed: {exc}"
        ) from exc
    return [np.asarray(a)[row] for a in out], time.perf_counter() - t0


def _hyperparameter(name: str, values: Any, per_run: bool, column) -> np.ndarray:
    """A per-run column, or the one value every run of the call shares."""
    if per_run:
        return column(values, float(np.ravel(values)[0]))
    distinct = set(np.ravel(values).tolist())
    if len(distinct) != 1:
        raise OptbenchError(f"{name} differs between runs of one call but was planned as shared")
    return np.float64(distinct.pop())
