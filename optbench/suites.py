"""Named selections of landscapes by tag and dimension, usable as `-l suite:NAME`."""

from __future__ import annotations

from collections.abc import Callable

from optbench import registry
from optbench.contracts import LandscapePlugin
from optbench.errors import OptbenchError

PREFIX = "suite:"


def _tags(plugin: LandscapePlugin) -> frozenset[str]:
    return frozenset(getattr(plugin, "tags", ()))


def _is_2d(plugin: LandscapePlugin) -> bool:
    return plugin.default_dim == 2 and not getattr(plugin, "scalable", False)


SUITES: dict[str, tuple[str, Callable[[LandscapePlugin], bool]]] = {
    "all": ("every registered landscape at its default dimension", lambda p: True),
    "2d": ("the fixed two-dimensional landscapes", _is_2d),
    "smooth-2d": (
        "2-D landscapes that are differentiable everywhere",
        lambda p: _is_2d(p) and "differentiable" in _tags(p),
    ),
    "multimodal-2d": (
        "2-D landscapes with more than one local minimum",
        lambda p: _is_2d(p) and "multimodal" in _tags(p),
    ),
    "unimodal-2d": ("2-D landscapes with one basin", lambda p: _is_2d(p) and "unimodal" in _tags(p)),
    "nd": ("the scalable n-dimensional landscapes", lambda p: getattr(p, "scalable", False)),
}
SUITE_DIMS = {"nd-10": 10, "nd-5": 5, "nd-20": 20}


def suite_names() -> list[str]:
    return sorted([*SUITES, *SUITE_DIMS])


def expand(text: str) -> list[str]:
    """`suite:NAME` → the problem texts it selects; any other text is returned as it is."""
    if not text.startswith(PREFIX):
        return [text]
    name = text[len(PREFIX) :].strip().lower()
    plugins = [p.obj for p in registry.plugins("landscape").values()]
    if name in SUITE_DIMS:
        return [f"{p.name}:dim={SUITE_DIMS[name]}" for p in plugins if getattr(p, "scalable", False)]
    if name not in SUITES:
        raise OptbenchError(f"unknown suite {name!r}; suites: {', '.join(suite_names())}")
    return [p.name for p in plugins if SUITES[name][1](p)]
