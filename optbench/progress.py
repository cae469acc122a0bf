"""The study progress bar: advanced by each batch's expected work, so its ETA means something.

A runner may say how much work a run is expected to take (`work(spec) -> float`, e.g. its
evaluations or training steps, scaled by how costly one is); runs count 1 each otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm

from optbench.spec import RunSpec

BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {runs} runs [{elapsed}<{remaining}]"


def _unit_work(spec: RunSpec) -> float:
    return 1.0


class _Bar(tqdm):
    """tqdm with a `{runs}` field (runs done / runs to do) beside the work-weighted bar."""

    runs = ""

    @property
    def format_dict(self) -> dict[str, Any]:
        return super().format_dict | {"runs": self.runs}


class StudyBar:
    """A tqdm bar over a study's runs, weighted by the runner's `work(spec)`."""

    def __init__(self, runner: Any, todo: Sequence[RunSpec], name: str, quiet: bool = False):
        self.work = getattr(runner, "work", _unit_work)
        self.runs, self.done = len(todo), 0
        total = sum(self.work(spec) for spec in todo)
        self.bar = _Bar(total=total, disable=quiet, desc=name, bar_format=BAR_FORMAT)
        self.bar.runs = f"0/{self.runs:,}"

    def advance(self, batch: Sequence[RunSpec]) -> None:
        """Count a finished batch: its work on the bar, its runs in the text beside it."""
        self.done += len(batch)
        self.bar.runs = f"{self.done:,}/{self.runs:,}"
        self.bar.update(sum(self.work(spec) for spec in batch))

    def __enter__(self) -> StudyBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
