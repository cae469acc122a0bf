"""Thresholds of the regression check: defaults, `[tool.optbench.regress]`, per-benchmark globs."""

from __future__ import annotations

import dataclasses
import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optbench.errors import OptbenchError


@dataclass(frozen=True)
class Settings:
    """Every threshold `optbench regress` applies (README: "Benchmarks and the regression gate")."""

    threshold: float = 0.25
    alpha: float = 0.01
    floor_ms: float = 1.0
    min_rounds: int = 5
    hard_ratio: float = 2.0
    advisory_hard_ratio: float = 4.0
    cross_model_hard_ratio: float = 8.0
    confidence: float = 0.95
    rel_tol: float = 1e-12
    success_fraction: float = 0.05
    sign_alpha: float = 0.05
    evaluations_ratio: float = 1.10
    wilcoxon_alpha: float = 0.05
    gap_decades: float = 0.5
    gap_floor: float = 1e-12
    accuracy_tolerance_quick: float = 0.5
    accuracy_tolerance_full: float = 0.3
    accuracy_se: float = 3.0

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes`; a name that is no setting is an error listing the valid ones."""
        known = {f.name: f.type for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise OptbenchError(
                    f"unknown regress setting {name!r}; valid: {', '.join(sorted(known))}"
                )
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise OptbenchError(f"regress setting {name}={value!r} must be a number")
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Config:
    """Settings for every benchmark, and overrides for those whose name matches a glob."""

    base: Settings = Settings()
    overrides: tuple[tuple[str, dict[str, Any]], ...] = ()

    def for_benchmark(self, name: str, fullname: str) -> Settings:
        """The settings of one benchmark: later matching globs win."""
        settings = self.base
        for pattern, changes in self.overrides:
            if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(fullname, pattern):
                settings = settings.replace(**changes)
        return settings


def from_pyproject(path: Path | None, command_line: dict[str, Any]) -> Config:
    """`[tool.optbench.regress]` of `path` (when given and present), then the command line's
    values, which win over the file's base settings and its overrides alike."""
    table: dict[str, Any] = {}
    if path is not None and path.exists():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise OptbenchError(f"{path} is not valid TOML ({exc})") from None
        table = table.get("tool", {}).get("optbench", {}).get("regress", {})
    overrides = table.pop("overrides", {})
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise OptbenchError(
            "[tool.optbench.regress.overrides] must map a glob to a table of settings, e.g. "
            '"*bench_study*" = { threshold = 0.5 }'
        )
    base = Settings().replace(**table).replace(**command_line)
    for changes in overrides.values():
        Settings().replace(**changes)
    ordered = tuple((glob, {**changes, **command_line}) for glob, changes in overrides.items())
    return Config(base, ordered)
