"""Typed quality figures for a benchmark's `extra_info`: what a regression check judges beyond time.

A benchmark stores each figure under its name, e.g.
`benchmark.extra_info["success_rate"] = figure(0.85, "proportion", n=20, per_start=[...])`;
`optbench regress` reads them back from pytest-benchmark's JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

KINDS = ("count", "proportion", "accuracy", "gap", "evaluations", "value")


def figure(
    value: float,
    kind: str,
    *,
    higher_is_better: bool = True,
    n: int | None = None,
    per_start: Sequence[float] | None = None,
    deterministic: bool = True,
) -> dict[str, Any]:
    """One quality figure as JSON-ready data; `per_start` holds the per-start/per-seed values
    for paired tests, `deterministic=False` exempts it from exact comparison."""
    if kind not in KINDS:
        raise ValueError(f"unknown quality kind {kind!r}; allowed: {', '.join(KINDS)}")
    entry: dict[str, Any] = {
        "value": _plain(value),
        "kind": kind,
        "higher_is_better": bool(higher_is_better),
        "deterministic": bool(deterministic),
    }
    if n is not None:
        entry["n"] = int(n)
    if per_start is not None:
        entry["per_start"] = [_plain(v) for v in per_start]
    return entry


def is_figure(entry: Any) -> bool:
    """True for an `extra_info` entry written by `figure`."""
    return isinstance(entry, dict) and {"value", "kind", "higher_is_better"} <= set(entry)


def _plain(value: Any) -> float | int | str:
    """A JSON-safe number: non-finite values become the strings 'nan', 'inf', '-inf'."""
    number = value.item() if hasattr(value, "item") else value
    if isinstance(number, bool):
        return int(number)
    if isinstance(number, float) and not math.isfinite(number):
        return repr(number)
    return number
