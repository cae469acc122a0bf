"""scipy.optimize methods as optimizer plugins; gradients come from the landscape's autodiff.

Names keep scipy's spelling in lower case: the `minimize` methods as scipy writes them
(`nelder-mead`, `l-bfgs-b`, `trust-constr`, `newton-cg`, ...), the global optimizers as their
function names with `-` for `_` (`differential-evolution`, `dual-annealing`, `basinhopping`,
`shgo`, `direct`); look-ups ignore case, `-` and `_`.

Hyperparameters are every `options` key scipy takes for the method, with scipy's defaults (read
from scipy's own signatures), plus `jac` ("exact": JAX autodiff; scipy's finite differences
"2-point"/"3-point" with a relative step; "none": no `jac` given, scipy's own default, forward
differences with the method's absolute step `eps`, as a plain `minimize` call) for methods
that use a gradient and `hess` ("exact", "hessp", and for trust-constr also "2-point", "3-point",
"bfgs", "sr1") for those that use a Hessian. Global methods take the landscape's bounds and a
`seed` (scipy's `rng`, default 0, so runs repeat); basinhopping's `T` is spelled `temperature`.
`maxiter` defaults to None: the run's step budget (the landscape runner sets it), else scipy's own
default. Bounded local methods keep to the landscape's domain.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.optimize
from scipy.optimize import BFGS, SR1, Bounds, OptimizeResult, minimize

from optbench.contracts import Objective
from optbench.errors import OptbenchError

JAC_MODES = ("exact", "2-point", "3-point", "none")
NOT_OPTIONS = frozenset({
    "fun", "func", "x0", "grad", "args", "jac", "hess", "hessp", "bounds", "constraints",
    "callback", "disp", "return_all", "iprint", "workers", "verbose", "initial_simplex", "direc",
    "hess_inv0", "sparse_jacobian", "scale", "offset", "mesg_num", "seed", "minimizer_kwargs",
    "take_step", "accept_test", "options", "integrality", "vectorized", "unknown_options",
    "trust_region_options",
})  # fmt: skip
TRUST_REGION = {
    "initial_trust_radius": 1.0,
    "max_trust_radius": 1000.0,
    "eta": 0.15,
    "gtol": 1e-4,
    "maxiter": None,
}
SHGO_OPTIONS = {
    "maxfev": None,
    "f_min": None,
    "f_tol": 1e-4,
    "maxiter": None,
    "maxev": None,
    "maxtime": None,
    "minhgrd": None,
    "symmetry": None,
    "minimize_every_iter": True,
    "local_iter": False,
    "infty_constraints": True,
}


def signature_options(path: str) -> dict[str, Any]:
    """The keyword options of a scipy function and their defaults, from its signature."""
    return dict(_signature_options(path))


@functools.cache
def _signature_options(path: str) -> dict[str, Any]:
    module, _, name = path.rpartition(".")
    function = getattr(importlib.import_module(module), name)
    found = {}
    for arg, param in inspect.signature(function).parameters.items():
        if arg in NOT_OPTIONS or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        default = None if param.default is param.empty else param.default
        if isinstance(default, np.generic):
            default = default.item()
        if not isinstance(default, bool | int | float | str | tuple | type(None)):
            default = None
        found[arg] = default
    return found


def _check_option(owner: str, name: str, value: Any, default: Any) -> None:
    """Types follow scipy's default; counts are positive integers, tolerances non-negative."""
    if value is None:
        return
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if isinstance(default, bool) and not isinstance(value, bool):
        raise OptbenchError(f"{owner}: {name}={value!r} must be true or false")
    if isinstance(default, str) and not isinstance(value, str):
        raise OptbenchError(f"{owner}: {name}={value!r} must be a string like {default!r}")
    counts = name.startswith("max") or name in ("niter", "popsize", "n", "iters")
    integral = isinstance(value, numbers.Integral) or (is_number and float(value).is_integer())
    if counts and name != "max_trust_radius" and (default is None or default >= 1):
        if not integral or isinstance(value, bool) or value < 1:
            raise OptbenchError(f"{owner}: {name}={value!r} must be an integer ≥ 1")
    elif isinstance(default, numbers.Real) and not isinstance(default, bool) and not is_number:
        raise OptbenchError(f"{owner}: {name}={value!r} must be a number")
    tolerance = "tol" in name or name in ("eps", "ftol", "gtol", "xtol", "rhobeg", "stepsize")
    sentinel = is_number and value == default  # TNC's -1 means "scipy picks"
    if tolerance and is_number and not sentinel and not (value >= 0 and math.isfinite(value)):
        raise OptbenchError(f"{owner}: {name}={value!r} is out of range; allowed: [0, inf)")


