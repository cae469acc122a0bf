"""The optax path: one compiled program runs every start, setting, optimizer and landscape.

A program is keyed by its optimizer variants (optimizer + the non-numeric hyperparameters that
shape its code), the landscapes of one dimension, the step budget and the padded run count.
Real-valued hyperparameters are traced scalars injected through `optax.inject_hyperparams`
(a learning-rate grid shares the program); the variant and the landscape are branches of
`lax.switch` chosen by run-time indices. So a study compiles one program per dimension, not
one per landscape × optimizer; JAX's persistent cache makes a second run compile nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from optbench.runners.landscape_common import TARGETS, curve_grid, escape_limit

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
    """Whether the optimizer builds, inits and updates with its real hyperparameters traced."""
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


def concrete(variant: Variant, hp: Mapping[str, Any]) -> Variant:
    """The variant with every hyperparameter fixed, for a `build` that cannot trace them."""
    return Variant(variant.optimizer, tuple(sorted(hp.items(), key=str)), (), ())


def padded(n: int) -> int:
    """Run counts rounded up to a power of two (at least 8), so batch sizes share programs."""
    return max(8, 1 << (n - 1).bit_length())


def _where_rows(mask, new, old):
    """Per run (leading axis): `new` where `mask`, else `old` (a stopped run stays put)."""
    return jnp.where(mask.reshape(mask.shape + (1,) * (new.ndim - 1)), new, old)


def _observed(landscape: Landscape):
    """(x, key) → exact value, the value the optimizer sees, its gradient: noisy if the
    landscape is a noisy instance (`Landscape.noise`), exact otherwise."""
    fn, noise = landscape.fn, getattr(landscape, "noise", None)
    if noise is None:

        def exact(x, key):
            f, g = jax.value_and_grad(fn)(x)
            return f, f, g

        return jax.vmap(exact)

    def noisy(x, key):
        seen, g = jax.value_and_grad(lambda z: noise(fn(z), z, key))(x)
        return fn(x), seen, g

    return jax.vmap(noisy)


def run_keys(seeds: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """One 32-bit noise seed per run from (seed, start): paired across optimizers."""
    mixed = np.asarray(seeds, np.uint64) * np.uint64(2654435761) + np.asarray(starts, np.uint64)
    return (mixed & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _build_program(variants: Sequence[Variant], landscapes: Sequence[Landscape], steps: int):
    """The jittable function of (landscape, variant, starts, hyperparameters, f_min, limits).

    A target counts as reached only inside the domain: outside it some landscapes fall below
    their global minimum (Schwefel, Eggholder), which is escape, not success.
    """
    observed = [_observed(landscape) for landscape in landscapes]
    noisy = any(getattr(landscape, "noise", None) is not None for landscape in landscapes)
    targets = jnp.asarray(TARGETS)
    grid = jnp.asarray(curve_grid(steps))

    def evaluate(landscape, x, keys):
        if len(observed) == 1:
            f, seen, g = observed[0](x, keys)
        else:
            f, seen, g = jax.lax.switch(landscape, observed, x, keys)
        return (jnp.asarray(f, x.dtype), jnp.asarray(seen, x.dtype), jnp.asarray(g, x.dtype))

    def updater(k: int):
        variant = variants[k]

        def branch(g, states, x, hps, f):
            updates, state = jax.vmap(variant.update)(g, states[k], x, hps[k], f)
            return updates, (*states[:k], state, *states[k + 1 :])

        return branch

    updaters = [updater(k) for k in range(len(variants))]

    def update(chosen, g, states, x, hps, f):
        if len(updaters) == 1:
            return updaters[0](g, states, x, hps, f)
        return jax.lax.switch(chosen, updaters, g, states, x, hps, f)

    def program(landscape, chosen, x0, hps, f_min, limit, final, seeds, box):
        n = x0.shape[0]
        states = tuple(
            jax.vmap(lambda x, h, v=v: v.build(h).init(x))(x0, hp)
            for v, hp in zip(variants, hps, strict=True)
        )
        carry = {
            "i": jnp.asarray(0),
            "x": x0,
            "states": states,
            "status": jnp.full(n, RUNNING),
            "stop": jnp.full(n, steps),
            "hits": jnp.full((n, targets.shape[0]), -1),
            "curve": jnp.full((n, grid.shape[0]), jnp.inf, x0.dtype),
            "gap": jnp.full(n, jnp.inf, x0.dtype),
            "f": jnp.full(n, jnp.inf, x0.dtype),
        }

        def cond(c):
            return (c["i"] <= steps) & jnp.any(c["status"] == RUNNING)

        def body(c):
            i, x, status = c["i"], c["x"], c["status"]
            keys = (
                jax.vmap(lambda seed: jax.random.fold_in(jax.random.key(seed), i))(seeds)
                if noisy
                else seeds
            )
            f, seen, g = evaluate(landscape, x, keys)
            gap = f - f_min
            running = status == RUNNING
            bad = (
                ~jnp.isfinite(f)
                | ~jnp.isfinite(seen)
                | ~jnp.all(jnp.isfinite(g), axis=-1)
                | ~jnp.all(jnp.isfinite(x), axis=-1)
                | (jnp.max(jnp.abs(x), axis=-1) > limit)
            )
            live = running & ~bad
            inside = live & jnp.all((x >= box[0]) & (x <= box[1]), axis=-1)
            newly = inside[:, None] & (gap[:, None] <= targets) & (c["hits"] < 0)
            reached = inside & (gap <= final)
            last = i == steps
            status = jnp.where(running & bad, DIVERGED, status)
            status = jnp.where(reached, CONVERGED, status)
            status = jnp.where(live & ~reached & last, BUDGET, status)
            kept_gap = jnp.where(live, gap, jnp.where(running & bad, jnp.inf, c["gap"]))
            move = live & ~reached & ~last
            updates, states = update(chosen, g, c["states"], x, hps, seen)
            return {
                "i": i + 1,
                "x": _where_rows(move, optax.apply_updates(x, updates), x),
                "states": states,
                "status": status,
                "stop": jnp.where(running & (bad | reached | last), i, c["stop"]),
                "hits": jnp.where(newly, i, c["hits"]),
                "curve": jnp.where(grid[None, :] == i, kept_gap[:, None], c["curve"]),
                "gap": kept_gap,
                "f": jnp.where(live, f, c["f"]),
            }

        out = jax.lax.while_loop(cond, body, carry)
        curve = jnp.where(grid[None, :] >= out["i"], out["gap"][:, None], out["curve"])
        return out["x"], out["f"], out["status"], out["stop"], out["hits"], curve

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

    def get(self, variants, branches, steps: int, n_pad: int) -> tuple[Program, bool]:
        """The program for this shape, compiled now if new; also whether it was compiled now."""
        key = (tuple(variants), tuple(b.key for b in branches), steps, n_pad)
        if key in self._compiled:
            return self._compiled[key], False
        fn = _build_program(variants, [b.landscape for b in branches], steps)
        dim = branches[0].landscape.dim
        real = jax.ShapeDtypeStruct((), jnp.float64)
        column = jax.ShapeDtypeStruct((n_pad,), jnp.float64)
        args = (
            jax.ShapeDtypeStruct((), jnp.int32),
            jax.ShapeDtypeStruct((), jnp.int32),
            jax.ShapeDtypeStruct((n_pad, dim), jnp.float64),
            tuple({k: column for k in v.traced} for v in variants),
            real,
            real,
            real,
            jax.ShapeDtypeStruct((n_pad,), jnp.uint32),
            jax.ShapeDtypeStruct((2, dim), jnp.float64),
        )
        t0 = time.perf_counter()
        compiled = jax.jit(fn).lower(*args).compile()
        ident = hashlib.sha256(repr(key).encode()).hexdigest()[:12]
        program = Program(compiled, time.perf_counter() - t0, ident)
        self._compiled[key] = program
        return program, True


PROGRAMS = Programs()


@dataclass(frozen=True)
class BatchOutput:
    """Per-run arrays of one program call, in the order of the runs given."""

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


def run_starts(
    variants: Sequence[Variant],
    chosen: int,
    branches: Sequence[Branch],
    index: int,
    starts: np.ndarray,
    settings: Sequence[Mapping[str, Any]],
    steps: int,
    final: float,
    programs: Programs | None = None,
    seeds: np.ndarray | None = None,
) -> BatchOutput:
    """Run variant `chosen` from every start (row i with settings[i]) on landscape `index`.

    `seeds` (one per run, see `run_keys`) drive the noise of a noisy landscape.
    """
    n = starts.shape[0]
    n_pad = padded(n)
    programs = PROGRAMS if programs is None else programs
    program, compiled_now = programs.get(variants, branches, steps, n_pad)
    take = np.concatenate([np.arange(n), np.zeros(n_pad - n, dtype=int)])
    hps = []
    for k, variant in enumerate(variants):
        if k == chosen:
            given = {
                name: np.array([s[name] for s in settings], np.float64) for name in variant.traced
            }
            hps.append({name: values[take] for name, values in given.items()})
        else:
            hps.append(
                {name: np.full(n_pad, value, np.float64) for name, value in variant.template}
            )
    landscape = branches[index].landscape
    args = (
        jnp.asarray(index, jnp.int32),
        jnp.asarray(chosen, jnp.int32),
        np.asarray(starts[take], np.float64),
        tuple(hps),
        jnp.asarray(landscape.f_min, jnp.float64),
        jnp.asarray(escape_limit(landscape), jnp.float64),
        jnp.asarray(final, jnp.float64),
        np.zeros(n_pad, np.uint32) if seeds is None else np.asarray(seeds, np.uint32)[take],
        np.stack([landscape.lower, landscape.upper]),
    )
    t0 = time.perf_counter()
    try:
        out = jax.block_until_ready(program.compiled(*args))
    except TRACE_ERRORS as exc:
        raise OptbenchError(
            f"{variants[chosen].optimizer}: the compiled run failed: {exc}"
        ) from exc
    run_s = time.perf_counter() - t0
    x, f, status, stop, hits, curve = (np.asarray(a)[:n] for a in out)
    return BatchOutput(x, f, status, stop, hits, curve, curve_grid(steps), run_s,
                       program.compile_s, compiled_now, program.ident)  # fmt: skip
