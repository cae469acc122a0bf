"""Studies: problems × optimizers × hyperparameter grids × seeds × starts, expanded to RunSpecs."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from optbench import hyperparameters, registry, schema, suites
from optbench.errors import OptbenchError
from optbench.spec import BUDGET_FIELDS, RunSpec, freeze
from optbench.textform import parse_optimizer

RUN_FIELDS = ("seed", "seeds", "starts", "target")


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
        named = isinstance(item, Mapping) and isinstance(item.get("name"), str)
        item = schema.optimizer_entry(item, f"optimizer {item['name']!r}" if named else "optimizer")
        name, hp = parse_optimizer(item["name"])
        grid = {
            k: list(v) if isinstance(v, list | tuple) else [v]
            for k, v in item.get("grid", {}).items()
        }
        options = dict(item.get("options", {}))
        hp |= dict(item.get("hyperparameters", {}))
        return cls(name, hp, grid, options, item.get("starts"))

    def settings(self) -> list[dict[str, Any]]:
        """Every hyperparameter setting: the fixed values with each point of the grid."""
        if not self.grid:
            return [dict(self.hyperparameters)]
        from sklearn.model_selection import ParameterGrid  # 1-2 s to import: only for grids

        points = list(ParameterGrid(dict(self.grid)))
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
    def from_dict(cls, data: Mapping[str, Any], name: str = "adhoc", source: str = "") -> Study:
        """From a parsed TOML table (see README, "Study files"), checked against
        `optbench.schema`; `source` names the file in error messages."""
        fields = schema.validate(data, source or f"study {name!r}")
        return cls(
            name=fields.get("name", name),
            runner=fields.get("runner", "landscape"),
            problems=tuple(fields.get("problems", ())),
            optimizers=tuple(OptimizerEntry.parse(o) for o in fields.get("optimizers", [])),
            seeds=tuple(fields.get("seeds", (0,))),
            starts=fields.get("starts", 1),
            budget={k: fields[k] for k in BUDGET_FIELDS if k in fields},
            target=fields.get("target"),
            options=fields.get("options", {}),
            description=fields.get("description", ""),
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> Study:
        path = Path(path)
        source = f"study file {str(path)!r}"
        try:
            data = tomllib.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise OptbenchError(f"study file {str(path)!r} does not exist") from None
        except IsADirectoryError:
            raise OptbenchError(f"{source} is a folder, not a TOML file") from None
        except UnicodeDecodeError as exc:
            raise OptbenchError(
                f"{source} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise OptbenchError(f"{source} is not valid TOML: {exc}") from None
        return cls.from_dict(data, name=path.stem, source=source)

    def specs(self) -> list[RunSpec]:
        """Every run, in order problems × optimizers × settings × seeds × starts, validated."""
        runner = registry.runner(self.runner)
        if not self.problems or not self.optimizers:
            raise OptbenchError(
                f"study {self.name!r} needs at least one problem and one optimizer "
                f"(problems={list(self.problems)}, optimizers={[o.name for o in self.optimizers]})"
            )
        self._check_run_fields()
        given = set(self.options).union(*(entry.options for entry in self.optimizers))
        _check_options(given, runner, "")
        problems = [p for text in self.problems for p in suites.expand(text)]
        budget = freeze(self.budget)
        settings = [
            (entry, plugin, [freeze(hyperparameters.resolve(plugin, s)) for s in entry.settings()])
            for entry in self.optimizers
            for plugin in [registry.optimizer(entry.name)]
        ]
        seeds = [int(seed) for seed in self.seeds]
        specs, firsts = [], []
        for problem_text in problems:
            problem, problem_options = parse_optimizer(problem_text)
            _check_options(set(problem_options), runner, f" in {problem_text!r}")
            for entry, plugin, resolved in settings:
                options = freeze(dict(self.options) | problem_options | dict(entry.options))
                for hp in resolved:
                    template = RunSpec(
                        runner=runner.name,
                        problem=problem,
                        optimizer=plugin.name,
                        hyperparameters=hp,
                        budget=budget,
                        target=self.target,
                        options=options,
                    )
                    copies = template.copies(seeds, entry.starts or self.starts)
                    specs.extend(copies)
                    firsts.extend(copies[:2])  # start 0 and, when there are more, start 1
        check = getattr(runner, "check", None)
        if check is not None:
            for spec in _first_per_problem_and_optimizer(firsts):
                check(spec)
        return specs

    def _check_run_fields(self) -> None:
        """Seeds, starts, target and budget by their types (`optbench.schema.RUN_FIELDS`)."""
        source = f"study {self.name!r}:"
        schema.run_field("starts", self.starts, source)
        schema.run_field("seeds", list(self.seeds), source)
        if self.target is not None:
            schema.run_field("target", self.target, source)
        for name, value in dict(self.budget).items():
            if name in schema.RUN_FIELDS:
                schema.run_field(name, value, source)


def _check_options(given: set[str], runner: Any, where: str) -> None:
    """Every option name is one the runner takes; the closest valid name is suggested."""
    for name in sorted(given - set(runner.options)):
        close = difflib.get_close_matches(name, list(runner.options), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise OptbenchError(
            f"unknown option {name!r}{where} for runner {runner.name!r}{hint}; "
            f"valid: {', '.join(sorted(runner.options)) or '(none)'}"
        )


def _first_per_problem_and_optimizer(specs: Iterable[RunSpec]) -> list[RunSpec]:
    """The specs `check` sees: the first of each setting, and its first later start."""
    seen, out = set(), []
    for spec in specs:
        key = (spec.problem, spec.options, spec.optimizer, spec.hyperparameters, spec.start > 0)
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
        data = tomllib.loads(builtin[name_or_path])
        return Study.from_dict(data, name=name_or_path, source=f"built-in study {name_or_path!r}")
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return Study.from_toml(path)
    raise OptbenchError(
        f"unknown study {name_or_path!r}: not a built-in study ({', '.join(builtin)}) "
        "nor a .toml file"
    )