@dataclass(frozen=True)
class ScipyMethod:
    """A configured `scipy.optimize.minimize` method: what a local plugin's `build` returns."""

    method: str
    options: Mapping[str, Any]
    jac: str | None = "exact"
    hess: str | None = None
    uses_bounds: bool = False

    def minimize(self, objective: Objective, x0: np.ndarray) -> OptimizeResult:
        """Run from `x0` with autodiff derivatives; bounded methods keep to the domain."""
        kwargs: dict[str, Any] = {}
        if self.jac not in (None, "none"):
            kwargs["jac"] = objective.grad if self.jac == "exact" else self.jac
        if self.hess == "exact":
            kwargs["hess"] = objective.hess
        elif self.hess == "hessp":
            kwargs["hessp"] = objective.hessp
        elif self.hess in ("bfgs", "sr1"):
            kwargs["hess"] = BFGS() if self.hess == "bfgs" else SR1()
        elif self.hess is not None:
            kwargs["hess"] = self.hess
        if self.uses_bounds:
            kwargs["bounds"] = Bounds(objective.lower, objective.upper)
        return minimize(
            objective.fun, np.asarray(x0, np.float64), method=self.method,
            options=dict(self.options), **kwargs,
        )  # fmt: skip


@dataclass(frozen=True)
class GlobalMethod:
    """A configured global optimizer (differential_evolution, shgo, ...): what `build` returns."""

    function: str
    options: Mapping[str, Any]
    jac: str | None = None

    def minimize(self, objective: Objective, x0: np.ndarray) -> OptimizeResult:
        """Search the landscape's box; `x0` seeds the methods that take one."""
        bounds = Bounds(objective.lower, objective.upper)
        options = dict(self.options)
        jac = (
            None
            if self.jac in (None, "none")
            else objective.grad
            if self.jac == "exact"
            else self.jac
        )
        x0 = np.asarray(x0, np.float64)
        fun = objective.fun
        if self.function == "differential_evolution":
            return scipy.optimize.differential_evolution(fun, bounds, x0=x0, **options)
        if self.function == "dual_annealing":
            local = {"jac": jac} if jac is not None else {}
            return scipy.optimize.dual_annealing(
                fun, bounds, x0=x0, minimizer_kwargs=local, **options
            )
        if self.function == "basinhopping":
            local = {"method": "L-BFGS-B", "bounds": bounds} | ({"jac": jac} if jac else {})
            options["T"] = options.pop("temperature", 1.0)
            return scipy.optimize.basinhopping(fun, x0, minimizer_kwargs=local, **options)
        if self.function == "shgo":
            top = {k: options.pop(k) for k in ("n", "iters", "sampling_method") if k in options}
            local = {"method": "SLSQP"} | ({"jac": jac} if jac is not None else {})
            return scipy.optimize.shgo(fun, bounds, minimizer_kwargs=local, options=options, **top)
        if self.function == "direct":
            return scipy.optimize.direct(fun, bounds, **options)
        raise OptbenchError(f"unknown global method {self.function!r}")


