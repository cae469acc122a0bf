"""Search spaces: grids (ParameterGrid order) and seeded samples (ParameterSampler, scipy.stats)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.stats
from sklearn.model_selection import ParameterGrid, ParameterSampler

from optbench.errors import OptbenchError

STRATEGIES = ("grid", "random", "halving", "optuna")
# scipy.stats distributions a study file may name, with the arguments each takes.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "loguniform": ("low", "high"),
    "uniform": ("low", "high"),
    "randint": ("low", "high"),
    "norm": ("loc", "scale"),
}

Space = list[dict[str, Any]]


def distribution(name: str, spec: Mapping[str, Any]) -> Any:
    """A frozen scipy.stats distribution from `{distribution = "loguniform", low =, high =}`."""
    kind = spec.get("distribution")
    if kind not in DISTRIBUTIONS:
        raise OptbenchError(
            f"parameter {name!r}: unknown distribution {kind!r}; allowed: "
            f"{', '.join(DISTRIBUTIONS)}"
        )
    args = DISTRIBUTIONS[kind]
    given = set(spec) - {"distribution"}
    if given != set(args):
        raise OptbenchError(
            f"parameter {name!r}: distribution {kind!r} takes {', '.join(args)}; got "
            f"{', '.join(sorted(given)) or '(nothing)'}"
        )
    values = [spec[a] for a in args]
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        raise OptbenchError(f"parameter {name!r}: {kind} arguments must be numbers, got {values}")
    a, b = values
    if kind in ("loguniform", "uniform", "randint") and not a < b:
        raise OptbenchError(f"parameter {name!r}: {kind} needs low < high, got {a} and {b}")
    if kind == "loguniform" and a <= 0:
        raise OptbenchError(f"parameter {name!r}: loguniform needs low > 0, got {a}")
    if kind == "norm" and b <= 0:
        raise OptbenchError(f"parameter {name!r}: norm needs scale > 0, got {b}")
    if kind == "uniform":
        return scipy.stats.uniform(a, b - a)
    return getattr(scipy.stats, kind)(a, b)


def parse(space: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Space:
    """A study file's space (one table or a list of tables) as ParameterGrid/Sampler input."""
    grids = [space] if isinstance(space, Mapping) else list(space)
    if not grids:
        raise OptbenchError("the search space is empty: give at least one parameter")
    parsed = []
    for grid in grids:
        if not isinstance(grid, Mapping) or not grid:
            raise OptbenchError(f"the search space is empty or not a table: {grid!r}")
        out: dict[str, Any] = {}
        for name, values in grid.items():
            if isinstance(values, Mapping):
                out[name] = distribution(name, values)
            elif isinstance(values, list | tuple):
                if not values:
                    raise OptbenchError(f"parameter {name!r} has an empty list of values")
                out[name] = [tuple(v) if isinstance(v, list) else v for v in values]
            else:
                raise OptbenchError(
                    f"parameter {name!r}: give a list of values or a distribution table, "
                    f"got {values!r}"
                )
        parsed.append(out)
    return parsed


def has_distributions(space: Space) -> bool:
    """Whether any parameter is a distribution rather than a list of values."""
    return any(hasattr(v, "rvs") for grid in space for v in grid.values())


def candidates(
    space: Space, strategy: str, n_iter: int | None = None, random_state: int = 0
) -> list[dict[str, Any]]:
    """The configurations to evaluate, in scikit-learn's order for the strategy."""
    if strategy not in STRATEGIES:
        raise OptbenchError(f"unknown strategy {strategy!r}; allowed: {', '.join(STRATEGIES)}")
    if strategy == "optuna":
        raise OptbenchError(
            "strategy 'optuna' has no candidates ahead: optuna asks them trial by trial "
            "(run it with run_search)"
        )
    if strategy == "random":
        if n_iter is None or isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1:
            raise OptbenchError(f"random search needs n_iter, a positive integer; got {n_iter!r}")
        points = ParameterSampler(space, n_iter, random_state=random_state)
        return [{k: _plain(v) for k, v in p.items()} for p in points]
    if has_distributions(space):
        raise OptbenchError(
            f"strategy {strategy!r} needs lists of values; distributions need strategy 'random'"
        )
    return list(ParameterGrid(space))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
