"""run_study: lanes run side by side, every finished batch is written, a failure is a row."""

from __future__ import annotations

import threading
from typing import ClassVar

import pandas as pd
import pytest

from optbench import execute, registry
from optbench.contracts import CURVE_COLUMNS, RunResult
from optbench.study import OptimizerEntry, Study


class LaneRunner:
    """Puts batches of `fail_on` in lane "b" and fails them; remembers which thread ran what."""

    name = "lanes"
    options: ClassVar[dict] = {}

    def __init__(self, fail_on: str | None = None):
        self.fail_on = fail_on
        self.threads: dict[str, set[str]] = {}

    def batches(self, specs):
        by_problem: dict[str, list] = {}
        for spec in specs:
            by_problem.setdefault(spec.problem, []).append(spec)
        return list(by_problem.values())

    def lane(self, batch) -> str:
        return "b" if batch[0].problem in ("beta", "gamma") else "a"

    def run(self, batch) -> RunResult:
        problem = batch[0].problem
        self.threads.setdefault(self.lane(batch), set()).add(threading.current_thread().name)
        if problem == self.fail_on:
            raise RuntimeError(f"{problem} broke")
        rows = pd.DataFrame(
            {"run_key": [s.key for s in batch], "problem": problem, "f_final": 1.0}
        ).assign(**{"start": [s.start for s in batch]})
        return RunResult(rows, pd.DataFrame(columns=CURVE_COLUMNS))


def _study() -> Study:
    return Study(
        runner="lanes",
        problems=("alpha", "beta", "gamma", "delta"),
        optimizers=(OptimizerEntry("sgd"),),
        starts=3,
    )


@pytest.fixture
def lanes(monkeypatch):
    def use(runner: LaneRunner) -> LaneRunner:
        monkeypatch.setattr(registry, "runner", lambda name: runner)
        return runner

    return use


def test_lanes_run_in_their_own_threads_and_every_batch_is_written(lanes, tmp_path):
    runner = lanes(LaneRunner())
    outcome = execute.run_study(_study(), tmp_path, quiet=True)
    rows = outcome.results.runs
    assert sorted(rows["problem"].unique()) == ["alpha", "beta", "delta", "gamma"]
    assert len(rows) == 12 and outcome.ran == 12
    assert all(len(names) == 1 for names in runner.threads.values())
    assert runner.threads["a"] != runner.threads["b"]


def test_a_failing_batch_becomes_error_rows_and_the_other_lane_completes(lanes, tmp_path):
    lanes(LaneRunner(fail_on="gamma"))
    rows = execute.run_study(_study(), tmp_path, quiet=True).results.runs
    assert len(rows) == 12
    failed = rows[rows["status"] == "error"]
    assert sorted(failed["problem"]) == ["gamma"] * 3
    assert set(failed["message"]) == {"RuntimeError: gamma broke"}
    assert rows.loc[rows["status"] != "error", "f_final"].eq(1.0).all()


def test_duplicate_specs_run_once_and_are_not_counted_as_stored(lanes, tmp_path):
    lanes(LaneRunner())
    study = Study(runner="lanes", problems=("alpha", "alpha"),
                  optimizers=(OptimizerEntry("sgd"),), starts=2)  # fmt: skip
    first = execute.run_study(study, tmp_path, quiet=True)
    assert (first.ran, first.skipped) == (2, 0)
    again = execute.run_study(study, tmp_path, quiet=True)
    assert (again.ran, again.skipped) == (0, 2)
