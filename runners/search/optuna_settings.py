"""An optuna search's settings: n_trials, trials_per_batch, the TPE sampler's options and the
pruner, checked before any training (errors name the bad value and what is allowed)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from optbench.runners.search import optuna_space

from optbench.errors import OptbenchError

if TYPE_CHECKING:
    from optbench.runners.search.study import SearchStudy
    from optuna.pruners import BasePruner
    from optuna.samplers import TPESampler

# pruner names a study file may give, and optuna's classes.
PRUNERS = {
    "none": "NopPruner",
    "median": "MedianPruner",
    "percentile": "PercentilePruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "hyperband": "HyperbandPruner",
    "threshold": "ThresholdPruner",
}
DEFAULT_PRUNER = "median"
# TPESampler arguments a study file's `tpe` table may set, with their types (`seed` is
# `random_state`); constant_liar is on by default: a batch's trials are asked before any is told.
TPE_OPTIONS: dict[str, type] = {
    "n_startup_trials": int,
    "n_ei_candidates": int,
    "multivariate": bool,
    "group": bool,
    "constant_liar": bool,
}
TPE_DEFAULTS = {"constant_liar": True}


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptbenchError(f"optuna search needs {name}, a positive integer; got {value!r}")


def has_curve(study: SearchStudy, backend: str | None = None) -> bool:
    """Whether fits have a per-epoch validation curve to prune on (MNIST in JAX)."""
    return study.runner == "mnist" and (backend or study.backend) == "jax"


def pruner_spec(study: SearchStudy, backend: str | None = None) -> tuple[str, dict[str, Any]]:
    """(pruner name, its options); the default is median where fits have a per-epoch curve,
    none elsewhere; a pruner asked for where there is no curve is an error."""
    given = study.pruner
    if given is None:
        return (DEFAULT_PRUNER if has_curve(study, backend) else "none"), {}
    if isinstance(given, str):
        name, options = given, {}
    elif isinstance(given, Mapping) and "name" in given:
        name, options = given["name"], {k: v for k, v in given.items() if k != "name"}
    else:
        raise OptbenchError(
            f"pruner must be a name or a table with `name` and the pruner's options, got {given!r}"
        )
    if name not in PRUNERS:
        raise OptbenchError(f"unknown pruner {name!r}; allowed: {', '.join(PRUNERS)}")
    if name != "none" and not has_curve(study, backend):
        raise OptbenchError(
            f"pruner {name!r} needs a per-epoch validation curve, which only the mnist runner's "
            f"JAX backend has (runner {study.runner!r}, backend {backend or study.backend!r}); "
            'use pruner = "none"'
        )
    return name, dict(options)


def _build(
    kind: type,
    what: str,
    options: Mapping[str, Any],
    allowed: tuple[str, ...],
    fixed: Mapping[str, Any] | None = None,
) -> Any:
    """`kind(**options, **fixed)`, its unknown options and bad values an OptbenchError."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise OptbenchError(
            f"{what}: unknown option(s) {unknown}; allowed: {', '.join(allowed) or '(none)'}"
        )
    try:
        return kind(**options, **(fixed or {}))
    except (TypeError, ValueError) as exc:
        raise OptbenchError(f"{what}: {exc}") from None


def pruner(study: SearchStudy, backend: str | None = None) -> BasePruner:
    """optuna's pruner of the study."""
    optuna = optuna_space.require()
    name, options = pruner_spec(study, backend)
    kind = getattr(optuna.pruners, PRUNERS[name])
    allowed = tuple(p for p in inspect.signature(kind).parameters if p != "self")
    return _build(kind, f"pruner {name!r}", options, allowed)


def sampler(study: SearchStudy) -> TPESampler:
    """optuna's TPE sampler, seeded by the study's random_state."""
    optuna = optuna_space.require()
    if not isinstance(study.tpe, Mapping):
        raise OptbenchError(f"tpe must be a table of TPESampler options, got {study.tpe!r}")
    for name, value in study.tpe.items():
        kind = TPE_OPTIONS.get(name)
        wrong = kind is not None and (
            not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))
        )
        if wrong or (kind is int and value < 0):
            raise OptbenchError(f"tpe: {name} must be a {_kind_name(kind)}, got {value!r}")
    options = TPE_DEFAULTS | dict(study.tpe)
    kind = optuna.samplers.TPESampler
    return _build(kind, "tpe", options, tuple(TPE_OPTIONS), {"seed": study.random_state})


def _kind_name(kind: type | None) -> str:
    return "non-negative integer" if kind is int else "boolean (true or false)"


def check(study: SearchStudy, backend: str | None = None) -> None:
    """Everything an optuna search needs that needs no data: optuna itself, n_trials,
    trials_per_batch, random_state, the space, the sampler and the pruner."""
    optuna_space.require()
    _positive("n_trials", study.n_trials)
    _positive("trials_per_batch", study.trials_per_batch)
    seed = study.random_state
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise OptbenchError(f"random_state must be a non-negative integer, got {seed!r}")
    optuna_space.parse(study.space)
    sampler(study)
    pruner(study, backend)
