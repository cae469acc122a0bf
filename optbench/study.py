"""Studies: problems × optimizers × hyperparameter grids × seeds × starts, expanded to RunSpecs."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sklearn.model_selection import ParameterGrid

from optbench import hyperparameters, registry, suites
from optbench.errors import OptbenchError
from optbench.spec import BUDGET_FIELDS, RunSpec, freeze
from optbench.textform import parse_optimizer

RUN_FIELDS = ("seed", "seeds", "starts", "target")
STUDY_KEYS = {
    "name",
    "description",
    "runner",
    "problems",
    "landscapes",
    "optimizers",
    "options",
    *RUN_FIELDS,
    *BUDGET_FIELDS,
}


@dataclass(frozen=True)
class OptimizerEntry:
    """One optimizer of a study: fixed hyperparameters, a grid to sweep, its own runner options."""

    name: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    starts: int | None = None

    @classmethod
    def parse(cls, item: str | Mapping[str, Any]) -> OptimizerEntry:
        """From `"sgd:lr=0.1"` or a table `{name=, hyperparameters=, grid=, options=, starts=}`
        (`starts` overrides the study's for this optimizer)."""
        if isinstance(item, str):
            name, hp = parse_optimizer(item)
            return cls(name, hp)
        unknown = set(item) - {"name", "hyperparameters", "grid", "options", "starts"}
        if "name" not in item or unknown:
            raise OptbenchError(
                f"malformed optimizer entry {dict(item)!r}: keys are name, hyperparameters, "
                "grid, options, starts"
            )
        starts = item.get("starts")
        if starts is not None and (type(starts) is not int or starts < 1):
            raise OptbenchError(
                f"optimizer {item['name']!r}: starts must be a positive integer, got {starts!r}"
            )
        name, hp = parse_optimizer(item["name"])
        grid = {
            k: list(v) if isinstance(v, list | tuple) else [v]
            for k, v in item.get("grid", {}).items()
        }
        options = dict(item.get("options", {}))
        return cls(name, hp | dict(item.get("hyperparameters", {})), grid, options, starts)

    def settings(self) -> list[dict[str, Any]]:
        """Every hyperparameter setting: the fixed values with each point of the grid."""
        points = list(ParameterGrid(dict(self.grid))) if self.grid else [{}]
        return [dict(self.hyperparameters) | point for point in points]


@dataclass(frozen=True)
class Study:
    """A benchmark definition; `specs()` expands it into one RunSpec per run."""

    name: str = "adhoc"
    runner: str = "landscape"
    problems: tuple[str, ...] = ()
    optimizers: tuple[OptimizerEntry, ...] = ()
    seeds: tuple[int, ...] = (0,)
    starts: int = 1
    budget: Mapping[str, Any] = field(default_factory=dict)
    target: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str = "adhoc") -> Study:
        """From a parsed TOML table (see README, "Study files")."""
        unknown = set(data) - STUDY_KEYS
        if unknown:
            raise OptbenchError(
                f"unknown study key(s) {sorted(unknown)}; allowed: {', '.join(sorted(STUDY_KEYS))}"
            )
        problems = data.get("problems", data.get("landscapes", []))
        seeds = data.get("seeds", [data.get("seed", 0)])
        return cls(
            name=data.get("name", name),
            runner=data.get("runner", "landscape"),
            problems=tuple([problems] if isinstance(problems, str) else problems),
            optimizers=tuple(OptimizerEntry.parse(o) for o in data.get("optimizers", [])),
            seeds=tuple(seeds if isinstance(seeds, list) else [seeds]),
            starts=int(data.get("starts", 1)),
            budget={k: data[k] for k in BUDGET_FIELDS if k in data},
            target=data.get("target"),
            options=dict(data.get("options", {})),
            description=data.get("description", ""),
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> Study:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise OptbenchError(f"study file {str(path)!r} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise OptbenchError(f"study file {str(path)!r} is not valid TOML: {exc}") from None
        return cls.from_dict(data, name=path.stem)

    def specs(self) -> list[RunSpec]:
        """Every run, in order problems × optimizers × settings × seeds × starts, validated."""
        runner = registry.runner(self.runner)
        if not self.problems or not self.optimizers:
            raise OptbenchError(
                f"study {self.name!r} needs at least one problem and one optimizer "
                f"(problems={list(self.problems)}, optimizers={[o.name for o in self.optimizers]})"
            )
        if self.starts < 1:
            raise OptbenchError(f"starts must be a positive integer, got {self.starts!r}")
        given = set(self.options).union(*(entry.options for entry in self.optimizers))
        unknown = given - set(runner.options)
        if unknown:
            raise OptbenchError(
                f"unknown option(s) {sorted(unknown)} for runner {runner.name!r}; "
                f"valid: {', '.join(sorted(runner.options)) or '(none)'}"
            )
        problems = [p for text in self.problems for p in suites.expand(text)]
        budget = freeze(self.budget)
        specs = []
        for problem_text in problems:
            problem, problem_options = parse_optimizer(problem_text)
            for entry in self.optimizers:
                plugin = registry.optimizer(entry.name)
                options = freeze(dict(self.options) | problem_options | dict(entry.options))
                for setting in entry.settings():
                    hp = freeze(hyperparameters.resolve(plugin, setting))
                    specs.extend(
                        RunSpec(
                            runner=runner.name,
                            problem=problem,
                            optimizer=plugin.name,
                            hyperparameters=hp,
                            seed=int(seed),
                            start=start,
                            budget=budget,
                            target=self.target,
                            options=options,
                        )
                        for seed in self.seeds
                        for start in range(entry.starts or self.starts)
                    )
        check = getattr(runner, "check", None)
        if check is not None:
            for spec in _first_per_problem_and_optimizer(specs):
                check(spec)
        return specs


def _first_per_problem_and_optimizer(specs: Iterable[RunSpec]) -> list[RunSpec]:
    seen, out = set(), []
    for spec in specs:
        key = (spec.problem, spec.options, spec.optimizer, spec.hyperparameters)
        if key not in seen:
            seen.add(key)
            out.append(spec)
    return out


def builtin_studies() -> dict[str, str]:
    """Names of the studies shipped in the package, with their TOML text."""
    folder = resources.files("optbench") / "studies"
    return {
        entry.name.removesuffix(".toml"): entry.read_text()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def load_study(name_or_path: str) -> Study:
    """A built-in study by name, or a study TOML file by path."""
    builtin = builtin_studies()
    if name_or_path in builtin:
        return Study.from_dict(tomllib.loads(builtin[name_or_path]), name=name_or_path)
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return Study.from_toml(path)
    raise OptbenchError(
        f"unknown study {name_or_path!r}: not a built-in study ({', '.join(builtin)}) "
        "nor a .toml file"
    )
