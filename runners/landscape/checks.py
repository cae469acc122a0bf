"""What the landscape runner refuses before running: start points, flags, budgets, memory."""

from __future__ import annotations

import math
from typing import Any

from optbench.runners.landscape import memory

from optbench import registry
from optbench.contracts import Landscape
from optbench.errors import OptbenchError
from optbench.spec import RunSpec

BUDGETS = ("steps", "evaluations", "seconds")


def check_budget(spec: RunSpec) -> None:
    """A budget the runner would ignore (epochs) makes new keys for identical runs: refused."""
    ignored = sorted(set(spec.budgets) - set(BUDGETS))
    if ignored:
        raise OptbenchError(
            f"the landscape runner does not use the budget {', '.join(ignored)}; its budgets "
            f"are {', '.join(BUDGETS)}"
        )


def check_flags(spec: RunSpec) -> None:
    """`restarts` and `allow_outside` are true or false."""
    for name in ("restarts", "allow_outside"):
        value = spec.opts.get(name, False)
        if not isinstance(value, bool):
            raise OptbenchError(f"option {name} must be true or false, got {value!r}")


def check_x0(spec: RunSpec, landscape: Landscape) -> None:
    """An explicit start: `dim` finite numbers, inside the domain unless allow_outside=true,
    and one start per seed unless the landscape is noisy (more would be identical copies)."""
    opts = spec.opts
    x0 = opts.get("x0")
    if x0 is None:
        return
    if not isinstance(x0, list | tuple) or not all(_is_number(v) for v in x0):
        raise OptbenchError(
            f"x0 must be a list of {landscape.dim} numbers, e.g. x0=[4,4] or --x0 4,4; got {x0!r}"
        )
    point = landscape.check_point(x0)
    if not all(math.isfinite(v) for v in x0):
        raise OptbenchError(f"x0 must be finite, got {list(x0)!r}")
    outside = (point < landscape.lower) | (point > landscape.upper)
    if outside.any() and not opts.get("allow_outside", False):
        i = int(outside.argmax())
        raise OptbenchError(
            f"x0={list(x0)!r} lies outside the domain of {landscape.name} (coordinate {i} is "
            f"{point[i]:g}, the domain is [{landscape.lower[i]:g}, {landscape.upper[i]:g}]); "
            "--set allow_outside=true runs it anyway"
        )
    if spec.start > 0 and landscape.noise is None:
        raise OptbenchError(
            "x0 fixes the start point, so starts > 1 would run identical copies; use starts=1 "
            "(or a noisy instance, whose runs differ)"
        )


def check_memory(spec: RunSpec, landscape: Landscape) -> None:
    """A scipy method's dense matrices must fit in memory."""
    plugin = registry.optimizer(spec.optimizer)
    method = getattr(plugin, "method", None)
    if plugin.family == "scipy" and isinstance(method, str):
        memory.check_dense(plugin.name, method, spec.hp, landscape.dim)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
