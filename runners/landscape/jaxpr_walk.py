"""What `numpy_code` and `scalar_code` share when they walk a jaxpr: the live equations, the
calls written inline, the primitives that only move elements, and the equations of constants
computed while writing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from jax.extend import core

INLINED = ("jit", "pjit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call")
STRUCTURAL = ("reshape", "squeeze", "expand_dims", "broadcast_in_dim", "slice", "transpose",
              "concatenate", "stack", "pad", "rev", "split", "copy", "copy_p")  # fmt: skip
EXACT = {
    "add": np.add, "add_any": np.add, "sub": np.subtract, "mul": np.multiply, "neg": np.negative,
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal,
}  # fmt: skip
INTEGER_EXACT = {
    "max": np.maximum, "min": np.minimum, "abs": np.abs, "sign": np.sign,
    "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor, "not": np.invert,
}  # fmt: skip


class Untranslatable(Exception):
    """The jaxpr holds something the writer does not write out."""


def live_equations(jaxpr: Any) -> list[Any]:
    """The equations some output depends on (every primitive written out is pure)."""
    needed = {v for v in jaxpr.outvars if isinstance(v, core.Var)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in needed for v in eqn.outvars if not isinstance(v, core.DropVar)):
            kept.append(eqn)
            needed.update(v for v in eqn.invars if isinstance(v, core.Var))
    return kept[::-1]


def inner(eqn: Any) -> tuple[Any, tuple] | None:
    """The jaxpr and constants of an inlined call, None when it carries none."""
    closed = eqn.params.get("jaxpr") or eqn.params.get("call_jaxpr")
    if closed is None:
        return None
    return (closed.jaxpr, closed.consts) if hasattr(closed, "consts") else (closed, ())


def structural(name: str, ins: list[np.ndarray], params: dict, shape: tuple) -> list[np.ndarray]:
    """Primitives that only move elements: the same NumPy operation on names or on values."""
    x = ins[0]
    if name in ("copy", "copy_p"):
        return [x]
    if name == "reshape":
        if params.get("dimensions") is not None:
            raise Untranslatable("reshape with dimensions")
        return [x.reshape(shape)]
    if name in ("squeeze", "expand_dims"):
        return [x.reshape(shape)]
    if name == "broadcast_in_dim":
        expanded = [1] * len(shape)
        for i, d in enumerate(params["broadcast_dimensions"]):
            expanded[d] = x.shape[i]
        return [np.broadcast_to(x.reshape(expanded), shape)]
    if name == "slice":
        strides = params["strides"] or (1,) * x.ndim
        window = zip(params["start_indices"], params["limit_indices"], strides, strict=True)
        return [x[tuple(slice(a, b, s) for a, b, s in window)]]
    if name == "transpose":
        return [np.transpose(x, params["permutation"])]
    if name == "concatenate":
        return [np.concatenate(ins, axis=params["dimension"])]
    if name == "stack":
        return [np.stack(ins, axis=params["axis"])]
    if name == "rev":
        return [np.flip(x, tuple(params["dimensions"]))]
    if name == "split":
        cuts = np.cumsum(params["sizes"])[:-1].tolist()
        return list(np.split(x, cuts, axis=params["axis"]))
    return [pad(x, ins[1].reshape(()).item(), params["padding_config"], shape)]


def pad(x: np.ndarray, value: Any, config: Sequence, shape: tuple) -> np.ndarray:
    """`lax.pad`: `x` spread by the interior padding among padding values, negative edges
    cropped."""
    full, placed, cropped = [], [], []
    for n, (low, high, interior) in zip(x.shape, config, strict=True):
        spread = n + (n - 1) * interior if n else 0
        full.append(max(low, 0) + spread + max(high, 0))
        placed.append(slice(max(low, 0), max(low, 0) + spread, interior + 1))
        cropped.append(slice(max(-low, 0), full[-1] - max(-high, 0)))
    out = np.full(full, value, dtype=x.dtype)
    out[tuple(placed)] = x
    return out[tuple(cropped)].reshape(shape)


def _numpy_fold(eqn: Any, values: list[np.ndarray]) -> list[np.ndarray] | None:
    """The outputs of a constant equation computed by NumPy where NumPy's result is XLA's to
    the bit (moves, integer arithmetic, float +, -, *), else None. Not division: XLA CPU's
    float division of a matrix by a row differs from IEEE's in the last bit."""
    name, params = eqn.primitive.name, eqn.params
    kinds = {np.dtype(v.aval.dtype).kind for v in eqn.invars}
    integral = kinds <= {"b", "i", "u"}
    if name in STRUCTURAL:
        try:
            return structural(name, values, params, eqn.outvars[0].aval.shape)
        except Untranslatable:
            return None
    if name in EXACT:
        return [EXACT[name](*values)]
    if name in INTEGER_EXACT and integral:
        return [INTEGER_EXACT[name](*values)]
    if name == "iota":
        line = np.arange(params["shape"][params["dimension"]], dtype=params["dtype"])
        shape = [1] * len(params["shape"])
        shape[params["dimension"]] = line.size
        return [np.broadcast_to(line.reshape(shape), params["shape"])]
    if name == "convert_element_type" and kinds <= {"b", "i", "u", "f"}:
        if not integral and np.dtype(params["new_dtype"]).kind != "f":
            return None
        return [values[0].astype(params["new_dtype"])]
    if name == "select_n":
        return [np.choose(values[0].astype(np.intp), np.broadcast_arrays(*values[1:]))]
    if name == "dynamic_slice":
        x, sizes = values[0], params["slice_sizes"]
        window = zip(values[1:], x.shape, sizes, strict=True)
        starts = [min(max(int(s), 0), n - k) for s, n, k in window]
        return [x[tuple(slice(s, s + k) for s, k in zip(starts, sizes, strict=True))]]
    return None


def folded(eqn: Any, known: dict[Any, np.ndarray]) -> list[np.ndarray | None] | None:
    """The values of `eqn`'s outputs (None for a dropped one) when every input is a literal or
    in `known`: by NumPy where it computes XLA's result exactly (no compilation, where JAX's
    eager dispatch compiles each primitive and shape, ~30 ms each), else by JAX itself; None
    when the equation needs a run-time value or cannot run eagerly."""
    if eqn.primitive.name in INLINED:
        return None
    if not all(isinstance(v, core.Literal) or v in known for v in eqn.invars):
        return None
    raw = [v.val if isinstance(v, core.Literal) else known[v] for v in eqn.invars]
    try:
        values = [np.asarray(x, dtype=v.aval.dtype) for x, v in zip(raw, eqn.invars, strict=True)]
        with np.errstate(all="ignore"):
            outs = _numpy_fold(eqn, values)
    except (TypeError, ValueError, IndexError):  # float0, np.choose past 32 cases: JAX's turn
        outs = None
    shapes = [tuple(var.aval.shape) for var in eqn.outvars]
    if outs is None or [np.shape(out) for out in outs] != shapes:
        try:
            out = eqn.primitive.bind(*raw, **eqn.params)
        except Exception:  # a primitive that cannot run eagerly here is written out instead
            return None
        outs = out if eqn.primitive.multiple_results else [out]
    return [
        None if isinstance(var, core.DropVar) else np.asarray(value, dtype=var.aval.dtype)
        for var, value in zip(eqn.outvars, outs, strict=True)
    ]
