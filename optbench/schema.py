"""The study file's schema: each field with its type, checked before anything runs.

A study is a TOML table (or a dict from Python, or `--set` values); `validate` returns it with
every field checked and put in one form (a single name becomes a list, `seed` becomes
`seeds`), or raises an OptbenchError naming the field, the expected type and the value given.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from optbench.errors import OptbenchError


class _Bad(Exception):
    """A value that does not fit; the caller adds where it was found."""


@dataclass(frozen=True)
class Kind:
    """A field type: what it is called in messages and how a value is checked and normalized."""

    expected: str
    convert: Callable[[Any], Any]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _where(value: Any, test: bool) -> Any:
    if not test:
        raise _Bad
    return value


def _list_of(kind: Kind, allow_single: bool = True) -> Callable[[Any], list[Any]]:
    def convert(value: Any) -> list[Any]:
        if allow_single and not isinstance(value, list | tuple):
            value = [value]
        if not isinstance(value, list | tuple) or not value:
            raise _Bad
        return [kind.convert(v) for v in value]

    return convert


TEXT = Kind("a string", lambda v: _where(v, isinstance(v, str) and bool(v.strip())))
ANY_TEXT = Kind("a string", lambda v: _where(v, isinstance(v, str)))
TABLE = Kind("a table (k = v pairs)", lambda v: dict(_where(v, isinstance(v, Mapping))))
POSITIVE_INT = Kind("a positive integer", lambda v: _where(v, _is_int(v) and v >= 1))
NON_NEGATIVE_INT = Kind("a non-negative integer", lambda v: _where(v, _is_int(v) and v >= 0))
POSITIVE_NUMBER = Kind(
    "a positive number", lambda v: _where(v, _is_number(v) and math.isfinite(v) and v > 0)
)
TEXTS = Kind("a string or a non-empty list of strings", _list_of(TEXT))
SEEDS = Kind("a non-negative integer or a non-empty list of them", _list_of(NON_NEGATIVE_INT))
GRID_VALUES = Kind("a non-empty list of values", _list_of(Kind("a value", lambda v: v)))

RUN_FIELDS: dict[str, Kind] = {
    "seed": NON_NEGATIVE_INT,
    "seeds": SEEDS,
    "starts": POSITIVE_INT,
    "target": POSITIVE_NUMBER,
    "steps": POSITIVE_INT,
    "evaluations": POSITIVE_INT,
    "epochs": POSITIVE_INT,
    "seconds": POSITIVE_NUMBER,
}
OPTIMIZER_FIELDS: dict[str, Kind] = {
    "name": TEXT,
    "hyperparameters": TABLE,
    "grid": TABLE,
    "options": TABLE,
    "starts": POSITIVE_INT,
}


def optimizer_entry(value: Any, where: str) -> str | dict[str, Any]:
    """One optimizer entry: `"NAME:k=v"` or a table of OPTIMIZER_FIELDS with a name."""
    if isinstance(value, str):
        return check(TEXT, value, where)
    if not isinstance(value, Mapping):
        raise OptbenchError(_message(where, "a string or a table with a name", value))
    unknown = sorted(set(value) - set(OPTIMIZER_FIELDS))
    if unknown:
        raise OptbenchError(
            f"{where}: unknown key(s) {unknown}; allowed: {', '.join(OPTIMIZER_FIELDS)}"
        )
    if "name" not in value:
        raise OptbenchError(f'{where}: a table entry needs a name, e.g. name = "adam"')
    entry = {k: check(OPTIMIZER_FIELDS[k], v, f"{where}.{k}") for k, v in value.items()}
    entry["grid"] = {
        name: check(GRID_VALUES, values, f"{where}.grid.{name}")
        for name, values in entry.get("grid", {}).items()
    }
    return entry


def _optimizers(value: Any, where: str) -> list[str | dict[str, Any]]:
    if isinstance(value, str | Mapping):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise OptbenchError(_message(where, "a string, a table or a non-empty list of them", value))
    return [optimizer_entry(v, f"{where}[{i}]") for i, v in enumerate(value)]


STUDY_FIELDS: dict[str, Kind] = {
    "name": TEXT,
    "description": ANY_TEXT,
    "runner": TEXT,
    "problems": TEXTS,
    "landscapes": TEXTS,
    "options": TABLE,
    **RUN_FIELDS,
}


def _type_name(value: Any) -> str:
    return {dict: "table", list: "list", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _message(where: str, expected: str, value: Any) -> str:
    return f"{where} must be {expected}, got {value!r} ({_type_name(value)})"


def check(kind: Kind, value: Any, where: str) -> Any:
    """`value` checked and normalized by `kind`, or an OptbenchError naming `where`."""
    try:
        return kind.convert(value)
    except _Bad:
        raise OptbenchError(_message(where, kind.expected, value)) from None


def run_field(name: str, value: Any, source: str = "") -> Any:
    """A run field (`starts`, `seed`, a budget, ...) checked by its type."""
    where = f"{source} {name}".strip()
    return check(RUN_FIELDS[name], value, where)


def validate(data: Mapping[str, Any], source: str = "study") -> dict[str, Any]:
    """The study table with every field checked: `problems` (from `landscapes` too), `seeds`
    (from `seed` too) and `optimizers` become lists; unknown keys are an error."""
    if not isinstance(data, Mapping):
        raise OptbenchError(_message(source, "a table", data))
    known = {*STUDY_FIELDS, "optimizers"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise OptbenchError(
            f"{source}: unknown study key(s) {unknown}; allowed: {', '.join(sorted(known))}"
        )
    if "problems" in data and "landscapes" in data:
        raise OptbenchError(f"{source}: give problems or landscapes, not both")
    if "seed" in data and "seeds" in data:
        raise OptbenchError(f"{source}: give seed or seeds, not both")
    out = {
        k: check(STUDY_FIELDS[k], v, f"{source}: {k}") for k, v in data.items() if k in STUDY_FIELDS
    }
    if "optimizers" in data:
        out["optimizers"] = _optimizers(data["optimizers"], f"{source}: optimizers")
    if "landscapes" in out:
        out["problems"] = out.pop("landscapes")
    if "seed" in out:
        out["seeds"] = [out.pop("seed")]
    return out
