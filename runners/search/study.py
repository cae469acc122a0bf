"""Search studies: a wrapped runner's fixed settings, a search space, a strategy and its cv."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from optbench.runners.search import cv as cross_validation
from optbench.runners.search import space as spaces

from optbench.errors import OptbenchError
from optbench.spec import BUDGET_FIELDS

TOP_KEYS = {
    "name",
    "description",
    "runner",
    "problem",
    "optimizer",
    "seed",
    "hyperparameters",
    "options",
    "search",
    "space",
    *BUDGET_FIELDS,
}
SEARCH_KEYS = {
    "strategy",
    "cv",
    "n_iter",
    "random_state",
    "refit",
    "factor",
    "min_resources",
    "max_resources",
    "aggressive_elimination",
    "resource",
    "backend",
    "n_trials",
    "trials_per_batch",
    "pruner",
    "tpe",
    "shuffle",
}
BUILTIN_FOLDER = "search"
RESOURCES = {"mnist": "epochs", "landscape": "steps"}  # halving's budget, by wrapped runner


@dataclass(frozen=True)
class SearchStudy:
    """What `optbench search` runs (see README, "Hyperparameter search")."""

    name: str
    space: Any
    runner: str = "mnist"
    problem: str = "mnist"
    optimizer: str = "rmsprop"
    seed: int = 0
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    budget: Mapping[str, Any] = field(default_factory=dict)
    strategy: str = "grid"
    cv: Mapping[str, Any] = field(default_factory=lambda: cross_validation.settings(3))
    n_iter: int | None = None
    random_state: int = 0
    refit: bool = True
    factor: float = 3
    min_resources: int | str = "exhaust"
    max_resources: int | str = "auto"
    aggressive_elimination: bool = False
    resource: str | None = None
    backend: str = "jax"
    n_trials: int | None = None
    trials_per_batch: int = 8
    pruner: str | Mapping[str, Any] | None = None
    tpe: Mapping[str, Any] = field(default_factory=dict)
    shuffle: str = "member"
    description: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str = "search") -> SearchStudy:
        """From a parsed TOML table; unknown keys and a bad space or cv are errors here."""
        unknown = set(data) - TOP_KEYS
        if unknown:
            raise OptbenchError(
                f"unknown search study key(s) {sorted(unknown)}; allowed: "
                f"{', '.join(sorted(TOP_KEYS))}"
            )
        search = dict(data.get("search", {}))
        unknown = set(search) - SEARCH_KEYS
        if unknown:
            raise OptbenchError(
                f"unknown [search] key(s) {sorted(unknown)}; allowed: "
                f"{', '.join(sorted(SEARCH_KEYS))}"
            )
        if "space" not in data:
            raise OptbenchError(f"search study {name!r} has no [space]: give the parameters")
        return cls(
            name=data.get("name", name),
            space=data["space"],
            runner=data.get("runner", "mnist"),
            problem=data.get("problem", "mnist"),
            optimizer=data.get("optimizer", "rmsprop"),
            seed=data.get("seed", 0),
            hyperparameters=dict(data.get("hyperparameters", {})),
            options=dict(data.get("options", {})),
            budget={k: data[k] for k in BUDGET_FIELDS if k in data},
            cv=cross_validation.settings(search.get("cv", 3)),
            description=data.get("description", ""),
            **{k: search[k] for k in SEARCH_KEYS - {"cv"} if k in search},
        ).checked()

    def checked(self) -> SearchStudy:
        """Checks what needs no data or plugin: strategy, space, halving, optuna and refit
        settings."""
        if self.strategy == "optuna":
            from optbench.runners.search import optuna_settings

            optuna_settings.check(self)
        else:
            spaces.candidates(
                spaces.parse(self.space), self.strategy, self.n_iter, self.random_state
            )
        if not isinstance(self.refit, bool):
            raise OptbenchError(f"refit must be true or false, got {self.refit!r}")
        from optbench.runners.search.plugin import check_shuffle

        check_shuffle(self.shuffle, self.runner, self.backend)
        if self.strategy == "halving":
            check_halving(self)
        return self

    @property
    def halving_resource(self) -> str:
        """What halving allocates: the study's `resource`, else the wrapped runner's budget."""
        return self.resource or RESOURCES.get(self.runner, "epochs")

    def fixed(self) -> dict[str, Any]:
        """The settings every candidate starts from (its parameters override them)."""
        return dict(self.options) | dict(self.budget) | dict(self.hyperparameters)


def check_halving(study: SearchStudy) -> None:
    """scikit-learn's rules for factor, min_resources and max_resources, on epochs."""
    if isinstance(study.factor, bool) or not isinstance(study.factor, int | float):
        raise OptbenchError(f"factor must be a number > 1, got {study.factor!r}")
    if study.factor <= 1:
        raise OptbenchError(f"factor must be a number > 1, got {study.factor!r}")
    allowed = RESOURCES.get(study.runner, "epochs")
    if study.halving_resource != allowed:
        raise OptbenchError(
            f"halving's resource for runner {study.runner!r} must be {allowed!r}, "
            f"got {study.resource!r}"
        )
    if not isinstance(study.aggressive_elimination, bool):
        raise OptbenchError(
            f"aggressive_elimination must be true or false, got {study.aggressive_elimination!r}"
        )
    for name in ("min_resources", "max_resources"):
        value = getattr(study, name)
        words = ("exhaust", "smallest") if name == "min_resources" else ("auto",)
        if value in words:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise OptbenchError(
                f"{name} must be a positive integer or {' / '.join(map(repr, words))}, "
                f"got {value!r}"
            )
    if study.halving_resource in {k for grid in spaces.parse(study.space) for k in grid}:
        raise OptbenchError(
            f"halving allocates {study.halving_resource!r} itself: remove it from the search space"
        )
    low, high = study.min_resources, max_resources(study)
    if isinstance(low, int) and low > high:
        raise OptbenchError(
            f"min_resources={low} is larger than max_resources={high} ({study.halving_resource})"
        )


def max_resources(study: SearchStudy) -> int:
    """max_resources, "auto" being the study's epochs budget."""
    if study.max_resources != "auto":
        return int(study.max_resources)
    return int(study.budget.get(study.halving_resource, 10))


def builtin() -> dict[str, str]:
    """The search studies shipped in the package, with their TOML text."""
    folder = resources.files("optbench") / "studies" / BUILTIN_FOLDER
    return {
        entry.name.removesuffix(".toml"): entry.read_text()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def load(name_or_path: str) -> SearchStudy:
    """A built-in search study by name, or a search study TOML file by path."""
    studies = builtin()
    if name_or_path in studies:
        return SearchStudy.from_dict(tomllib.loads(studies[name_or_path]), name=name_or_path)
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise OptbenchError(f"search study file {str(path)!r} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise OptbenchError(f"search study {str(path)!r} is not valid TOML: {exc}") from None
        return SearchStudy.from_dict(data, name=path.stem)
    raise OptbenchError(
        f"unknown search study {name_or_path!r}: not a built-in one ({', '.join(studies)}) "
        "nor a .toml file"
    )
