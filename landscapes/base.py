"""Landscape plugins: a fixed-dimension function, or a factory over the dimension."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optbench.contracts import Landscape
from optbench.errors import OptbenchError


def check_instance(name: str, instance: Any) -> int:
    """The instance id as an int, or an error: ids are non-negative integers."""
    if isinstance(instance, bool) or not isinstance(instance, int | np.integer) or instance < 0:
        raise OptbenchError(f"{name}: instance must be a non-negative integer, got {instance!r}")
    return int(instance)


@dataclass(frozen=True)
class FixedLandscape:
    """A landscape defined in one dimension only, such as Beale in 2-D."""

    name: str
    fn: Callable[[Any], Any]
    lower: Sequence[float]
    upper: Sequence[float]
    minimizers: Sequence[Sequence[float]]
    f_min: float
    tags: frozenset[str] = field(default_factory=frozenset)
    description: str = ""
    scalable = False

    @property
    def default_dim(self) -> int:
        return len(self.lower)

    def make(self, dim: int | None = None, instance: int = 0) -> Landscape:
        """The landscape itself (instance 0); other dimensions are an error."""
        if dim is not None and dim != self.default_dim:
            raise OptbenchError(
                f"{self.name} is defined in {self.default_dim}-D only; dim={dim!r} is not allowed"
            )
        if check_instance(self.name, instance) != 0:
            raise OptbenchError(f"{self.name}: instance {instance} is not available; use 0")
        return Landscape(
            self.name, self.fn, np.asarray(self.lower), np.asarray(self.upper),
            np.asarray(self.minimizers), self.f_min, self.tags, self.description,
        )  # fmt: skip
