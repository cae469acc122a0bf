"""Candidates → fit specs: each (configuration, fold) is a RunSpec of the search runner that
names the wrapped runner's spec, so every fit is a row in the results store (a search resumes)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from optbench import hyperparameters, registry
from optbench.errors import OptbenchError
from optbench.spec import BUDGET_FIELDS, RunSpec, freeze

PREFIX = "search."
SHUFFLES = ("member", "fold")
DEFAULT_SHUFFLE = "member"
ROUTED = ("optimizer", "seed")


def route(name: str, runner: Any, plugin: Any) -> str:
    """Where a search parameter goes: `budget`, `options`, `optimizer`, `seed` or `hp`."""
    if name in BUDGET_FIELDS:
        return "budget"
    if name in ROUTED:
        return name
    if name in runner.options:
        return "options"
    if hyperparameters.canonical_name(plugin, name) in plugin.defaults:
        return "hp"
    allowed = sorted({*BUDGET_FIELDS, *ROUTED, *runner.options, *plugin.defaults})
    raise OptbenchError(
        f"unknown search parameter {name!r}: not a budget field, an option of runner "
        f"{runner.name!r} nor a hyperparameter of optimizer {plugin.name!r}; allowed: "
        f"{', '.join(allowed)}"
    )


def wrapped_spec(
    runner_name: str,
    problem: str,
    optimizer: str,
    seed: int,
    fixed: Mapping[str, Any],
    candidate: Mapping[str, Any],
) -> RunSpec:
    """The wrapped runner's spec of one candidate: fixed settings overlaid with its parameters."""
    runner = registry.runner(runner_name)
    parts: dict[str, dict[str, Any]] = {"budget": {}, "options": {}, "hp": {}}
    chosen = {"optimizer": optimizer, "seed": seed}
    settings = dict(fixed) | dict(candidate)
    name = settings.pop("optimizer", optimizer)
    plugin = registry.optimizer(name)
    for key, value in settings.items():
        where = route(key, runner, plugin)
        if where in parts:
            parts[where][key] = value
        else:
            chosen[where] = value
    chosen["optimizer"] = plugin.name
    seed_value = chosen["seed"]
    if isinstance(seed_value, bool) or not isinstance(seed_value, int) or seed_value < 0:
        raise OptbenchError(f"seed must be a non-negative integer, got {seed_value!r}")
    hp = hyperparameters.resolve(plugin, parts["hp"])
    return RunSpec(
        runner=runner.name,
        problem=problem,
        optimizer=plugin.name,
        hyperparameters=freeze(hp),
        seed=seed_value,
        budget=freeze(parts["budget"]),
        options=freeze(parts["options"]),
    )


def fit_spec(
    wrapped: RunSpec,
    cv: Mapping[str, Any],
    fold: int | str,
    backend: str,
    shuffle: str = DEFAULT_SHUFFLE,
) -> RunSpec:
    """The search runner's spec of one fit of `wrapped` on `fold` ("refit": the whole set);
    `shuffle="fold"` is in the key only when given, so default fits keep their keys."""
    extra = {
        f"{PREFIX}runner": wrapped.runner,
        f"{PREFIX}cv": freeze(cv),
        f"{PREFIX}fold": fold,
        f"{PREFIX}backend": backend,
    }
    if shuffle != DEFAULT_SHUFFLE:
        extra[f"{PREFIX}shuffle"] = shuffle
    return RunSpec(
        runner="search",
        problem=wrapped.problem,
        optimizer=wrapped.optimizer,
        hyperparameters=wrapped.hyperparameters,
        seed=wrapped.seed,
        budget=wrapped.budget,
        target=wrapped.target,
        options=freeze(wrapped.opts | extra),
    )


def unwrap(spec: RunSpec) -> tuple[RunSpec, dict[str, Any], int | str, str]:
    """(wrapped spec, cv settings, fold, backend) of a search fit spec."""
    opts = spec.opts
    search = {k.removeprefix(PREFIX): v for k, v in opts.items() if k.startswith(PREFIX)}
    missing = {"runner", "cv", "fold", "backend"} - set(search)
    if missing:
        raise OptbenchError(
            f"spec {spec.key} is not a search fit: options {sorted(missing)} missing "
            "(search fits are made by `optbench search`)"
        )
    wrapped = RunSpec(
        runner=search["runner"],
        problem=spec.problem,
        optimizer=spec.optimizer,
        hyperparameters=spec.hyperparameters,
        seed=spec.seed,
        budget=spec.budget,
        target=spec.target,
        options=freeze({k: v for k, v in opts.items() if not k.startswith(PREFIX)}),
    )
    return wrapped, dict(search["cv"]), search["fold"], search["backend"]


def rewrapped(spec: RunSpec, wrapped: RunSpec) -> RunSpec:
    """The fit spec `spec` (same cv, fold, backend, shuffle) of another wrapped spec."""
    _, cv, fold, backend = unwrap(spec)
    return fit_spec(wrapped, cv, fold, backend, shuffle_of(spec))


def shuffle_of(spec: RunSpec) -> str:
    """A fit's minibatch order: "member" (its own) or "fold" (shared by the fold's fits)."""
    return spec.opts.get(f"{PREFIX}shuffle", DEFAULT_SHUFFLE)


def order_seed(wrapped: RunSpec, cv: Mapping[str, Any], fold: int | str) -> int:
    """The minibatch-order seed every fit of one fold shares under `shuffle = "fold"`: from the
    study's seed, the cv settings and the fold, never from the candidate."""
    text = json.dumps([wrapped.seed, freeze(cv), fold], default=str)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def member_seed(wrapped: RunSpec, fold: int | str, resource: str = "epochs") -> int:
    """A training seed from (seed, configuration without its budget, fold): fits of a
    configuration that differ only in epochs share it, and grouping never changes it."""
    budget = {k: v for k, v in wrapped.budget if k != resource}
    base = dataclasses.replace(wrapped, start=0, budget=freeze(budget))
    digest = hashlib.sha256(f"{base.key}/{fold}".encode()).hexdigest()
    return int(digest[:8], 16) & 0x7FFFFFFF
