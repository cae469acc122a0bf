"""The text forms used on the command line and in study files: values, `k=v` lists, points."""

from __future__ import annotations

import ast
from typing import Any

from optbench.errors import OptbenchError

_WORDS = {
    "true": True,
    "false": False,
    "none": None,
    "null": None,
    "inf": float("inf"),
    "+inf": float("inf"),
    "-inf": float("-inf"),
}


def parse_value(text: str) -> Any:
    """`0.1` → float, `7` → int, `true` → bool, `none` → None, `[1,2]` → list, else a string."""
    stripped = text.strip()
    if stripped.lower() in _WORDS:
        return _WORDS[stripped.lower()]
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError):
        return stripped
    if isinstance(value, int | float | list | tuple):
        return list(value) if isinstance(value, tuple) else value
    return stripped if not isinstance(value, str) else value


def parse_assignment(text: str) -> tuple[str, Any]:
    """`name=value` → (name, parsed value); anything else is a clear error."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name or not value.strip():
        raise OptbenchError(f"malformed assignment {text!r}: expected name=value, e.g. lr=0.1")
    if not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise OptbenchError(f"malformed name {name!r} in {text!r}: use letters, digits and _")
    return name.replace("-", "_"), parse_value(value)


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets, so `x0=[1,2],lr=0.1` keeps the list."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += char in "[("
        depth -= char in "])"
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def parse_optimizer(text: str) -> tuple[str, dict[str, Any]]:
    """`"sgd:lr=0.1,momentum=0.8"` → ("sgd", {"lr": 0.1, "momentum": 0.8}); a name given
    twice is an error (`dim=5,dim=6` would silently keep 6)."""
    name, _, rest = text.partition(":")
    if not name.strip():
        raise OptbenchError(f"malformed optimizer {text!r}: expected NAME or NAME:k=v,k=v")
    values: dict[str, Any] = {}
    for part in _split_top_level(rest):
        key, value = parse_assignment(part)
        if key in values:
            raise OptbenchError(f"{key!r} is given twice in {text!r}; give each name once")
        values[key] = value
    return name.strip(), values


def parse_point(text: str) -> tuple[float, ...]:
    """`"4,4"` → (4.0, 4.0): the comma-separated coordinates of a start point."""
    try:
        point = tuple(float(part) for part in text.strip().strip("[]()").split(","))
    except ValueError:
        raise OptbenchError(
            f"malformed point {text!r}: expected comma-separated numbers, e.g. 4,4"
        ) from None
    if not point:
        raise OptbenchError(f"malformed point {text!r}: expected comma-separated numbers")
    return point


def format_value(value: Any) -> str:
    """The text form of one value, read back by `parse_value` to an equal value."""
    if value is None or isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    return str(value) if isinstance(value, str) else repr(value)


def format_optimizer(name: str, hyperparameters: dict[str, Any]) -> str:
    """("sgd", {"lr": 0.1}) → `"sgd:lr=0.1"`: the inverse of `parse_optimizer`."""
    if not hyperparameters:
        return name
    return name + ":" + ",".join(f"{k}={format_value(v)}" for k, v in hyperparameters.items())
