"""A search space as optuna distributions: lists → categorical, `loguniform` / `uniform` →
float (log or not), `randint` → int; optuna itself is imported only when a search uses it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from optbench.runners.search import space as spaces

from optbench.errors import OptbenchError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial, Trial

INSTALL_HINT = 'pip install "optbench[optuna]"'
MAPPABLE = ("lists of values", "loguniform", "uniform", "randint")
PRIMITIVE = (type(None), bool, int, float, str)


def require() -> ModuleType:
    """The optuna module, or an OptbenchError saying how to install it."""
    try:
        import optuna
    except ImportError as exc:
        raise OptbenchError(
            f"strategy 'optuna' needs the optuna package, which is not installed: {INSTALL_HINT}"
        ) from exc
    return optuna


@dataclass(frozen=True)
class OptunaSpace:
    """optuna's distributions of a space, and the values behind labelled categorical choices."""

    distributions: dict[str, BaseDistribution]
    labels: dict[str, dict[str, Any]]

    def params(self, trial: Trial | FrozenTrial) -> dict[str, Any]:
        """A trial's parameters as the runner takes them (labels back to their values)."""
        out = {}
        for name in self.distributions:
            value = trial.params[name]
            out[name] = self.labels[name][value] if name in self.labels else value
        return out

    def probes(self) -> list[dict[str, Any]]:
        """Two candidates at the space's ends (low bounds / first choices, then high / last),
        to check every parameter's name and range before training."""
        low, high = {}, {}
        for name, dist in self.distributions.items():
            if hasattr(dist, "choices"):
                first, last = dist.choices[0], dist.choices[-1]
                labels = self.labels.get(name)
                low[name] = labels[first] if labels else first
                high[name] = labels[last] if labels else last
            else:
                low[name], high[name] = dist.low, dist.high
        return [low, high]


def parse(raw: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> OptunaSpace:
    """The study file's `[space]` as optuna distributions (errors name the parameter)."""
    spaces.parse(raw)  # the same checks as grid and random search first
    if not isinstance(raw, Mapping):
        if len(raw) != 1:
            raise OptbenchError(
                f"strategy 'optuna' searches one [space] table, got a list of {len(raw)} "
                "(optuna has no list of grids)"
            )
        raw = raw[0]
    optuna = require()
    distributions: dict[str, BaseDistribution] = {}
    labels: dict[str, dict[str, Any]] = {}
    for name, values in raw.items():
        if isinstance(values, Mapping):
            distributions[name] = _distribution(optuna, name, values)
            continue
        choices = [tuple(v) if isinstance(v, list) else v for v in values]
        if all(isinstance(c, PRIMITIVE) for c in choices):
            distributions[name] = optuna.distributions.CategoricalDistribution(choices)
            continue
        named = {repr(c): c for c in choices}
        if len(named) != len(choices):
            raise OptbenchError(f"parameter {name!r}: its values repeat: {choices!r}")
        labels[name] = named
        distributions[name] = optuna.distributions.CategoricalDistribution(list(named))
    return OptunaSpace(distributions, labels)


def _distribution(optuna: ModuleType, name: str, spec: Mapping[str, Any]) -> BaseDistribution:
    kind = spec["distribution"]
    dists = optuna.distributions
    if kind == "loguniform":
        return dists.FloatDistribution(float(spec["low"]), float(spec["high"]), log=True)
    if kind == "uniform":
        return dists.FloatDistribution(float(spec["low"]), float(spec["high"]))
    if kind == "randint":
        low, high = spec["low"], spec["high"]
        if not (float(low).is_integer() and float(high).is_integer()):
            raise OptbenchError(f"parameter {name!r}: randint needs integers, got {low}, {high}")
        return dists.IntDistribution(int(low), int(high) - 1)  # scipy's high is exclusive
    raise OptbenchError(
        f"parameter {name!r}: distribution {kind!r} has no optuna equivalent (optuna samples "
        f"bounded ranges); allowed with strategy 'optuna': {', '.join(MAPPABLE)}"
    )
