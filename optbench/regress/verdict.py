"""Verdicts of the regression check and how each bears on the exit status."""

from __future__ import annotations

from dataclasses import dataclass

OK = "ok"
SAME = "same"
IMPROVED = "improved"
FASTER = "faster"
NEW = "new"
MISSING = "missing"
EXEMPT = "exempt"
ADVISORY = "slower (advisory)"
INCONCLUSIVE = "INCONCLUSIVE"
CHANGED = "CHANGED"
REGRESSION = "REGRESSION"
HARD_FAIL = "HARD FAIL"

FAILING = frozenset({REGRESSION, HARD_FAIL})
WARNING = frozenset({INCONCLUSIVE, ADVISORY, CHANGED})


@dataclass(frozen=True)
class Finding:
    """One judged figure: the time of a benchmark or one of its quality figures."""

    benchmark: str
    figure: str
    base: str
    head: str
    ratio: str
    p: float | None
    verdict: str
    why: str = ""

    @property
    def failing(self) -> bool:
        return self.verdict in FAILING

    @property
    def warning(self) -> bool:
        return self.verdict in WARNING
