"""Vectorised float64 sine and cosine for the optax program, and the jaxpr rewrite that uses them.

XLA on CPU computes float64 `sin` and `cos` with the scalar C library, about 10 ns an element,
which makes them most of a compiled program's time on the periodic landscapes (Rastrigin,
Ackley, Schwefel, ...). These are Cephes' `sin` and `cos` (Moshier, Cephes Math Library 2.8):
the argument reduced by π/4 in three parts (Cody-Waite), then a degree-13 odd or degree-14 even
polynomial, written in elementwise array operations that XLA vectorises (about 2.5 ns an
element). Within |x| < 2**28 they agree with the C library to within 1 ulp of 1 (absolute error
≤ 2.3e-16); larger finite arguments, where the three-part reduction loses bits, take the C
library's value, element by element. Infinite and NaN arguments give NaN, as in the C library.

`OPTBENCH_TRIG=library` keeps the C library's values everywhere (bit for bit those of plain
`jnp.sin`/`jnp.cos`); the choice is part of every program's key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.extend import core

from optbench.errors import OptbenchError

SIN_COEFFICIENTS = (
    1.58962301576546568060e-10,
    -2.50507477628578072866e-8,
    2.75573136213857245213e-6,
    -1.98412698295895385996e-4,
    8.33333333332211858878e-3,
    -1.66666666666666307295e-1,
)
COS_COEFFICIENTS = (
    -1.13585365213876817300e-11,
    2.08757008419747316778e-9,
    -2.75573141792967388112e-7,
    2.48015872888517045348e-5,
    -1.38888888888730564116e-3,
    4.16666666666665929218e-2,
)
FOUR_OVER_PI = 1.27323954473516268615
PI_OVER_4 = (7.85398125648498535156e-1, 3.77489470793079817668e-8, 2.69515142907905952645e-15)
REDUCTION_LIMIT = 2.0**28
MODE_ENV = "OPTBENCH_TRIG"
MODES = ("vectorised", "library")


def _horner(z, coefficients):
    out = jnp.full_like(z, coefficients[0])
    for c in coefficients[1:]:
        out = out * z + c
    return out


def _octant(x):
    """|x| reduced to z in [-π/4, π/4], its octant pair j in 0..3 and whether j passed 3."""
    a = jnp.abs(x)
    y = jnp.floor(a * FOUR_OVER_PI)
    j = y - 16.0 * jnp.floor(y * 0.0625)
    odd = (j - 2.0 * jnp.floor(j * 0.5)) == 1.0
    y = jnp.where(odd, y + 1.0, y)
    j = jnp.where(odd, j + 1.0, j)
    j = j - 8.0 * jnp.floor(j * 0.125)
    upper = j > 3.0
    j = jnp.where(upper, j - 4.0, j)
    z = ((a - y * PI_OVER_4[0]) - y * PI_OVER_4[1]) - y * PI_OVER_4[2]
    return z, j, upper


def _polynomials(z):
    zz = z * z
    near_zero = z + z * zz * _horner(zz, SIN_COEFFICIENTS)
    near_one = 1.0 - 0.5 * zz + zz * zz * _horner(zz, COS_COEFFICIENTS)
    return near_zero, near_one


def _reduced_sin(x):
    z, j, upper = _octant(x)
    near_zero, near_one = _polynomials(z)
    y = jnp.where((j == 1.0) | (j == 2.0), near_one, near_zero)
    return jnp.where(upper != jnp.signbit(x), -y, y)


def _reduced_cos(x):
    z, j, upper = _octant(x)
    near_zero, near_one = _polynomials(z)
    y = jnp.where((j == 1.0) | (j == 2.0), near_zero, near_one)
    return jnp.where(upper != (j > 1.0), -y, y)


def _with_library_fallback(reduced: Callable, library: Callable) -> Callable:
    """`reduced` where the reduction is exact; the library's value for large finite elements
    (computed only when some element needs it). Flat, in its own branch: XLA vectorises an
    elementwise loop over a short minor axis (a 10-D run's coordinates) about half as well."""

    def big(flat):
        return jnp.isfinite(flat) & (jnp.abs(flat) >= REDUCTION_LIMIT)

    def mixed(flat):
        return jnp.where(big(flat), library(jnp.where(big(flat), flat, 0.0)), reduced(flat))

    def fn(x):
        flat = x.reshape(-1)
        return lax.cond(jnp.any(big(flat)), mixed, reduced, flat).reshape(x.shape)

    return fn


sin = _with_library_fallback(_reduced_sin, lax.sin)
cos = _with_library_fallback(_reduced_cos, lax.cos)
REPLACED = {"sin": sin, "cos": cos}
CALLS = ("pjit", "jit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call")


def _is_float64(var: Any) -> bool:
    return getattr(var.aval, "dtype", None) == jnp.float64


def _evaluate(jaxpr: Any, consts: Any, *args: Any) -> list[Any]:
    """`jaxpr` evaluated with float64 `sin` and `cos` replaced; calls are evaluated inline so
    the ones inside `jnp` functions are found."""
    env: dict[Any, Any] = {}

    def read(v):
        return v.val if isinstance(v, core.Literal) else env[v]

    for var, value in zip(jaxpr.constvars, consts, strict=True):
        env[var] = value
    for var, value in zip(jaxpr.invars, args, strict=True):
        env[var] = value
    for eqn in jaxpr.eqns:
        values = [read(v) for v in eqn.invars]
        name = eqn.primitive.name
        closed = eqn.params.get("jaxpr") or eqn.params.get("call_jaxpr")
        if name in REPLACED and _is_float64(eqn.invars[0]):
            outs = [REPLACED[name](values[0])]
        elif name in CALLS and closed is not None:
            inner, inner_consts = (
                (closed.jaxpr, closed.consts) if hasattr(closed, "consts") else (closed, ())
            )
            outs = _evaluate(inner, inner_consts, *values)
        else:
            out = eqn.primitive.bind(*values, **eqn.params)
            outs = out if eqn.primitive.multiple_results else [out]
        for var, value in zip(eqn.outvars, outs, strict=True):
            if not isinstance(var, core.DropVar):
                env[var] = value
    return [read(v) for v in jaxpr.outvars]


def mode() -> str:
    """The trig this process's programs use: `OPTBENCH_TRIG`, `vectorised` unless set."""
    chosen = os.environ.get(MODE_ENV, MODES[0]).strip().lower() or MODES[0]
    if chosen not in MODES:
        allowed = ", ".join(MODES)
        raise OptbenchError(f"{MODE_ENV}={chosen!r} is not a trig mode; allowed: {allowed}")
    return chosen


def vectorised(fn: Callable) -> Callable:
    """`fn` with every float64 `sin` and `cos` it computes (its derivatives' too, when `fn`
    is already differentiated) taken from this module instead of the C library."""

    def rewritten(*args):
        closed, shape = jax.make_jaxpr(fn, return_shape=True)(*args)
        flat = jax.tree.leaves(args)
        outs = _evaluate(closed.jaxpr, closed.consts, *flat)
        return jax.tree.unflatten(jax.tree.structure(shape), outs)

    return rewritten