@dataclass(frozen=True)
class ScipyOptimizer:
    """One `scipy.optimize.minimize` method or global optimizer as a plugin."""

    name: str
    method: str
    description: str
    options_from: str
    jac_modes: tuple[str, ...] = JAC_MODES
    hess_modes: tuple[str, ...] = ()
    uses_bounds: bool = False
    extra_options: Mapping[str, Any] = field(default_factory=dict)
    is_global: bool = False
    family = "scipy"

    @property
    def options(self) -> dict[str, Any]:
        """Every scipy option of the method, with scipy's default (None: scipy decides)."""
        found = signature_options(self.options_from) | dict(self.extra_options)
        if self.is_global and "rng" in found:
            found["seed"] = 0
            del found["rng"]
        if "T" in found:
            found["temperature"] = found.pop("T")
        if "maxiter" in found:
            found["maxiter"] = None
        return found

    @property
    def defaults(self) -> dict[str, Any]:
        modes = {"jac": self.jac_modes[0]} if self.jac_modes else {}
        modes |= {"hess": self.hess_modes[0]} if self.hess_modes else {}
        return modes | self.options

    def validate(self, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        """Check the derivative modes and that every option is one this method takes."""
        hp = dict(hyperparameters)
        options = self.options
        unknown = sorted(set(hp) - set(self.defaults))
        if unknown:
            raise OptbenchError(
                f"unknown hyperparameter {unknown[0]!r} for optimizer {self.name!r}; "
                f"valid: {', '.join(sorted(self.defaults))} (the options of scipy's {self.method})"
            )
        if hp.get("jac", "") is None and "none" in self.jac_modes:
            hp["jac"] = "none"
        for key, modes in (("jac", self.jac_modes), ("hess", self.hess_modes)):
            if key in hp and hp[key] not in modes:
                raise OptbenchError(
                    f"{self.name}: {key}={hp[key]!r} is not allowed; "
                    f"choose one of {', '.join(modes)}"
                )
        for name, value in hp.items():
            if name in options:
                _check_option(self.name, name, value, options[name])
        if "seed" in hp and not (isinstance(hp["seed"], numbers.Integral) and hp["seed"] >= 0):
            raise OptbenchError(f"{self.name}: seed={hp['seed']!r} must be an integer ≥ 0")
        return hp

    def build(self, **hyperparameters: Any) -> ScipyMethod | GlobalMethod:
        """The configured method; options left at None keep scipy's own default."""
        hp = self.validate(hyperparameters)
        jac = hp.pop("jac", self.jac_modes[0] if self.jac_modes else None)
        hess = hp.pop("hess", self.hess_modes[0] if self.hess_modes else None)
        options = {k: v for k, v in hp.items() if v is not None}
        if self.is_global:
            if "seed" in options:
                options["rng"] = options.pop("seed")
            return GlobalMethod(self.method, options, jac)
        return ScipyMethod(self.method, options, jac, hess, self.uses_bounds)


def _local(name: str, method: str, description: str, module: str, **kw: Any) -> ScipyOptimizer:
    return ScipyOptimizer(name, method, description, f"scipy.optimize.{module}", **kw)


NEWTON_HESS = ("exact", "hessp")
EXACT_ONLY = ("exact",)

nelder_mead = _local(
    "nelder-mead", "Nelder-Mead", "Downhill simplex, derivative-free (Nelder & Mead 1965).",
    "_optimize._minimize_neldermead", jac_modes=(), uses_bounds=True,
)  # fmt: skip
powell = _local(
    "powell", "Powell", "Powell's conjugate directions, derivative-free (Powell 1964).",
    "_optimize._minimize_powell", jac_modes=(), uses_bounds=True,
)  # fmt: skip
cg = _local("cg", "CG", "Nonlinear conjugate gradient, Polak-Ribière.", "_optimize._minimize_cg")
bfgs = _local("bfgs", "BFGS", "Quasi-Newton BFGS with a line search.", "_optimize._minimize_bfgs")
lbfgsb = _local(
    "l-bfgs-b", "L-BFGS-B", "Limited-memory BFGS with box bounds (Byrd et al. 1995).",
    "_lbfgsb_py._minimize_lbfgsb", uses_bounds=True,
)  # fmt: skip
tnc = _local(
    "tnc", "TNC", "Truncated Newton with box bounds (Nash 1984).", "_tnc._minimize_tnc",
    uses_bounds=True,
)  # fmt: skip
slsqp = _local(
    "slsqp", "SLSQP", "Sequential least squares programming with bounds (Kraft 1988).",
    "_slsqp_py._minimize_slsqp", uses_bounds=True,
)  # fmt: skip
trust_constr = _local(
    "trust-constr", "trust-constr", "Trust-region interior point / SQP with bounds.",
    "_trustregion_constr.minimize_trustregion_constr._minimize_trustregion_constr",
    hess_modes=("exact", "hessp", "2-point", "3-point", "bfgs", "sr1"), uses_bounds=True,
)  # fmt: skip
newton_cg = _local(
    "newton-cg", "Newton-CG", "Truncated Newton with conjugate-gradient inner solves.",
    "_optimize._minimize_newtoncg", jac_modes=EXACT_ONLY, hess_modes=NEWTON_HESS,
)  # fmt: skip
trust_ncg = _local(
    "trust-ncg", "trust-ncg", "Newton conjugate-gradient trust region (Steihaug).",
    "_trustregion_ncg._minimize_trust_ncg", jac_modes=EXACT_ONLY, hess_modes=NEWTON_HESS,
    extra_options=TRUST_REGION,
)  # fmt: skip
trust_krylov = _local(
    "trust-krylov", "trust-krylov", "Nearly exact trust region by Krylov subspaces (GLTR).",
    "_trustregion_krylov._minimize_trust_krylov", jac_modes=EXACT_ONLY, hess_modes=NEWTON_HESS,
    extra_options=TRUST_REGION,
)  # fmt: skip
trust_exact = _local(
    "trust-exact", "trust-exact", "Nearly exact trust region with full Hessians (Moré-Sorensen).",
    "_trustregion_exact._minimize_trustregion_exact", jac_modes=EXACT_ONLY,
    hess_modes=EXACT_ONLY, extra_options=TRUST_REGION,
)  # fmt: skip
dogleg = _local(
    "dogleg", "dogleg", "Dog-leg trust region; needs a positive definite Hessian.",
    "_trustregion_dogleg._minimize_dogleg", jac_modes=EXACT_ONLY, hess_modes=EXACT_ONLY,
    extra_options=TRUST_REGION,
)  # fmt: skip
cobyla = _local(
    "cobyla", "COBYLA", "Constrained optimization by linear approximation (Powell 1994).",
    "_cobyla_py._minimize_cobyla", jac_modes=(), uses_bounds=True,
)  # fmt: skip
cobyqa = _local(
    "cobyqa", "COBYQA", "Constrained optimization by quadratic approximation (Ragonneau 2022).",
    "_cobyqa_py._minimize_cobyqa", jac_modes=(), uses_bounds=True,
)  # fmt: skip
differential_evolution = ScipyOptimizer(
    "differential-evolution", "differential_evolution",
    "Differential evolution over the bounds (Storn & Price 1997), polished by L-BFGS-B.",
    "scipy.optimize.differential_evolution", jac_modes=(), is_global=True,
)  # fmt: skip
dual_annealing = ScipyOptimizer(
    "dual-annealing", "dual_annealing",
    "Generalized simulated annealing with local search (Xiang et al. 1997).",
    "scipy.optimize.dual_annealing", is_global=True,
)  # fmt: skip
basinhopping = ScipyOptimizer(
    "basinhopping", "basinhopping",
    "Basin hopping: random jumps between bounded L-BFGS-B minima (Wales & Doye 1997).",
    "scipy.optimize.basinhopping", is_global=True,
)  # fmt: skip
shgo = ScipyOptimizer(
    "shgo", "shgo", "Simplicial homology global optimization (Endres et al. 2018).",
    "scipy.optimize.shgo", is_global=True, extra_options=SHGO_OPTIONS,
)  # fmt: skip
direct = ScipyOptimizer(
    "direct", "direct", "DIRECT, dividing rectangles (Jones et al. 1993), derivative-free.",
    "scipy.optimize.direct", jac_modes=(), is_global=True,
)  # fmt: skip
