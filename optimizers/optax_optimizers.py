"""optax optimizers as plugins, built with `optax.inject_hyperparams` so scalars can be traced."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import optax


@dataclass(frozen=True)
class OptaxOptimizer:
    """An optax optimizer factory with the defaults optbench uses."""

    name: str
    factory: Callable[..., optax.GradientTransformation]
    defaults: Mapping[str, Any]
    description: str
    family = "optax"

    def build(self, **hyperparameters: Any) -> optax.GradientTransformation:
        """The optimizer with every numeric hyperparameter injected into its state."""
        hp = {k: v for k, v in (dict(self.defaults) | hyperparameters).items() if v is not None}
        return optax.inject_hyperparams(self.factory)(**hp)


sgd = OptaxOptimizer(
    "sgd",
    optax.sgd,
    {"learning_rate": 0.01, "momentum": None, "nesterov": False},
    "Stochastic gradient descent, with optional (Nesterov) momentum (optax.sgd).",
)
adam = OptaxOptimizer(
    "adam",
    optax.adam,
    {"learning_rate": 0.001, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "eps_root": 0.0},
    "Adam, Kingma & Ba 2015 (optax.adam).",
)
