"""What `numpy_code` and `scalar_code` share when they walk a jaxpr: the live equations, the
calls written inline, and the equations of constants computed while writing."""

from __future__ import annotations

from typing import Any

import numpy as np
from jax.extend import core

INLINED = ("jit", "pjit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call")


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


def folded(eqn: Any, known: dict[Any, np.ndarray]) -> list[np.ndarray | None] | None:
    """The values of `eqn`'s outputs (None for a dropped one) when every input is a literal or
    in `known`, computed by JAX itself (iotas, index arithmetic, fills and their masks); None
    when the equation needs a run-time value or cannot run eagerly."""
    if eqn.primitive.name in INLINED:
        return None
    if not all(isinstance(v, core.Literal) or v in known for v in eqn.invars):
        return None
    values = [v.val if isinstance(v, core.Literal) else known[v] for v in eqn.invars]
    try:
        out = eqn.primitive.bind(*values, **eqn.params)
    except Exception:  # a primitive that cannot run eagerly here is written out instead
        return None
    outs = out if eqn.primitive.multiple_results else [out]
    return [
        None if isinstance(var, core.DropVar) else np.asarray(value)
        for var, value in zip(eqn.outvars, outs, strict=True)
    ]
