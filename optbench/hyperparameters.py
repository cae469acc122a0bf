"""Hyperparameters: aliases, defaults and validation against an optimizer plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optbench import inject
from optbench.contracts import OptimizerPlugin
from optbench.errors import OptbenchError

ALIASES = {
    "lr": "learning_rate",
    "beta_1": "b1",
    "b1": "beta_1",
    "beta_2": "b2",
    "b2": "beta_2",
    "epsilon": "eps",
    "eps": "epsilon",
}


def canonical_name(plugin: OptimizerPlugin, name: str) -> str:
    """The plugin's own spelling of a hyperparameter name (`lr` → `learning_rate`).

    optax and Keras spell some names differently (`b1`/`beta_1`, `eps`/`epsilon`); either
    spelling is accepted by both, and a plugin may add its own `aliases` mapping.
    """
    name = name.replace("-", "_")
    if name in plugin.defaults:
        return name
    aliases = ALIASES | dict(getattr(plugin, "aliases", {}) or {})
    alias = aliases.get(name)
    return alias if alias in plugin.defaults else name


def resolve(plugin: OptimizerPlugin, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with `given`; an unknown name is an error listing the valid ones."""
    chosen = {}
    for name, value in given.items():
        canonical = canonical_name(plugin, name)
        if canonical not in plugin.defaults:
            valid = ", ".join(sorted(plugin.defaults)) or "(none)"
            raise OptbenchError(
                f"unknown hyperparameter {name!r} for optimizer {plugin.name!r}; valid: {valid}"
            )
        chosen[canonical] = value
    defaults = inject.defaults(plugin.name, plugin.defaults)
    merged = {k: v for k, v in defaults.items() if v is not None} | chosen
    validate = getattr(plugin, "validate", None)
    return dict(validate(merged)) if validate is not None else merged
