"""Landscape plugins: a fixed-dimension function, or a factory over the dimension."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from optbench.contracts import Landscape
from optbench.errors import OptbenchError

NUMPY_TYPES = (np.ndarray, np.generic)


def check_instance(name: str, instance: Any) -> int:
    """The instance id as an int, or an error: ids are non-negative integers."""
    if isinstance(instance, bool) or not isinstance(instance, int | np.integer) or instance < 0:
        raise OptbenchError(f"{name}: instance must be a non-negative integer, got {instance!r}")
    return int(instance)


def array_namespace(x: Any) -> ModuleType:
    """The array API namespace of `x` (jax.numpy for JAX arrays and tracers), else NumPy."""
    if isinstance(x, NUMPY_TYPES):
        return np
    namespace = getattr(x, "__array_namespace__", None)
    return np if namespace is None else namespace()


def safe_sqrt(u: Any) -> Any:
    """`sqrt(u)` for u > 0, else 0, whose gradient at 0 is 0 (a subgradient) instead of NaN."""
    xp = array_namespace(u)
    if xp is np:
        return np.sqrt(np.fmax(u, 0.0))  # the same values, without the slow `where`s
    positive = u > 0
    return xp.where(positive, xp.sqrt(xp.where(positive, u, 1.0)), 0.0)


def instantiate(base: Landscape, instance: int, box_bounded: bool) -> Landscape:
    """`instances.instantiate`, imported on use: instances imports `array_namespace` from here."""
    from optbench.landscapes.instances import instantiate as make_instance

    return make_instance(base, instance, box_bounded=box_bounded)


@dataclass(frozen=True)
class FixedLandscape:
    """A landscape defined in one dimension only, such as Beale in 2-D.

    `box_bounded` marks functions whose listed minima are global only inside the bounds
    (outside, the function goes lower or repeats); instances then clip to the box.
    """

    name: str
    fn: Callable[[Any], Any]
    lower: Sequence[float]
    upper: Sequence[float]
    minimizers: Sequence[Sequence[float]]
    f_min: float
    tags: frozenset[str] = field(default_factory=frozenset)
    description: str = ""
    box_bounded: bool = False
    scalable = False

    @property
    def default_dim(self) -> int:
        return len(self.lower)

    def make(self, dim: int | None = None, instance: int = 0) -> Landscape:
        """Instance `instance` of the landscape; other dimensions are an error."""
        if dim is not None and (isinstance(dim, bool) or dim != self.default_dim):
            raise OptbenchError(
                f"{self.name} is defined in {self.default_dim}-D only; dim={dim!r} is not allowed"
            )
        instance = check_instance(self.name, instance)
        base = Landscape(
            self.name, self.fn, np.asarray(self.lower), np.asarray(self.upper),
            np.asarray(self.minimizers), self.f_min, self.tags, self.description,
        )  # fmt: skip
        return instantiate(base, instance, box_bounded=self.box_bounded)


@dataclass(frozen=True)
class ScalableLandscape:
    """An n-dimensional landscape: a factory over `dim` with the literature's default.

    `bounds`, `minimizers` and `f_min` are functions of the dimension; `tags_in`, when
    given, gives the tags of one dimension (Rosenbrock is multimodal from 4-D on).
    """

    name: str
    fn: Callable[[Any], Any]
    bounds: Callable[[int], tuple[float, float]]
    minimizers: Callable[[int], np.ndarray]
    f_min: Callable[[int], float]
    default_dim: int
    tags: frozenset[str] = field(default_factory=frozenset)
    description: str = ""
    min_dim: int = 1
    tags_in: Callable[[int], frozenset[str]] | None = None
    box_bounded: bool = False
    scalable = True

    def check_dim(self, dim: Any) -> int:
        """`dim` as an int (None → the default), or an error naming the allowed dimensions."""
        if dim is None:
            return self.default_dim
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < self.min_dim:
            raise OptbenchError(
                f"{self.name}: dim={dim!r} is not allowed; use an integer >= {self.min_dim} "
                f"(default {self.default_dim})"
            )
        return int(dim)

    def make(self, dim: int | None = None, instance: int = 0) -> Landscape:
        """Instance `instance` of the landscape in `dim` dimensions."""
        dim = self.check_dim(dim)
        instance = check_instance(self.name, instance)
        low, high = self.bounds(dim)
        base = Landscape(
            self.name, self.fn, np.full(dim, float(low)), np.full(dim, float(high)),
            np.atleast_2d(self.minimizers(dim)), self.f_min(dim),
            self.tags if self.tags_in is None else self.tags_in(dim),
            self.description,
        )  # fmt: skip
        return instantiate(base, instance, box_bounded=self.box_bounded)
