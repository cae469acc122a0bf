"""scipy.optimize methods as optimizer plugins; gradients come from the landscape's autodiff."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, OptimizeResult, minimize

from optbench.contracts import Objective
from optbench.errors import OptbenchError

JAC_MODES = ("exact", "2-point", "3-point")


@dataclass(frozen=True)
class ScipyMethod:
    """A configured `scipy.optimize.minimize` method: what `build` returns."""

    method: str
    options: Mapping[str, Any]
    jac: str = "exact"
    uses_bounds: bool = False
    uses_gradient: bool = True

    def minimize(self, objective: Objective, x0: np.ndarray) -> OptimizeResult:
        """Run from `x0`; bounded methods keep to the landscape's domain."""
        jac = None
        if self.uses_gradient:
            jac = objective.grad if self.jac == "exact" else self.jac
        bounds = Bounds(objective.lower, objective.upper) if self.uses_bounds else None
        return minimize(
            objective.fun, x0, method=self.method, jac=jac, bounds=bounds, options=dict(self.options)
        )


@dataclass(frozen=True)
class ScipyOptimizer:
    """One `scipy.optimize.minimize` method as a plugin."""

    name: str
    method: str
    description: str
    option_defaults: Mapping[str, Any] = field(default_factory=dict)
    uses_bounds: bool = False
    uses_gradient: bool = True
    family = "scipy"

    @property
    def defaults(self) -> dict[str, Any]:
        jac = {"jac": "exact"} if self.uses_gradient else {}
        return jac | dict(self.option_defaults)

    def validate(self, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        """Check the gradient mode; the rest are scipy options."""
        jac = hyperparameters.get("jac", "exact")
        if self.uses_gradient and jac not in JAC_MODES:
            raise OptbenchError(
                f"{self.name}: jac={jac!r} is not allowed; choose one of {', '.join(JAC_MODES)}"
            )
        return dict(hyperparameters)

    def build(self, **hyperparameters: Any) -> ScipyMethod:
        hp = self.validate(hyperparameters)
        jac = hp.pop("jac", "exact")
        options = {k: v for k, v in hp.items() if v is not None}
        return ScipyMethod(self.method, options, jac, self.uses_bounds, self.uses_gradient)


lbfgsb = ScipyOptimizer(
    "l-bfgs-b",
    "L-BFGS-B",
    "Limited-memory BFGS with box bounds (scipy.optimize.minimize method='L-BFGS-B').",
    {"maxiter": None, "maxcor": None, "ftol": None, "gtol": None, "maxfun": None},
    uses_bounds=True,
)
bfgs = ScipyOptimizer(
    "bfgs",
    "BFGS",
    "Quasi-Newton BFGS (scipy.optimize.minimize method='BFGS').",
    {"maxiter": None, "gtol": None, "xrtol": None},
)
nelder_mead = ScipyOptimizer(
    "nelder-mead",
    "Nelder-Mead",
    "Downhill simplex, derivative-free (scipy.optimize.minimize method='Nelder-Mead').",
    {"maxiter": None, "maxfev": None, "xatol": None, "fatol": None, "adaptive": None},
    uses_bounds=True,
    uses_gradient=False,
)
