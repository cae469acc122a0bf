"""An example third-party optbench plugin: one landscape and one optimizer, via entry points."""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import optax

from optbench import Landscape, OptbenchError


def _bowl(x):
    return jnp.sum((x - 1.0) ** 2) + 2.0


@dataclass(frozen=True)
class Bowl:
    """A shifted quadratic bowl: minimum 2 at (1, ..., 1)."""

    name: str = "example-bowl"
    description: str = "Shifted quadratic bowl, minimum 2 at (1, ..., 1) (example plugin)."
    default_dim: int = 2
    tags: frozenset = frozenset({"unimodal", "differentiable", "separable"})
    scalable: bool = True

    def make(self, dim: int | None = None, instance: int = 0) -> Landscape:
        dim = self.default_dim if dim is None else dim
        if dim < 1 or instance != 0:
            raise OptbenchError(
                f"example-bowl: dim must be >= 1 and instance 0, got {dim}, {instance}"
            )
        return Landscape(
            self.name,
            _bowl,
            -5.0 * np.ones(dim),
            5.0 * np.ones(dim),
            np.ones((1, dim)),
            2.0,
            self.tags,
            self.description,
        )


@dataclass(frozen=True)
class SignSGD:
    """Sign gradient descent: steps of fixed size along the sign of the gradient."""

    name: str = "example-signsgd"
    family: str = "optax"
    description: str = "Sign gradient descent (example plugin)."

    @property
    def defaults(self) -> dict:
        return {"learning_rate": 0.01}

    def build(self, **hyperparameters):
        def sign_sgd(learning_rate):
            return optax.chain(optax.scale_by_sign(), optax.scale_by_learning_rate(learning_rate))

        return optax.inject_hyperparams(sign_sgd)(**(self.defaults | hyperparameters))


bowl = Bowl()
signsgd = SignSGD()
