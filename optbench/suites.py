"""Named selections of landscapes by tag and dimension, usable as `-l suite:NAME`."""

from __future__ import annotations

from collections.abc import Callable

from optbench import registry
from optbench.contracts import LandscapePlugin
from optbench.errors import OptbenchError

PREFIX = "suite:"


def _tags(plugin: LandscapePlugin) -> frozenset[str]:
    return frozenset(getattr(plugin, "tags", ()))


def _scalable(plugin: LandscapePlugin) -> bool:
    return bool(getattr(plugin, "scalable", False))


def _is_2d(plugin: LandscapePlugin) -> bool:
    return plugin.default_dim == 2 and not _scalable(plugin)


def _tagged_2d(tag: str) -> Callable[[LandscapePlugin], bool]:
    return lambda plugin: _is_2d(plugin) and tag in _tags(plugin)


SUITES: dict[str, tuple[str, Callable[[LandscapePlugin], bool]]] = {
    "all": ("every registered landscape at its default dimension", lambda p: True),
    "2d": ("the fixed two-dimensional landscapes", _is_2d),
    "smooth-2d": (
        "2-D landscapes that are differentiable everywhere",
        _tagged_2d("differentiable"),
    ),
    "multimodal-2d": ("2-D landscapes with more than one local minimum", _tagged_2d("multimodal")),
    "unimodal-2d": ("2-D landscapes with one basin", _tagged_2d("unimodal")),
    "nd": ("the scalable n-dimensional landscapes at their default dimension", _scalable),
}
ND_PREFIX = "nd-"
SUITE_DIMS = {"nd-5": 5, "nd-10": 10, "nd-20": 20}


def _nd_dim(name: str) -> int | None:
    """`nd-N` (the listed ones, or any N >= 1 such as nd-3) → N; otherwise None."""
    digits = name[len(ND_PREFIX) :] if name.startswith(ND_PREFIX) else ""
    return int(digits) if digits.isdigit() and int(digits) >= 1 else None


def suite_names() -> list[str]:
    return sorted([*SUITES, *SUITE_DIMS])


def expand(text: str) -> list[str]:
    """`suite:NAME` → the problem texts it selects; `suite:NAME:instance=1` gives each of them
    those options; any other text is returned as it is."""
    if not text.startswith(PREFIX):
        return [text]
    name, _, options = text[len(PREFIX) :].strip().lower().partition(":")
    if options:
        return [f"{p}{',' if ':' in p else ':'}{options}" for p in expand(PREFIX + name)]
    plugins = [p.obj for p in registry.plugins("landscape").values()]
    dim = _nd_dim(name)
    if dim is not None:
        return [
            f"{p.name}:dim={dim}"
            for p in plugins
            if _scalable(p) and getattr(p, "min_dim", 1) <= dim
        ]
    if name not in SUITES:
        raise OptbenchError(
            f"unknown suite {name!r}; suites: {', '.join(suite_names())} (nd-N for any N >= 1)"
        )
    return [p.name for p in plugins if SUITES[name][1](p)]
