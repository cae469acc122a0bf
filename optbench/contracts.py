"""The small contracts between landscapes, optimizers, runners and the core."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from optbench.errors import OptbenchError

FAMILIES = ("scipy", "optax", "keras")


@dataclass(frozen=True, eq=False)
class Landscape:
    """A test function (JAX-traceable; array-API code also runs under NumPy), its domain and
    every known global minimiser."""

    name: str
    fn: Callable[[Any], Any]
    lower: np.ndarray
    upper: np.ndarray
    minimizers: np.ndarray
    f_min: float
    tags: frozenset[str] = frozenset()
    description: str = ""
    noise: Callable[[Any, Any, Any], Any] | None = None
    """`noise(value, x, key)`: the noisy value of a noisy instance (pure JAX); `fn` stays exact."""

    def __post_init__(self) -> None:
        lower = np.asarray(self.lower, dtype=np.float64).reshape(-1)
        upper = np.asarray(self.upper, dtype=np.float64).reshape(-1)
        minimizers = np.atleast_2d(np.asarray(self.minimizers, dtype=np.float64))
        if lower.shape != upper.shape or minimizers.shape[1] != lower.shape[0]:
            raise OptbenchError(
                f"landscape {self.name!r}: bounds {lower.shape}/{upper.shape} and "
                f"minimizers {minimizers.shape} disagree on the dimension"
            )
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "minimizers", minimizers)
        object.__setattr__(self, "f_min", float(self.f_min))
        object.__setattr__(self, "tags", frozenset(self.tags))

    @property
    def dim(self) -> int:
        return int(self.lower.shape[0])

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.lower, self.upper

    @cached_property
    def jitted(self) -> Callable[[Any], Any]:
        """The function compiled once, for calls from numpy code such as scipy."""
        import jax

        return jax.jit(self.fn)

    def check_point(self, x: Any) -> np.ndarray:
        """Return `x` as a float64 vector, or raise naming the expected shape."""
        point = np.asarray(x, dtype=np.float64)
        if point.shape != (self.dim,):
            raise OptbenchError(
                f"{self.name}: point of shape {point.shape} given; expected shape ({self.dim},)"
            )
        return point

    def __call__(self, x: Any) -> float:
        """Evaluate at a numpy point (outside the bounds too), returning a Python float."""
        return float(self.jitted(self.check_point(x)))

    def gap(self, value: float) -> float:
        """The distance of a function value above the global minimum."""
        return float(value) - self.f_min

    def distance_to_minimizer(self, x: Any) -> tuple[float, int]:
        """Euclidean distance from `x` to the nearest global minimiser, and its index."""
        distances = np.linalg.norm(self.minimizers - np.asarray(x, dtype=np.float64), axis=1)
        nearest = int(np.argmin(distances))
        return float(distances[nearest]), nearest


@runtime_checkable
class LandscapePlugin(Protocol):
    """What the `optbench.landscapes` entry-point group registers: it makes Landscapes."""

    name: str
    description: str
    default_dim: int

    def make(self, dim: int | None = None, instance: int = 0) -> Landscape: ...


@runtime_checkable
class OptimizerPlugin(Protocol):
    """What the `optbench.optimizers` group registers: a name, defaults and a `build`."""

    name: str
    family: str
    description: str
    defaults: Mapping[str, Any]

    def build(self, **hyperparameters: Any) -> Any: ...


@dataclass(frozen=True)
class RunResult:
    """What a runner returns: one row per run and the long curves table."""

    rows: pd.DataFrame
    curves: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CURVE_COLUMNS))


CURVE_COLUMNS = ["run_key", "step", "name", "value"]


@runtime_checkable
class RunnerPlugin(Protocol):
    """What the `optbench.runners` group registers: runs a batch of RunSpecs."""

    name: str
    description: str
    options: Mapping[str, Any]

    def run(self, specs: Sequence[Any]) -> RunResult: ...


@dataclass(frozen=True)
class Objective:
    """A problem as numpy callables, for optimizers that drive their own loop (scipy)."""

    fun: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    hess: Callable[[np.ndarray], np.ndarray]
    hessp: Callable[[np.ndarray, np.ndarray], np.ndarray]
    lower: np.ndarray
    upper: np.ndarray
